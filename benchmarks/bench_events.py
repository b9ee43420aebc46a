"""Benchmark ``gridkit events`` against geopandas.sjoin and DuckDB scripts, end to end.

Uses (or builds) ``gridkit synth`` output and runs, as a user would and
alternately (see ``benchmarks/_harness.py``):

- ``gridkit``: ``gridkit events GRIDS EVENTS --by grid --format json`` (a
  subprocess of the command line: imports, reading both files, building the
  lookup raster, the join, every metric, 20,000 rows of JSON);
- ``gridkit-cached``: the same with ``--index-cache DIR``, the raster stored by
  one untimed run before (what a second run on the same layer costs);
- ``sjoin``: ``benchmarks/sjoin_baseline.py``: geopandas reads the same files
  (lon/lat only), ``points_from_xy``, ``sjoin(points, grids,
  predicate="within")``, counts per grid, JSON;
- ``duckdb``: ``benchmarks/duckdb_baseline.py``: DuckDB's spatial join
  (``ST_Within``) on the same files, counts per grid, JSON (needs ``duckdb``
  and ``duckdb-ext-spatial`` from pip; left out with a note when missing).

Prints the median wall times, peak memory and CPU time of each, the ratios
peer / gridkit, checks that all give the same per-grid counts and that
gridkit's metrics equal the synth's truth.json; ``--expect FILE`` also checks
that gridkit's JSON is byte-identical to FILE (e.g. saved before a change).

Usage::

    python benchmarks/bench_events.py --dir DIR [--rounds 3] [--peers sjoin,duckdb]
        [--no-cache] [--expect events.json] [--min-ratio 4] [--json]
    python benchmarks/bench_events.py --grids 20000 --events 2000000 --seed 11  # builds DIR

Exit status 1 when a ratio to sjoin is below ``--min-ratio`` or an answer differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import alternate, gridkit_command, ratio_line, summary, table  # noqa: E402

HERE = Path(__file__).resolve().parent
TRUTH_KEYS = ("events", "located", "outside", "unlocatable", "dispatched", "dispatch_accuracy",
              "dispatch_timeliness", "closure_rate", "valid_complaints")


def synth_folder(grids: int, events: int, seed: int, folder: Path | None) -> Path:
    """The synth output folder, generated (``gridkit synth``) unless complete already."""
    folder = folder or Path(tempfile.gettempdir()) / f"gridkit-bench-{grids}-{events}-{seed}"
    if not (folder / "truth.json").exists():
        start = time.perf_counter()
        subprocess.run([*gridkit_command(), "synth", "--out", str(folder), "--grids", str(grids),
                        "--events", str(events), "--seed", str(seed), "--force"],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"generated {folder} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return folder


def duckdb_available() -> str | None:
    """None when DuckDB and its spatial extension load, else why not."""
    probe = (f"import duckdb, sys; sys.path.insert(0, {str(HERE)!r}); import duckdb_baseline; "
             "duckdb_baseline.load_spatial(duckdb.connect())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    return None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["?"])[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dir", type=Path, default=None, help="synth folder (reused if complete)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first")
    parser.add_argument("--peers", default="sjoin,duckdb",
                        help="comma-separated: sjoin, duckdb (default both)")
    parser.add_argument("--no-cache", action="store_true",
                        help="leave out the --index-cache run of gridkit")
    parser.add_argument("--expect", type=Path, default=None,
                        help="gridkit's JSON must be byte-identical to this file")
    parser.add_argument("--min-ratio", type=float, default=4.0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = synth_folder(args.grids, args.events, args.seed, args.dir)
    grids, events = folder / "grids.gpkg", folder / "events.parquet"
    work = Path(tempfile.mkdtemp(prefix="gridkit-bench-events-"))
    gridkit = [*gridkit_command(), "events", str(grids), str(events), "--by", "grid",
               "--format", "json"]
    commands = {"gridkit": gridkit}
    notes = []
    if not args.no_cache:
        cached = [*gridkit, "--index-cache", str(work / "index-cache")]
        subprocess.run(cached, check=True, stdout=subprocess.DEVNULL)  # stores the raster
        commands["gridkit-cached"] = cached
    peers = [p for p in args.peers.split(",") if p]
    if "sjoin" in peers:
        commands["sjoin"] = [sys.executable, str(HERE / "sjoin_baseline.py"), str(grids),
                             str(events)]
    if "duckdb" in peers:
        why = duckdb_available()
        if why is None:
            commands["duckdb"] = [sys.executable, str(HERE / "duckdb_baseline.py"), str(grids),
                                  str(events)]
        else:
            notes.append(f"duckdb left out: {why}")
    runs = alternate(commands, args.rounds, work, warmup=args.warmup)

    outputs = {name: (work / f"{name}.out").read_bytes() for name in commands}
    ours = json.loads(outputs["gridkit"])
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["metrics"]
    per_grid = {r["code"]: r["located"] for r in ours["rows"] if r["code"] and r["located"]}
    result = {
        "grids": sum(r["grids"] for r in ours["rows"]), "events": ours["events"],
        "rounds": args.rounds, "machine_cpus": os.cpu_count(),
        "runs": {name: summary(r) for name, r in runs.items()},
        "same_per_grid_counts": {name: json.loads(outputs[name])["per_grid"] == per_grid
                                 for name in commands if name in ("sjoin", "duckdb")},
        "gridkit_matches_truth": all(
            ours[k] == truth[k] if isinstance(truth[k], int) or truth[k] is None
            else abs(ours[k] - truth[k]) < 1e-9 for k in TRUTH_KEYS),
        "notes": notes,
    }
    if "gridkit-cached" in outputs:
        result["cached_output_identical"] = outputs["gridkit-cached"] == outputs["gridkit"]
    if args.expect is not None:
        result["identical_to_expected"] = args.expect.read_bytes() == outputs["gridkit"]
    medians = {name: s["median_s"] for name, s in result["runs"].items()}
    result["ratios"] = {f"{peer}/{ours_}": round(medians[peer] / medians[ours_], 2)
                        for peer in ("sjoin", "duckdb") if peer in medians
                        for ours_ in ("gridkit", "gridkit-cached") if ours_ in medians}
    shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['grids']:,} grids, {result['events']:,} events, {args.rounds} rounds "
              f"each, alternating, {os.cpu_count()} CPUs ({folder})")
        print(table(result["runs"]))
        for key, value in result["ratios"].items():
            target = args.min_ratio if key.startswith("sjoin/") else None
            print(ratio_line(f"ratio {key}", value, target))
        for name, same in result["same_per_grid_counts"].items():
            print(f"same per-grid counts as {name}: {'yes' if same else 'NO'}")
        print(f"gridkit metrics equal truth.json: "
              f"{'yes' if result['gridkit_matches_truth'] else 'NO'}")
        for key in ("cached_output_identical", "identical_to_expected"):
            if key in result:
                print(f"{key.replace('_', ' ')}: {'yes' if result[key] else 'NO'}")
        for note in notes:
            print(note)
    ok = (all(result["same_per_grid_counts"].values()) and result["gridkit_matches_truth"]
          and result.get("cached_output_identical", True)
          and result.get("identical_to_expected", True)
          and all(v >= args.min_ratio for k, v in result["ratios"].items()
                  if k == "sjoin/gridkit"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
