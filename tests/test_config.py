"""gridkit.config: the one YAML-config loader (typed values, unknown keys, one-line errors)."""

import pytest

from gridkit.config import ConfigSection, as_section, load_config_file
from gridkit.errors import InputError


def test_unknown_key_is_refused_with_the_closest_known_one():
    section = ConfigSection({"dispatch_sal": 2}, path="p.yaml")
    with pytest.raises(InputError, match=r"^p\.yaml: unknown key 'dispatch_sal' \(allowed: "
                                         r"dispatch_sla, grids\); did you mean 'dispatch_sla'\?$"):
        section.check_keys(["dispatch_sla", "grids"])
    with pytest.raises(InputError, match=r"unknown key 'zzz' \(allowed: grids\)$"):
        ConfigSection({"zzz": 1}).check_keys(["grids"])


@pytest.mark.parametrize(("value", "message"), [
    (None, "'n' is missing"),
    ("soon", "'n' must be a number ≥ 0, got 'soon'"),
    (True, "'n' must be a number ≥ 0, got True"),
    (float("nan"), "'n' must be a number ≥ 0, got nan"),
    (-1, "'n' must be a number ≥ 0, got -1"),
    ("90%", r"'n' must be a number ≥ 0, got '90%' \(write rates as fractions"),
])
def test_numbers_are_finite_and_bounded(value, message):
    section = ConfigSection({"n": value}, path="f.yaml", where="part 'P' at parts[0]")
    with pytest.raises(InputError, match=rf"^f\.yaml: part 'P' at parts\[0\]: {message}"):
        section.number("n", minimum=0)


def test_defaults_and_optional_values():
    section = ConfigSection({"title": "评价"})
    assert section.number("max", default=100.0) == 100.0
    assert section.number("max", required=False) is None
    assert section.text("title") == "评价" and section.text("period", required=False) is None
    with pytest.raises(InputError, match="'title' must be a non-empty string"):
        ConfigSection({"title": 3}).text("title")


def test_files_and_sections_must_be_mappings(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"rules\.yaml: the rules file must be a YAML mapping"):
        load_config_file(path, "rules file")
    path.write_text("", encoding="utf-8")
    assert load_config_file(path, "rules file", allow_empty=True).data == {}
    with pytest.raises(InputError, match=r"^x\.yaml: parts\[1\]: a part must be a mapping"):
        as_section(3, path="x.yaml", where="parts[1]", what="a part")
    with pytest.raises(InputError, match="'parts' must be a non-empty list"):
        ConfigSection({"parts": []}).sections("parts")


@pytest.mark.parametrize("what", ["rules file", "project file", "scoring config"])
def test_every_config_file_is_read_by_the_one_loader(tmp_path, what):
    from gridkit.report import load_project
    from gridkit.scoring import load_evaluation
    from gridkit.validate import load_rules

    load = {"rules file": load_rules, "project file": load_project,
            "scoring config": load_evaluation}[what]
    path = tmp_path / "c.yaml"
    with pytest.raises(InputError, match=rf"^{path}: {what} not found$"):
        load(path)
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}: the {what} must be a YAML mapping"):
        load(path)
    path.write_text("titel: x\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"^{path}: .*unknown key 'titel'"):
        load(path)
