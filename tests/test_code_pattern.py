"""code_pattern for a city with its own code scheme (issue 12, point 5; docs/rules.md)."""

from __future__ import annotations

from pathlib import Path

from helpers.validate_data import communities, grids

from gridkit.validate import load_rules, validate

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules.md"


def test_the_documented_example_scheme_validates_without_false_alarms(tmp_path):
    text = DOC.read_text(encoding="utf-8")
    example = text.split("```yaml\n")[1].split("```")[0]
    rules = tmp_path / "rules.yaml"
    rules.write_text(example, encoding="utf-8")
    config = load_rules(rules)
    layer, comm = grids(), communities()
    names = {c: f"NW0{k}" for k, c in enumerate(comm["community_code"], start=1)}
    layer["grid_code"] = layer["grid_code"].map(lambda c: f"{names[c[:12]]}-{c[12:]}")
    layer["community_code"] = layer["community_code"].map(names)
    comm["community_code"] = comm["community_code"].map(names)
    result = validate(layer, comm, None, config=config, lang="en")
    assert result.findings.empty, result.findings[["rule", "message"]]
    assert "code_unknown_community" in result.skipped  # the national list has no NW01
    swapped = layer.copy()  # NW01-001 and NW01-002 trade places: a serial-order warning
    swapped.loc[[0, 1], "geometry"] = swapped.loc[[1, 0], "geometry"].to_numpy()
    assert validate(swapped, comm, None, config=config).by_rule["code_serial_order"] == 1
    wrong = layer.copy()
    wrong.loc[4, "grid_code"] = "NW01-005"  # a grid of NW02 whose code names NW01
    found = validate(wrong, comm, None, config=config, lang="en").findings
    assert found.loc[found["rule"] == "code_community_mismatch", "grid_codes"].tolist() == [
        ["NW01-005"]]


def test_default_code_list_judges_a_pattern_like_the_whole_list():
    """With another code_pattern the community may sit anywhere in the code: the default
    national list is then read whole (reading it within the layer's units missed them)."""
    from gridkit.codes import load_divisions
    from gridkit.data import SAMPLE_DIR
    from gridkit.io import read_layer
    from gridkit.validate import RuleConfig, validate

    layer = read_layer(SAMPLE_DIR / "grids.gpkg")
    layer["grid_code"] = "GZ" + layer["grid_code"].str.slice(0, 12) + "-" + \
        layer["grid_code"].str.slice(12)
    layer.loc[layer["community_code"] == layer["community_code"].iloc[0], "community_code"] = None
    rules = RuleConfig(code_pattern=r"^GZ(?P<community>\d{12})-(?P<serial>\d{3})$")
    default = validate(layer, config=rules).findings
    whole = validate(layer, codes=load_divisions(), config=rules).findings
    unknown = default[default["rule"] == "code_unknown_community"]
    assert unknown["grid_codes"].tolist() == whole.loc[
        whole["rule"] == "code_unknown_community", "grid_codes"].tolist()
