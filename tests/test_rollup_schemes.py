"""--by roll-ups for codes outside the statistical scheme (issue 12, point 5)."""

from __future__ import annotations

import pandas as pd

from gridkit.codes import code_names, load_divisions
from gridkit.rollup import rollup

OTHER = pd.DataFrame({
    "grid_code": ["N1-01", "N1-02", "N2-01", "S1-01", "S1-02"],
    "community_code": ["N1", "N1", "N2", "S1", "S1"],
    "street_code": ["N", "N", "N", "S", "S"],
    "district_code": ["D7", "D7", "D7", "D7", "D7"],
    "filed": [True, False, True, True, True],
})


def test_other_scheme_rolls_up_by_the_layer_columns_with_codes_as_names():
    district = rollup(OTHER, "district", ["filed"], names={}, lang="en")
    assert district.to_dict("list") == {"code": ["D7"], "name": ["D7"], "grids": [5],
                                        "filed": [4]}
    street = rollup(OTHER, "street", ["filed"], names={"N": "North street"})
    assert street[["code", "name", "grids"]].values.tolist() == [["N", "North street", 3],
                                                                 ["S", "S", 2]]
    assert rollup(OTHER, "community", ["filed"], names={})["code"].tolist() == ["N1", "N2", "S1"]


def test_never_a_row_per_grid_and_one_whole_city_row():
    bare = OTHER.drop(columns=["street_code", "district_code"])
    district = rollup(bare, "district", ["filed"], names={}, lang="en")
    assert district[["code", "name", "grids"]].values.tolist() == [["", "unknown", 5]]
    city = rollup(bare, "city", ["filed"], names={})
    assert city[["code", "name", "grids"]].values.tolist() == [["", "全市", 5]]


def test_statistical_codes_of_any_city_are_named_from_the_national_list():
    shenzhen = pd.DataFrame({"grid_code": ["440304001001001", "440304001001002"],
                             "community_code": ["440304001001", "440304001001"],
                             "filed": [True, False]})
    names = code_names(load_divisions())
    street = rollup(shenzhen, "street", ["filed"], names=names)
    assert street[["code", "name"]].values.tolist() == [["440304001", names["440304001"]]]
    assert rollup(shenzhen, "city", ["filed"], names=names)["name"].tolist() == ["深圳市"]


def test_names_kept_for_the_layer_name_every_unit_of_every_level():
    """load_divisions(within=layer_codes(layer)) loses no name a roll-up prints."""
    from gridkit.data import SAMPLE_DIR
    from gridkit.io import read_layer
    from gridkit.rollup import BY_LEVELS, layer_codes

    mixed = pd.concat([read_layer(SAMPLE_DIR / "grids.gpkg").drop(columns="geometry").assign(
        filed=True), OTHER.assign(street_code=["440304001"] * 3 + ["S"] * 2)])
    whole = code_names(load_divisions())
    kept = code_names(load_divisions(within=layer_codes(mixed)))
    assert 0 < len(kept) < len(whole) / 100
    for by in BY_LEVELS:
        assert rollup(mixed, by, ["filed"], names=kept).equals(
            rollup(mixed, by, ["filed"], names=whole)), by
