
var gk = {
  // A source whose geometry the parent document holds once for several maps (a report).
  share: function (shapes, src) {
    src.arcs = shapes.arcs;
    src.features = src.features.map(function (f, i) { return [f[0]].concat(shapes.geoms[i]); });
    return src;
  },
  decode: function (src) {
    if (src.fc) { return src.fc; }
    var s = src.scale, code = new Int8Array(128);
    for (var c = 0; c < 64; c++) { code[src.alphabet.charCodeAt(c)] = c; }
    // The zigzag varints of a text, 5 bits a character (see gridkit/maps/encoding.py).
    function values(r) {
      var out = [], v = 0, shift = 0;
      for (var i = 0; i < r.length; i++) {
        var b = code[r.charCodeAt(i)];
        v |= (b & 31) << shift; shift += 5;
        if (!(b & 32)) { out.push((v >>> 1) ^ -(v & 1)); v = 0; shift = 0; }
      }
      return out;
    }
    function line(r) {
      var d = values(r), out = [], x = 0, y = 0;
      for (var i = 0; i < d.length; i += 2) { x += d[i]; y += d[i + 1]; out.push([x / s, y / s]); }
      return out;
    }
    // Shared edges: arcs chained one to the next, rings as chained arc references.
    var arcs = [], ax = 0, ay = 0, ref = 0;
    (src.arcs || []).forEach(function (r) {
      var d = values(r), out = [];
      for (var i = 0; i < d.length; i += 2) { ax += d[i]; ay += d[i + 1]; out.push([ax / s, ay / s]); }
      arcs.push(out);
    });
    function ring(r) {
      var out = [];
      values(r).forEach(function (step) {
        ref += step;
        var arc = arcs[ref >> 1];
        if (ref & 1) { arc = arc.slice().reverse(); }
        out = out.concat(out.length ? arc.slice(1) : arc);
      });
      return out;
    }
    var geometry = {
      P: function (g) {
        return {type: 'MultiPolygon', coordinates: g.map(function (p) { return p.map(line); })};
      },
      T: function (g) {
        return {type: 'MultiPolygon', coordinates: g.map(function (p) { return p.map(ring); })};
      },
      L: function (g) { return {type: 'MultiLineString', coordinates: g.map(line)}; },
      X: function (g) { return {type: 'MultiPoint', coordinates: line(g)}; }
    };
    var previous = {}, fronts = {};
    (src.fronts || []).forEach(function (k) { fronts[k] = true; previous[k] = ''; });
    src.fc = {type: 'FeatureCollection', features: src.features.map(function (f) {
      var p = {};
      src.keys.forEach(function (k, j) {
        var v = f[0][j];
        if (v === null) { return; }
        if (fronts[k]) {  // front-coded: the shared prefix length, then the rest
          v = previous[k] = previous[k].slice(0, code[v.charCodeAt(0)]) + v.slice(1);
        }
        p[k] = k in src.dicts ? src.dicts[k][v] : v;
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
                fillOpacity: spec.fo, dashArray: spec.d ? '6 4' : null};
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
    if (spec.href) {  // a feature that opens a page (an overview's district pages)
      layer.on('click', function (e) {
        var href = e.layer.feature.properties[spec.href];
        if (href) { window.open(href, '_top'); }
      });
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
  },
  // The layer panel (switch and legend in one) and the footer become Leaflet controls, so
  // that Leaflet stacks them in their corners with the zoom, scale and attribution controls.
  panel: function (map, layers) {
    var doc = map.getContainer().ownerDocument;
    function control(el, position) {
      var C = L.Control.extend({onAdd: function () { return el; }});
      el.classList.add('leaflet-control');
      L.DomEvent.disableClickPropagation(el);
      L.DomEvent.disableScrollPropagation(el);
      new C({position: position}).addTo(map);
    }
    var panel = doc.querySelector('.gk-layers'), footer = doc.querySelector('.gk-footer');
    control(panel, 'topright');
    control(footer, 'bottomleft');
    var rows = Array.prototype.slice.call(panel.querySelectorAll('.gk-row'));
    function sync() {
      rows.forEach(function (row) {
        var on = map.hasLayer(layers[row.dataset.layer]);
        row.querySelector('input').checked = on;
        row.classList.toggle('gk-on', on);
      });
    }
    rows.forEach(function (row) {
      var input = row.querySelector('input');
      input.addEventListener('change', function () {
        if (input.type === 'radio') {
          rows.forEach(function (other) {
            var o = other.querySelector('input');
            if (o !== input && o.name === input.name) { map.removeLayer(layers[other.dataset.layer]); }
          });
        }
        if (input.checked) { map.addLayer(layers[row.dataset.layer]); }
        else { map.removeLayer(layers[row.dataset.layer]); }
        sync();
      });
    });
    sync();
  }
};
