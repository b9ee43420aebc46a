"""The heat map of a year of work orders, binned chunk by chunk (report, map events)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridkit.crs import valid_coordinate_mask
from gridkit.data import SAMPLE_DIR
from gridkit.io import read_layer, read_table
from gridkit.maps import HeatBins, heat_points
from gridkit.maps.model import HeatTheme
from gridkit.maps.pipeline import MapSettings, events_map_from_files


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return read_table(SAMPLE_DIR / "events.parquet", "events")


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_chunks_bin_exactly_as_all_at_once(orders, parts):
    lon, lat = orders["lon"].to_numpy(float), orders["lat"].to_numpy(float)
    whole = heat_points(lon, lat, max_points=500)
    bins = HeatBins()
    order = np.random.default_rng(parts).permutation(len(lon))  # chunk order is irrelevant
    for chunk in np.array_split(order, parts):
        bins.add(lon[chunk], lat[chunk])
    chunked = bins.points(max_points=500)
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked.attrs == whole.attrs and len(chunked) <= 500
    assert bins.events == valid_coordinate_mask(lon, lat, "wgs84").sum() < len(lon)


def test_map_events_streams_the_file_and_draws_every_order(orders):
    grids = read_layer(SAMPLE_DIR / "grids.gpkg")
    result = events_map_from_files(grids, MapSettings(lang="zh"), SAMPLE_DIR / "events.parquet")
    (theme,) = [t for t in result.themes if isinstance(t, HeatTheme)]
    expected = heat_points(orders["lon"].to_numpy(float), orders["lat"].to_numpy(float))
    pd.testing.assert_frame_equal(theme.points, expected)


def test_points_and_heat_together_are_refused(orders):
    from gridkit.maps import events_map

    grids = read_layer(SAMPLE_DIR / "grids.gpkg")
    with pytest.raises(ValueError, match="not both"):
        events_map(grids, pd.DataFrame({"code": [], "events": []}), points=orders,
                   heat=HeatBins())
