"""Evaluation scoring: methods at their boundaries, weighting, grades, config errors, outputs."""

import importlib.util
import json
import math
from pathlib import Path

import pytest
import yaml
from helpers.cli import run_cli
from hypothesis import given
from hypothesis import strategies as st

from gridkit.data import data_path
from gridkit.errors import InputError
from gridkit.scoring import (
    DEFAULT_GRADES,
    Metrics,
    grade_of,
    load_evaluation,
    load_metrics,
    parse_evaluation,
    render_score_html,
    render_score_markdown,
    round_half_up,
    score,
    score_value,
)

SEED = data_path("evaluation-2023.yaml")
TEMPLATE = data_path("evaluation-template.yaml")
GRADES = tuple(DEFAULT_GRADES.items())


def seed_data() -> dict:
    return yaml.safe_load(SEED.read_text(encoding="utf-8"))


def one_part(*indicators: dict, **top) -> dict:
    """A one-part config (weight 1) whose part max is the sum of the points."""
    total = sum(i["points"] for i in indicators)
    return {"parts": [{"name": "P", "weight": 1, "max": total,
                       "groups": [{"name": "G", "indicators": list(indicators)}]}], **top}


def ind(ident: str = "x", points: float = 20, method: str = "positive", **fields) -> dict:
    return {"id": ident, "name": ident.upper(), "points": points, "method": method, **fields}


def run(args: list[str]):
    return run_cli("score", *args)


# --------------------------------------------------------------------------- methods


@pytest.mark.parametrize(("actual", "expected"), [
    (0.9, 20.0),            # at target
    (0.8999999999999, 20.0),  # at target within the float tolerance
    (1.0, 20.0),            # above
    (0.85, 18.89),          # below: 20 × 0.85 / 0.9 = 18.888… → 18.89
    (0.45, 10.0),
    (0.0, 0.0),
])
def test_positive_at_below_above_target(actual, expected):
    assert score_value("positive", 20, 0.9, actual) == expected


def test_positive_target_zero_gives_full_marks_to_any_actual():
    assert score_value("positive", 20, 0, 0) == 20.0
    assert score_value("positive", 20, 0, 3) == 20.0


@pytest.mark.parametrize(("actual", "expected"), [
    (0, 20.0),       # below target
    (10, 20.0),      # at target
    (10.01, 19.98),  # just above: 20 × (1 − 0.01 / 10)
    (15, 10.0),      # between target and 2 × target
    (19.99, 0.02),   # just below 2 × target
    (20, 0.0),       # at 2 × target
    (25, 0.0),       # beyond
])
def test_reverse_around_target_and_twice_target(actual, expected):
    assert score_value("reverse", 20, 10, actual) == expected


@pytest.mark.parametrize(("actual", "expected"), [(0, 20.0), (1e-12, 20.0), (0.5, 0.0), (3, 0.0)])
def test_reverse_target_zero_is_full_only_at_zero(actual, expected):
    assert score_value("reverse", 20, 0, actual) == expected


@pytest.mark.parametrize(("actual", "expected"), [
    (1, 5.0), (1.0 + 1e-12, 5.0), (0.1 + 0.2, 0.0), (1.01, 0.0), (0.99, 0.0)])
def test_equal_full_only_when_equal(actual, expected):
    assert score_value("equal", 5, 1, actual) == expected
    assert score_value("equal", 5, 0.3, 0.1 + 0.2) == 5.0  # 0.30000000000000004


@given(st.floats(0, 5), st.floats(0, 5), st.floats(0.01, 5))
def test_quantitative_scores_stay_within_points_and_are_monotone(a, b, target):
    low, high = sorted((a, b))
    pos = [score_value("positive", 20, target, v) for v in (low, high)]
    rev = [score_value("reverse", 20, target, v) for v in (low, high)]
    assert all(0 <= s <= 20 for s in pos + rev)
    assert pos[0] <= pos[1]
    assert rev[0] >= rev[1]


@pytest.mark.parametrize(("level", "given"), [
    ("A", 9), ("A", 7.2), ("B", 7.19), ("B", 5.4), ("C", 5.39), ("C", 0)])
def test_qualitative_scores_inside_band(level, given):
    # 9 points: A [7.2, 9], B [5.4, 7.2), C [0, 5.4); 0.8 × 9 is 7.200000000000001 in floats.
    cfg = parse_evaluation(one_part(ind("q", 9, "qualitative", level=level, score=given)))
    assert score(cfg).indicators[0].score == given
    assert score(cfg).indicators[0].level == level


@pytest.mark.parametrize(("level", "given"), [
    ("A", 7.19), ("A", 9.01), ("B", 7.2), ("B", 5.39), ("C", 5.4), ("C", -1)])
def test_qualitative_score_outside_band_is_an_error(level, given):
    with pytest.raises(InputError, match=rf"indicator 'q'.*outside level {level}'s band"):
        parse_evaluation(one_part(ind("q", 9, "qualitative", level=level, score=given)))


def test_manual_score_within_points():
    cfg = parse_evaluation(one_part(ind("m", 8, "manual", score=6, reason="因政策调整")))
    result = score(cfg).indicators[0]
    assert (result.score, result.reason, result.deducted) == (6.0, "因政策调整", True)
    for bad in (8.5, -0.5):
        with pytest.raises(InputError, match=r"indicator 'm'.*outside 0\.\.8"):
            parse_evaluation(one_part(ind("m", 8, "manual", score=bad)))


# --------------------------------------------------------------------------- weighting, grades


def test_total_is_weighted_sum_of_part_percentages():
    data = {"parts": [
        {"name": "A", "weight": 0.3, "max": 50, "groups": [{"name": "g", "indicators": [
            ind("a1", 30, "manual", score=30), ind("a2", 20, "manual", score=10)]}]},
        {"name": "B", "weight": 0.7, "groups": [{"name": "g", "indicators": [
            ind("b1", 100, "positive", target=0.9, actual=0.45)]}]},
    ]}
    result = score(parse_evaluation(data))
    # A: 40/50 → 80 × 0.3 = 24; B: 50/100 → 50 × 0.7 = 35
    assert [(p.score, p.max, p.weighted_score) for p in result.parts] == [
        (40.0, 50.0, 24.0), (50.0, 100.0, 35.0)]
    assert result.total == 59.0
    assert result.grade == "差"


def test_rounding_is_half_up_and_gives_99_2():
    assert round_half_up(98 * 0.4 + 100 * 0.6) == 99.2
    assert round_half_up(2.675) == 2.68  # half up, where round() gives 2.67
    # Half up, not half to even (which gives 2.66 and 0.12).
    assert (round_half_up(2.665), round_half_up(0.125)) == (2.67, 0.13)


def test_part_weighted_scores_are_rounded():
    data = {"parts": [
        {"name": "A", "weight": 0.3, "max": 9, "groups": [{"name": "g", "indicators": [
            ind("a", 9, "manual", score=7)]}]},
        {"name": "B", "weight": 0.7, "max": 3, "groups": [{"name": "g", "indicators": [
            ind("b", 3, "manual", score=2)]}]},
    ]}
    result = score(parse_evaluation(data))
    # 0.3 × 7 / 9 × 100 = 23.333…, 0.7 × 2 / 3 × 100 = 46.666…
    assert [p.weighted_score for p in result.parts] == [23.33, 46.67]
    assert result.total == 70.0


def test_sums_of_points_and_weights_allow_float_error():
    # Ten indicators of 0.1 points sum to 0.9999999999999999; weights 0.7 + 0.2 + 0.1 too.
    tenths = [ind(f"t{n}", 0.1, "manual", score=0.1) for n in range(10)]
    parts = [{"name": name, "weight": weight, "max": 1, "groups": [{"name": "g", "indicators": [
        {**i, "id": f"{name}{i['id']}"} for i in tenths]}]}
        for name, weight in (("A", 0.7), ("B", 0.2), ("C", 0.1))]
    result = score(parse_evaluation({"parts": parts}))
    assert (result.total, result.grade) == (100.0, "优")


@pytest.mark.parametrize(("total", "grade"), [
    (100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.99, "中"), (60, "中"),
    (59.99, "差"), (0, "差")])
def test_default_grade_edges(total, grade):
    assert grade_of(total, GRADES) == grade


@pytest.mark.parametrize(("given", "grade"), [(90, "优"), (89.99, "良"), (60, "中"),
                                            (59.99, "差")])
def test_grade_edges_through_scoring(given, grade):
    result = score(parse_evaluation(one_part(ind("m", 100, "manual", score=given))))
    assert (result.total, result.grade) == (given, grade)


def test_grades_from_config():
    data = one_part(ind("m", 100, "manual", score=70),
                    grades={"excellent": 85, "pass": 70, "fail": 0})
    assert score(parse_evaluation(data)).grade == "pass"
    data["parts"][0]["groups"][0]["indicators"][0]["score"] = 69.99
    assert score(parse_evaluation(data)).grade == "fail"


# --------------------------------------------------------------------------- the seed


def test_seed_scores_99_2_excellent():
    result = score(load_evaluation(SEED))
    assert (result.total, result.grade) == (99.2, "优")
    assert len(result.indicators) == 17
    assert [(p.name, p.weight, p.score, p.max) for p in result.parts] == [
        ("项目管理", 0.4, 98.0, 100.0), ("项目结果", 0.6, 100.0, 100.0)]
    deducted = [i for i in result.indicators if i.deducted]
    assert [(i.name, i.points, i.score) for i in deducted] == [("支出计划完成性", 8, 6.0)]
    assert deducted[0].reason == "因政策调整，该项目实际支出进度与年初支出计划不一致"
    config = load_evaluation(SEED)
    assert [len(p.groups) for p in config.parts] == [4, 2]
    assert [[g.name for g in p.groups] for p in config.parts][0] == [
        "绩效目标设置", "预算编制", "组织实施", "绩效评价"]
    assert all(sum(i.points for i in g.indicators) == 25 for g in config.parts[0].groups)
    complaints = result.indicators[-1]
    assert (complaints.method, complaints.target, complaints.actual) == ("reverse", 10, 0)


def test_cli_seed_json_matches_spec_schema():
    result = run([SEED, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["total"], data["grade"]) == (99.2, "优")
    assert data["parts"][0] == {"name": "项目管理", "name_en": "Project management",
                                "weight": 0.4, "score": 98.0, "max": 100.0,
                                "weighted_score": 39.2}
    first = data["indicators"][0]
    assert {"id", "name", "points", "score", "method", "target", "actual", "part", "group",
            "reason", "level", "unit"} <= set(first)
    assert (first["points"], first["score"], first["method"], first["target"],
            first["actual"]) == (9, 9.0, "manual", None, None)
    filing = next(i for i in data["indicators"] if i["id"] == "filing_rate")
    assert (filing["target"], filing["actual"], filing["unit"]) == (0.9, 1.0, "%")


def test_cli_seed_table_in_chinese_and_english():
    zh = run([SEED])
    assert zh.exit_code == 0, zh.output
    assert "总分 99.2，等级 优" in zh.output
    assert "因政策调整" in zh.output and "96.39%" in zh.output and "≤ 10 件" in zh.output
    lines = zh.output.splitlines()
    assert sum("项目管理  " in line for line in lines) == 12 + 1  # 12 indicators + part row
    en = run([SEED, "--lang", "en"])
    assert "Total 99.2, grade 优" in en.output and "Spending against plan" in en.output


def test_cli_csv_markdown_html(tmp_path):
    csv_out = run([SEED, "--format", "csv"]).output.splitlines()
    assert csv_out[0].startswith("kind,part,group,id,name,method,points")
    assert len(csv_out) == 1 + 17 + 2 + 1
    assert csv_out[-1].endswith(",99.2,,,,优")
    md = run([SEED, "--format", "markdown"]).output
    assert "| 项目管理 | 组织实施 | 支出计划完成性 | 8 | - | - | 6 | 因政策调整" in md
    html_out = run([SEED, "--format", "html"]).output
    assert html_out.startswith('<section class="gridkit-score">')
    assert html_out.count('<tr class="deducted">') == 1


def test_cli_out_writes_file_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "score.html"
    first = run([SEED, "--format", "html", "--out", out])
    assert first.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<section")
    again = run([SEED, "--out", out])
    assert again.exit_code == 2 and "--force" in again.output
    assert run([SEED, "--out", out, "--force"]).exit_code == 0
    assert "总分 99.2" in out.read_text(encoding="utf-8")


def test_cli_out_never_overwrites_an_input(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    metrics = tmp_path / "metrics.json"
    metrics.write_text("{}", encoding="utf-8")
    for target in (config, metrics):
        before = target.read_bytes()
        result = run([config, "--metrics", metrics, "--out", target, "--force"])
        assert result.exit_code == 2 and "overwrite the input" in result.output, result.output
        assert target.read_bytes() == before


@pytest.mark.parametrize("text", [
    "title: 2023-13-45\nparts: []\n",       # looks like a date, is none: ValueError in PyYAML
    "[" * 3000 + "]" * 3000 + "\n",         # nesting deeper than the recursion limit
])
def test_yaml_that_breaks_the_loader_is_an_input_error(tmp_path, text):
    config = tmp_path / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="bad.yaml: not valid YAML"):
        load_evaluation(config)
    result = run([config])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


# --------------------------------------------------------------------------- escaping


def test_html_and_markdown_escape_config_strings():
    evil = "<img src=x onerror=alert(1)>"
    data = one_part(ind("m", 100, "manual", score=50, reason="a|b <b>x</b>"), title=evil)
    data["parts"][0]["groups"][0]["indicators"][0]["name"] = evil
    data["parts"][0]["name"] = "<script>alert(1)</script>"
    result = score(parse_evaluation(data))
    page = render_score_html(result)
    assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    md = render_score_markdown(result)
    assert "<img" not in md and "a\\|b &lt;b&gt;" in md


# --------------------------------------------------------------------------- metrics


def write_metrics(folder: Path) -> tuple[Path, Path]:
    """Metrics JSON shaped like gridkit coverage / events output (SPEC §7)."""
    coverage = {"grids": 2000, "filing_rate": 0.81, "party_coverage": 0.98,
                "cadre_coverage": 1.0, "fulltime_worker_coverage": 0.97,
                "households_per_fulltime_worker": 412.5, "by": "district",
                "rows": [{"code": "440104", "name": "越秀区", "grids": 1203,
                          "filing_rate": 0.8}]}
    events = {"events": 20000, "located": 19800, "outside": 190, "unlocatable": 10,
              "dispatched": 19000, "dispatch_accuracy": 0.9639, "dispatch_timeliness": 0.9,
              "closure_rate": 0.9997, "valid_complaints": 15,
              "rows": [{"grid_code": "440104001001001", "events": 3}]}
    paths = folder / "coverage.json", folder / "events.json"
    for path, data in zip(paths, (coverage, events)):
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return paths


def test_template_scores_from_metrics_json(tmp_path):
    cov, ev = write_metrics(tmp_path)
    metrics = load_metrics([cov, ev])
    assert metrics.sources["filing_rate"] == [str(cov)]
    assert "rows" in metrics.conflicts  # both files have rows; unused, so harmless
    result = score(load_evaluation(TEMPLATE), metrics)
    by_id = {i.id: i for i in result.indicators}
    assert (by_id["filing_rate"].actual, by_id["filing_rate"].score) == (0.81, 18.0)
    assert by_id["dispatch_timeliness"].score == 18.95  # 20 × 0.9 / 0.95
    assert by_id["valid_complaints"].score == 10.0      # 15 complaints, target 10
    assert result.parts[1].score == 86.95
    assert result.total == round_half_up(98 * 0.4 + 86.95 * 0.6) == 91.37
    cli_out = run([TEMPLATE, "--metrics", cov, "--metrics", ev, "--format", "json"])
    assert cli_out.exit_code == 0, cli_out.output
    assert json.loads(cli_out.stdout)["total"] == 91.37


def test_plain_dict_metrics():
    data = one_part(ind("f", 100, target=0.9, metric="filing_rate"))
    assert score(parse_evaluation(data), {"filing_rate": 0.9}).total == 100.0
    with pytest.raises(InputError, match="indicator 'f'.*'filing_rate'.*no metrics given"):
        score(parse_evaluation(data))
    with pytest.raises(InputError, match="indicator 'f'.*not found in the metrics given"):
        score(parse_evaluation(data), {"closure_rate": 1.0})


# --------------------------------------------------------------------------- config errors


_DELETE = object()


def _set(path: str, value):
    """A mutation of the seed config: set ``parts.1.groups.0.indicators.0.target`` etc."""
    def mutate(data: dict) -> None:
        *keys, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = data
        for key in keys:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate


_FILING = "parts.1.groups.0.indicators.0"
_SPENDING = "parts.0.groups.2.indicators.1"

CONFIG_ERRORS = [
    # points of a part that do not sum to its maximum
    (_set(f"{_SPENDING}.points", 9), r"part '项目管理' at parts\[0\]: points of its indicators "
                                     r"sum to 101, not its maximum 100"),
    (_set("parts.0.max", 80), "sum to 100, not its maximum 80"),
    # weights that do not sum to 1
    (_set("parts.0.weight", 0.5),
     r"part weights sum to 1\.1, not 1 \(项目管理 0\.5, 项目结果 0\.6\)"),
    (_set("parts.0.weight", 0), r"part '项目管理'.*weight 0 must be in \(0, 1\]"),
    # a target missing for a quantitative method
    (_set(f"{_FILING}.target", _DELETE), r"indicator 'filing_rate' at parts\[1\]\.groups\[0\]"
                                         r"\.indicators\[0\]: 'target' is missing"),
    # a duplicate id
    (_set(f"{_FILING}.id", "spending_plan"), r"indicator 'spending_plan' at parts\[1\].*duplicate "
                                             r"id \(first used at parts\[0\]\.groups\[2\]"),
    # unknown keys, methods, levels, values
    (_set(f"{_SPENDING}.scor", 6), r"indicator 'spending_plan'.*unknown key 'scor'.*did you mean "
                                   r"'score'"),
    (_set(f"{_SPENDING}.target", 1), r"indicator 'spending_plan'.*unknown key 'target' for "
                                     r"method 'manual'"),
    (_set("parts.0.groups.0.colour", "red"), r"group '绩效目标设置'.*unknown key 'colour'"),
    (_set("year", 2023), r"config: unknown key 'year'"),
    (_set(f"{_SPENDING}.method", "fuzzy"), r"indicator 'spending_plan'.*method 'fuzzy' is not"),
    (_set(f"{_SPENDING}.score", _DELETE), r"indicator 'spending_plan'.*'score' is missing"),
    (_set(_SPENDING, {"id": "spending_plan", "name": "支出计划完成性", "points": 8,
                      "method": "qualitative", "level": ["B"], "score": 6}),
     r"indicator 'spending_plan'.*level \['B'\] is not one of A, B, C"),
    (_set(f"{_SPENDING}.id", 7), r"parts\[0\]\.groups\[2\]\.indicators\[1\]: 'id' must be a "
                                 r"non-empty string"),
    (_set(f"{_FILING}.metric", "filing_rate"), r"indicator 'filing_rate'.*exactly one of "
                                               r"'actual'"),
    (_set(f"{_FILING}.actual", _DELETE), r"indicator 'filing_rate'.*exactly one of 'actual'"),
    (_set(f"{_FILING}.target", "90%"), r"'target' must be a number.*fractions: 0\.9"),
    (_set(f"{_FILING}.target", 90), r"target 90 with unit '%' must be a fraction \(0\.9"),
    (_set(f"{_FILING}.actual", -0.1), r"indicator 'filing_rate'.*actual -0\.1 must not be "
                                      r"negative"),
    (_set(f"{_FILING}.points", 0), r"indicator 'filing_rate'.*points 0 must be positive"),
    (_set("grades", {"优": 90, "良": 90}), "two grades have the same lower bound"),
    (_set("grades", {"优": 190}), r"grades: 优: lower bound 190 must be a number from 0 to 100"),
    (_set("parts.1.name", "项目管理"), r"part '项目管理': duplicate part name"),
    (_set("parts.1.groups", []), r"part '项目结果'.*'groups' must be a non-empty list"),
]


@pytest.mark.parametrize(("mutate", "message"), CONFIG_ERRORS)
def test_config_errors_name_the_indicator_and_exit_2(tmp_path, mutate, message):
    data = seed_data()
    mutate(data)
    path = tmp_path / "eval.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run([path])
    with pytest.raises(InputError, match=message):
        load_evaluation(path)
    assert result.exit_code == 2
    line = result.output.strip()
    assert line.startswith(f"gridkit: error: {path}: ") and "\n" not in line


def test_part_max_defaults_to_100(tmp_path):
    data = seed_data()
    del data["parts"][1]["max"]
    assert score(parse_evaluation(data)).parts[1].max == 100.0
    del data["parts"][1]["groups"][1]
    with pytest.raises(InputError, match="sum to 60, not its maximum 100.*declare 'max: 60'"):
        parse_evaluation(data)


def test_metric_key_not_found_names_indicator_and_files(tmp_path):
    cov, ev = write_metrics(tmp_path)
    data = json.loads(ev.read_text(encoding="utf-8"))
    del data["closure_rate"]
    ev.write_text(json.dumps(data), encoding="utf-8")
    result = run([TEMPLATE, "--metrics", cov, "--metrics", ev])
    assert result.exit_code == 2
    assert "indicator 'closure_rate'" in result.output
    assert f"metric 'closure_rate': not found in any metrics file ({cov}, {ev})" in result.output


def test_metric_null_names_indicator_and_file(tmp_path):
    cov, ev = write_metrics(tmp_path)
    data = json.loads(ev.read_text(encoding="utf-8"))
    data["dispatch_accuracy"] = None
    ev.write_text(json.dumps(data), encoding="utf-8")
    result = run([TEMPLATE, "--metrics", cov, "--metrics", ev])
    assert result.exit_code == 2
    assert "indicator 'dispatch_accuracy'" in result.output
    assert f"metric 'dispatch_accuracy' is null in {ev}" in result.output


def test_metric_not_a_number_or_differing_between_files(tmp_path):
    cov, ev = write_metrics(tmp_path)
    data = json.loads(ev.read_text(encoding="utf-8"))
    data["closure_rate"] = "99%"
    ev.write_text(json.dumps(data), encoding="utf-8")
    result = run([TEMPLATE, "--metrics", cov, "--metrics", ev])
    assert result.exit_code == 2 and "is '99%', not a number" in result.output
    other = tmp_path / "coverage-2.json"
    other.write_text(json.dumps({"filing_rate": 0.5}), encoding="utf-8")
    write_metrics(tmp_path)
    result = run([TEMPLATE, "--metrics", cov, "--metrics", ev, "--metrics", other])
    assert result.exit_code == 2
    assert ("indicator 'filing_rate'" in result.output
            and f"differs between metrics files ({cov}: 0.81; {other}: 0.5)" in result.output)
    same = tmp_path / "same.json"
    same.write_text(json.dumps({"filing_rate": 0.81}), encoding="utf-8")
    assert run([TEMPLATE, "--metrics", cov, "--metrics", ev, "--metrics", same]).exit_code == 0


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid JSON at line 1"),
    ("[1, 2]", "a metrics file must hold a JSON object, got list"),
])
def test_bad_metrics_file_is_named(tmp_path, content, message):
    bad = tmp_path / "metrics.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_metrics([bad])
    result = run([TEMPLATE, "--metrics", bad])
    assert result.exit_code == 2 and f"{bad}: {message}" in result.output
    missing = run([TEMPLATE, "--metrics", tmp_path / "nope.json"])
    assert missing.exit_code == 2 and "nope.json: metrics file not found" in missing.output


@pytest.mark.parametrize(("content", "message"), [
    ("parts: [\n  - name: x\n  bad", "not valid YAML at line 2"),
    ("- just\n- a list\n", "the scoring config must be a YAML mapping"),
    ("title: x\n", "'parts' must be a non-empty list"),
])
def test_unusable_config_file(tmp_path, content, message):
    path = tmp_path / "eval.yaml"
    path.write_text(content, encoding="utf-8")
    result = run([path])
    assert result.exit_code == 2 and message in result.output
    assert run([tmp_path / "missing.yaml"]).output.strip().endswith("config not found")


def test_metrics_class_is_a_plain_mapping():
    metrics = Metrics()
    metrics["filing_rate"] = 1.0
    assert dict(metrics) == {"filing_rate": 1.0} and metrics.conflicts == {}


def test_seed_file_is_untouched_by_scoring():
    before = SEED.read_bytes()
    score(load_evaluation(SEED))
    assert SEED.read_bytes() == before


# --------------------------------------------------------------------------- end to end


def _have(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@pytest.mark.skipif(
    not _have("gridkit.synth", "gridkit.coverage", "gridkit.events", "gridkit.cli.synth_cmd",
              "gridkit.cli.coverage_cmd", "gridkit.cli.events_cmd"),
    reason="gridkit synth / coverage / events not available yet")
def test_synth_coverage_events_score_end_to_end(tmp_path):
    city = tmp_path / "city"
    made = run_cli(*["synth", "--out", str(city), "--grids", "200", "--events",
                               "2000", "--seed", "3"])
    assert made.exit_code == 0, made.output
    coverage = run_cli(*[
        "coverage", str(city / "grids.gpkg"), "--filings", str(city / "filings.csv"),
        "--party", str(city / "party.csv"), "--cadres", str(city / "cadres.csv"),
        "--workers", str(city / "workers.csv"), "--format", "json"])
    assert coverage.exit_code == 0, coverage.output
    events = run_cli(*["events", str(city / "grids.gpkg"), str(city / "events.parquet"),
                                 "--format", "json"])
    assert events.exit_code == 0, events.output
    paths = tmp_path / "coverage.json", tmp_path / "events.json"
    for path, out in zip(paths, (coverage, events)):
        path.write_text(out.stdout, encoding="utf-8")
    result = run_cli(*["score", str(TEMPLATE), "--metrics", str(paths[0]),
                                 "--metrics", str(paths[1]), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    metrics = {**json.loads(paths[0].read_text()), **json.loads(paths[1].read_text())}
    by_id = {i["id"]: i for i in data["indicators"]}
    assert len(by_id) == 17
    for key in ("filing_rate", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
                "valid_complaints"):
        assert by_id[key]["actual"] == metrics[key]
        assert 0 <= by_id[key]["score"] <= 20
    expected = round_half_up(0.4 * 98 + 0.6 * sum(by_id[k]["score"] for k in (
        "filing_rate", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
        "valid_complaints")))
    assert math.isclose(data["total"], expected, abs_tol=0.011)
    assert data["grade"] == grade_of(data["total"], GRADES)


def test_template_differs_from_seed_only_in_metric_sources():
    seed, template = load_evaluation(SEED), load_evaluation(TEMPLATE)
    assert [i.id for i in seed.indicators] == [i.id for i in template.indicators]
    assert [i.metric for i in template.indicators if i.metric] == [
        "filing_rate", "dispatch_accuracy", "dispatch_timeliness", "closure_rate",
        "valid_complaints"]
    assert all(i.actual is None for i in template.indicators)
