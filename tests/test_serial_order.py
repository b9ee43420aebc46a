"""code_serial_order: no crash on ungrouped rows, no false alarms, permutations caught.

Layers come from tests/random_layers.py (random rectangle partitions, not
``gridkit synth``), numbered in reading order with a chosen row height.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers.random_layers import layer, permute_serials

from gridkit.validate import RuleConfig, validate

#: Only the rule under test, so each run is quick.
ONLY_SERIAL = RuleConfig.from_mapping({"severity": {
    r: "off" for r in ("overlap", "gap", "sliver", "multipart", "area_out_of_range",
                       "outside_community", "code_unknown_community", "code_community_mismatch")}})


def flagged(grids, comm=None, ref=None, config=ONLY_SERIAL) -> dict[str, list[str]]:
    """Community → grid codes of each code_serial_order finding."""
    result = validate(grids, comm, ref, config=config, lang="en")
    rows = result.findings[result.findings["rule"] == "code_serial_order"]
    return {codes[0][:12]: list(codes) for codes in rows["grid_codes"]}


def test_rows_not_grouped_by_community_with_several_bad_communities():
    grids, comm = layer(seed=3, communities=5, grids=(5, 8))
    ref = grids.copy()
    bad = sorted(comm["community_code"])[:3]
    for c in bad:  # reverse the serials: the last grid in reading order becomes 001
        rows = np.flatnonzero(grids["community_code"].to_numpy() == c)
        by_code = rows[np.argsort(grids["grid_code"].to_numpy()[rows])]
        grids.loc[by_code, "grid_code"] = grids["grid_code"].to_numpy()[by_code[::-1]]
    assert not (grids["community_code"].to_numpy()[1:] == grids["community_code"].to_numpy()[:-1]
                ).all()
    result = validate(grids, comm, ref, lang="en")  # every rule, as in the crash report
    found = result.findings[result.findings["rule"] == "code_serial_order"]
    assert sorted(c[0][:12] for c in found["grid_codes"]) == bad
    assert all(len(m) <= 200 for m in found["message"])
    again = validate(grids.sample(frac=1, random_state=1), comm, ref, lang="en")
    assert again.to_dict()["findings"] == result.to_dict()["findings"]


@pytest.mark.parametrize("row_height", [0.5, 0.7, 1.0, 1.4, 2.0])
def test_reading_order_with_any_row_height_passes(row_height):
    for seed in range(12):
        grids, _ = layer(seed=seed, communities=4, grids=(4, 16), row_height=row_height)
        assert flagged(grids) == {}, (seed, row_height)


def test_random_permutations_are_flagged_at_least_90_percent():
    rng = np.random.default_rng(0)
    hits = total = 0
    for seed in range(40):
        grids, comm = layer(seed=seed, communities=4, grids=(4, 12))
        for c in comm["community_code"]:
            before = grids["grid_code"].copy()
            permuted = permute_serials(grids, c, rng)
            if (permuted["grid_code"] == before).all():
                continue  # the identity: nothing to catch
            total += 1
            hits += c in flagged(permuted)
    assert total >= 150
    assert hits / total >= 0.9, (hits, total)


def test_communities_checked_together_give_what_one_by_one_gives():
    """reading_order_breaks (communities of one size at once) equals _out_of_place per community."""
    import pandas as pd

    from gridkit.validate import serial

    rng = np.random.default_rng(7)
    x, y, side, number, group = [], [], [], [], []
    for c in range(300):
        n = int(rng.integers(1, 14))
        s = float(rng.uniform(50, 200))
        cols = int(rng.integers(1, 5))
        k = np.arange(n)
        gx = (k % cols) * s + rng.normal(0, s * rng.choice([0.01, 0.1, 0.3]), n)
        gy = -(k // cols) * s + rng.normal(0, s * rng.choice([0.01, 0.1, 0.3]), n)
        order = np.arange(1, n + 1)
        if rng.random() < 0.5:
            order = rng.permutation(order)
        x.append(gx + 1000 * c), y.append(gy), side.append(np.full(n, s))
        number.append(order), group.append(np.full(n, f"c{c:03d}"))
    x, y, side, number, group = map(np.concatenate, (x, y, side, number, group))
    got = serial.reading_order_breaks(x, y, side, number, group)
    expected = np.zeros(len(x), bool)
    for _, rows in pd.Series(np.arange(len(x))).groupby(group):
        rows = rows.to_numpy()[np.lexsort((-y[rows], x[rows], number[rows]))]
        if len(rows) > 1:
            expected[rows] = serial._out_of_place(x[rows], y[rows], float(side[rows[0]]))
    assert 20 < expected.sum() < len(x) / 2  # both kinds of community occur
    np.testing.assert_array_equal(got, expected)
