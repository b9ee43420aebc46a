"""Golden outputs: the JSON of each command on the packaged sample, byte for byte.

The files under ``tests/golden/`` were written by the code before the redesign
(issue 11). A refactor must leave them identical; a change of behaviour that is
meant must regenerate them on purpose (the command for each is below) and say
why in its commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# The JSON names its inputs as the pre-redesign checkout did (data/sample/...): the
# commands run in a folder where ``data`` links to the packaged data (data_checkout).
ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
SAMPLE = Path("data") / "sample"
CODES = Path("data") / "guangzhou-divisions-2023.csv"

CASES = {
    "validate.json": [
        "validate", SAMPLE / "grids.gpkg", "--communities", SAMPLE / "communities.gpkg",
        "--reference", SAMPLE / "reference.gpkg", "--codes", CODES, "--format", "json",
    ],
    "coverage.json": [
        "coverage", SAMPLE / "grids.gpkg", "--filings", SAMPLE / "filings.csv",
        "--party", SAMPLE / "party.csv", "--cadres", SAMPLE / "cadres.csv",
        "--workers", SAMPLE / "workers.csv", "--by", "street", "--format", "json",
    ],
    "events.json": [
        "events", SAMPLE / "grids.gpkg", SAMPLE / "events.parquet", "--by", "district",
        "--period-end", "2023-12-31", "--format", "json",
    ],
    "score.json": ["score", Path("data") / "evaluation-2023.yaml", "--format", "json"],
    "score-template.json": [
        "score", Path("data") / "evaluation-template.yaml",
        "--metrics", GOLDEN / "coverage.json", "--metrics", GOLDEN / "events.json",
        "--format", "json",
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.usefixtures("data_checkout")
def test_command_json_is_unchanged(name: str, cli) -> None:
    result = cli(*CASES[name])
    assert result.exit_code in (0, 1), result.output
    assert result.stdout == (GOLDEN / name).read_text(encoding="utf-8")


def test_synth_truth_is_unchanged(tmp_path: Path, cli, sample_dir: Path) -> None:
    out = tmp_path / "synth"
    result = cli(*[
        "synth", "--out", str(out), "--districts", "440103,440104", "--grids", "350",
        "--events", "30000", "--seed", "7", "--defects",
    ])
    assert result.exit_code == 0, result.output
    assert (out / "truth.json").read_bytes() == (sample_dir / "truth.json").read_bytes()
