
var gk = {
  decode: function (src) {
    if (src.fc) { return src.fc; }
    var s = src.scale, code = new Int8Array(128);
    for (var c = 0; c < 64; c++) { code[src.alphabet.charCodeAt(c)] = c; }
    function line(r) {
      var out = [], x = 0, y = 0, i = 0;
      function next() {
        var v = 0, shift = 0, b;
        do { b = code[r.charCodeAt(i++)]; v |= (b & 31) << shift; shift += 5; } while (b & 32);
        return (v >>> 1) ^ -(v & 1);
      }
      while (i < r.length) { x += next(); y += next(); out.push([x / s, y / s]); }
      return out;
    }
    var geometry = {
      P: function (g) {
        return {type: 'MultiPolygon', coordinates: g.map(function (p) { return p.map(line); })};
      },
      L: function (g) { return {type: 'MultiLineString', coordinates: g.map(line)}; },
      X: function (g) { return {type: 'MultiPoint', coordinates: line(g)}; }
    };
    src.fc = {type: 'FeatureCollection', features: src.features.map(function (f) {
      var p = {};
      src.keys.forEach(function (k, j) {
        var v = f[0][j];
        if (v !== null) { p[k] = k in src.dicts ? src.dicts[k][v] : v; }
      });
      return {type: 'Feature', properties: p, geometry: geometry[f[1]](f[2])};
    })};
    return src.fc;
  },
  layer: function (src, spec) {
    var layer = L.geoJson(null, {
      interactive: spec.tip.length > 0,
      style: function (f) {
        var c = spec.pal[spec.k === null ? 0 : f.properties[spec.k]];
        var thin = layer._map && layer._map.getZoom() < spec.z;
        return {color: spec.stroke || c, weight: thin ? 0 : spec.w, opacity: 0.9, fillColor: c,
                fillOpacity: spec.fo};
      },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, {radius: 5}); }
    });
    if (spec.tip.length) {
      layer.bindTooltip(function (l) {
        var p = l.feature.properties;
        return '<table class="gk-tip">' + spec.tip.map(function (t) {
          return '<tr><th>' + t[1] + '</th><td>' + (p[t[0]] === undefined ? '-' : p[t[0]]) +
            '</td></tr>';
        }).join('') + '</table>';
      }, {sticky: true});
    }
    var thin = null;
    function restyle() {
      if (layer._map && (layer._map.getZoom() < spec.z) !== thin) {
        thin = !thin;
        layer.resetStyle();
      }
    }
    layer.on('add', function () {
      if (thin === null) {
        thin = layer._map.getZoom() < spec.z;
        layer.addData(gk.decode(src));
        layer._map.on('zoomend', restyle);
      }
      restyle();
    });
    return layer;
  }
};
