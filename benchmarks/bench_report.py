"""Benchmark ``gridkit report`` of a city against ``gridkit events`` on the same data.

Issue 16's report targets: the city report (20,000 grids, 10 M work orders)
≤ 8 MB, ≤ 1.5 GB peak memory, built in at most 3× the time ``gridkit events``
takes on the same grids and events. Both run as a user would, as whole
commands, alternately (``_harness.alternate``: warm-up round, rotating order,
medians, peak RSS, CPU time):

- ``report``: ``gridkit report PROJECT --out FILE --force`` with a project file
  written next to the outputs that names the synth folder's grids,
  communities, reference, the four rosters, the events and the packaged
  Guangzhou code list and evaluation template;
- ``events``: ``gridkit events GRIDS EVENTS --by grid --format json``.

The report also validates the layer, computes coverage, scores and draws
five maps, so the ratio is what those cost on top of the join.

Usage::

    python benchmarks/bench_report.py --dir /work/bench-data-10m --rounds 2
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import alternate, gridkit_command, ratio_line, summary, table  # noqa: E402

from gridkit.data import data_path  # noqa: E402

#: Issue 16's limits for the report.
MAX_RATIO, MAX_MB, MAX_PEAK_MB = 3.0, 8.0, 1536

PROJECT = """\
title: 城市报告基准
period: 2023 年度
grids: {d}/grids.gpkg
communities: {d}/communities.gpkg
reference: {d}/reference.gpkg
codes: {codes}
filings: {d}/filings.csv
party: {d}/party.csv
cadres: {d}/cadres.csv
workers: {d}/workers.csv
events: {d}/events.parquet
evaluation: {evaluation}
dispatch_sla: 2
period_end: 2023-12-31
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True,
                        help="a gridkit synth folder (grids, communities, reference, rosters, "
                             "events.parquet)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = args.dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="gridkit-bench-report-"))
    project = work / "project.yaml"
    project.write_text(PROJECT.format(
        d=folder, codes=data_path("guangzhou-divisions-2023.csv"),
        evaluation=data_path("evaluation-template.yaml")), encoding="utf-8")
    report = work / "report.html"
    commands = {
        "report": [*gridkit_command(), "report", str(project), "--out", str(report), "--force"],
        "events": [*gridkit_command(), "events", str(folder / "grids.gpkg"),
                   str(folder / "events.parquet"), "--by", "grid", "--format", "json"],
    }
    runs = alternate(commands, args.rounds, work, warmup=args.warmup)
    events = json.loads((work / "events.out").read_bytes())["events"]
    result = {"events": events, "rounds": args.rounds,
              "runs": {name: summary(r) for name, r in runs.items()},
              "report_mb": round(report.stat().st_size / 1e6, 2)}
    report_s, events_s = (result["runs"][k]["median_s"] for k in ("report", "events"))
    result["ratio"] = round(report_s / events_s, 2)
    shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(result, indent=2))
        return
    peak = result["runs"]["report"]["peak_rss_mb"]
    print(f"{events:,} events, {args.rounds} rounds each, alternating ({folder})")
    print(table(result["runs"]))
    print(ratio_line("report / events (wall)", result["ratio"], MAX_RATIO, faster=False))
    print(f"report size: {result['report_mb']} MB (target <= {MAX_MB} MB) "
          f"{'met' if result['report_mb'] <= MAX_MB else 'NOT MET'}")
    print(f"report peak memory: {peak} MB (target <= {MAX_PEAK_MB} MB) "
          f"{'met' if peak <= MAX_PEAK_MB else 'NOT MET'}")


if __name__ == "__main__":
    main()
