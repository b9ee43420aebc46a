"""--metric-crs auto: the metric CRS comes from where the data is (issue 12, point 6)."""

from __future__ import annotations

import geopandas as gpd
import pytest
from helpers.validate_data import grids
from shapely import box

from gridkit.crs import auto_metric_crs, to_metric
from gridkit.errors import InputError
from gridkit.validate import validate


@pytest.mark.parametrize(("lon", "lat", "epsg"), [
    (113.3, 23.1, "EPSG:4547"),   # Guangzhou stays on CM 114E
    (114.06, 22.54, "EPSG:4547"),  # Shenzhen
    (116.4, 39.9, "EPSG:4548"),   # Beijing, CM 117E
    (121.47, 31.23, "EPSG:4549"),  # Shanghai, CM 120E (118.5-121.5E)
    (87.6, 43.8, "EPSG:4538"),    # Urumqi, CM 87E
    (-73.9, 40.7, "EPSG:32618"),  # New York, UTM 18N
    (151.2, -33.9, "EPSG:32756"),  # Sydney, UTM 56S
])
def test_auto_picks_the_zone_of_the_centre(lon, lat, epsg):
    assert auto_metric_crs(lon, lat) == epsg


def test_layer_elsewhere_gets_its_own_zone_and_a_warning_for_a_foreign_crs():
    beijing = gpd.GeoDataFrame(geometry=[box(116.30, 39.90, 116.31, 39.91)], crs=4490)
    assert to_metric(beijing).crs.to_epsg() == 4548
    layer = grids().to_crs(4490)
    moved = layer.set_geometry(layer.geometry.translate(116.4 - 114.0, 39.9 - 23.1))
    result = validate(moved, lang="en")
    assert result.to_dict()["metric_crs"] == "EPSG:4548"
    forced = validate(moved, lang="en", metric_crs="EPSG:4547")
    assert any("meant for 112.5-115.5°E" in n and "automatic choice here is EPSG:4548" in n
               for n in forced.notes)
    assert not any("meant for" in n for n in result.notes)


def test_a_crs_in_feet_is_refused_with_a_suggestion_that_fits_the_data():
    beijing = gpd.GeoDataFrame(geometry=[box(116.30, 39.90, 116.31, 39.91)], crs=4490)
    with pytest.raises(InputError, match=r"not a projected CRS in metres") as caught:
        to_metric(beijing, "EPSG:2263")  # New York Long Island, US feet
    assert caught.value.cli_message().endswith("use --metric-crs auto (here EPSG:4548)")
