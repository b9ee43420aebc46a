"""Benchmark ``gridkit events`` against the obvious geopandas.sjoin script, end to end.

Builds (or reuses) ``gridkit synth --defects`` output with N grids and M
events (default 20,000 grids, 10 million events, seed 7), then runs, as a user
would and alternately (the order flips every round, so drift on a shared
machine hits both alike):

A. ``gridkit events GRIDS EVENTS --by grid --format json`` (a subprocess of the
   command line: imports, reading both files, the join, every metric, the JSON);
B. ``benchmarks/sjoin_baseline.py GRIDS EVENTS``: geopandas reads the same
   files (lon/lat only), ``points_from_xy``, ``sjoin(points, grids,
   predicate="within")``, counts per grid, JSON.

Each run holds ``/tmp/gridkit-bench.lock`` (``flock``) while it is timed, so
benchmarks of other jobs on the machine do not overlap it; the time spent
waiting for the lock is not counted. Peak memory is the maximum resident set
size of the run's process (``os.wait4``). Prints the median wall times, the
ratio B/A, peak memory and CPU time of both, and checks that both give the
same per-grid counts and that gridkit's metrics equal the synth's truth.json.
The grid layer is used as the synth writes it, defects included (overlaps,
invalid and multipart grids): both tools read the same file; events lie away
from defects, so the answers are comparable one to one.

Usage::

    python benchmarks/bench_events.py [--grids 20000] [--events 10000000] [--seed 7]
        [--dir DIR] [--rounds 3] [--out] [--dask] [--min-ratio 4] [--json]

Exit status 1 when the ratio is below ``--min-ratio`` or an answer differs.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

LOCK = "/tmp/gridkit-bench.lock"
BASELINE = Path(__file__).with_name("sjoin_baseline.py")
TRUTH_KEYS = ("events", "located", "outside", "unlocatable", "dispatched", "dispatch_accuracy",
              "dispatch_timeliness", "closure_rate", "valid_complaints")


def synth_folder(grids: int, events: int, seed: int, folder: Path | None) -> Path:
    """The synth output folder, generated unless a complete one is there already."""
    folder = folder or Path(tempfile.gettempdir()) / f"gridkit-bench-events-{grids}-{events}-{seed}"
    if not (folder / "truth.json").exists():
        from gridkit.synth import synthesize

        start = time.perf_counter()
        with bench_lock():
            synthesize(folder, grids=grids, events=events, seed=seed, defects=True, force=True)
        print(f"generated {folder} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return folder


@contextmanager
def bench_lock():
    """Hold the machine-wide benchmark lock (the lock ``flock /tmp/gridkit-bench.lock`` takes)."""
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def timed_run(command: list[str], stdout: Path) -> dict:
    """Run ``command`` under the lock; wall time, peak RSS and CPU time of its process.

    ``wait4`` reports the process and the children it waited for (the workers of
    a dask local cluster): peak RSS is then that of the largest of them.
    """
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        with bench_lock():
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n"
                     f"{err.read().decode(errors='replace')[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def gridkit_command() -> list[str]:
    script = shutil.which("gridkit")
    return [script] if script else [sys.executable, "-c",
                                    "import sys; from gridkit.cli import main; main(sys.argv[1:])"]


def summary(runs: list[dict]) -> dict:
    return {"median_s": statistics.median(r["wall_s"] for r in runs),
            "runs_s": [round(r["wall_s"], 2) for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "median_cpu_s": statistics.median(r["cpu_s"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="synth folder (reused if complete)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", action="store_true",
                        help="gridkit also writes the joined events (--out joined.parquet)")
    parser.add_argument("--dask", action="store_true",
                        help="also time one run of --engine dask (local cluster, 2 workers)")
    parser.add_argument("--min-ratio", type=float, default=4.0)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = synth_folder(args.grids, args.events, args.seed, args.dir)
    grids, events = folder / "grids.gpkg", folder / "events.parquet"
    work = Path(tempfile.mkdtemp(prefix="gridkit-bench-events-"))
    gridkit = [*gridkit_command(), "events", str(grids), str(events), "--by", "grid",
               "--format", "json"]
    if args.out:
        gridkit += ["--out", str(work / "joined.parquet"), "--force"]
    sjoin = [sys.executable, str(BASELINE), str(grids), str(events)]
    runs: dict[str, list[dict]] = {"gridkit": [], "sjoin": []}
    for i in range(args.rounds):
        order = [("gridkit", gridkit), ("sjoin", sjoin)][:: 1 if i % 2 == 0 else -1]
        for name, command in order:
            runs[name].append(timed_run(command, work / f"{name}.json"))
            print(f"round {i + 1} {name:8s} {runs[name][-1]['wall_s']:7.2f} s "
                  f"{runs[name][-1]['peak_rss_mb']:7.0f} MB", file=sys.stderr)

    ours = json.loads((work / "gridkit.json").read_text(encoding="utf-8"))
    theirs = json.loads((work / "sjoin.json").read_text(encoding="utf-8"))
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["metrics"]
    per_grid = {r["code"]: r["located"] for r in ours["rows"] if r["code"] and r["located"]}
    result = {
        "grids": args.grids, "events": args.events, "rounds": args.rounds,
        "machine_cpus": os.cpu_count(), "gridkit_writes_joined_events": args.out,
        "gridkit": summary(runs["gridkit"]), "sjoin": summary(runs["sjoin"]),
        "same_per_grid_counts": per_grid == theirs["per_grid"],
        "gridkit_matches_truth": all(
            ours[k] == truth[k] if isinstance(truth[k], int) or truth[k] is None
            else abs(ours[k] - truth[k]) < 1e-9 for k in TRUTH_KEYS),
    }
    result["ratio"] = result["sjoin"]["median_s"] / result["gridkit"]["median_s"]
    if args.dask:
        command = [*gridkit_command(), "events", str(grids), str(events), "--format", "json",
                   "--by", "grid", "--engine", "dask", "--workers", "2"]
        result["dask"] = timed_run(command, work / "dask.json")
        result["dask"]["same_as_local"] = json.loads(
            (work / "dask.json").read_text(encoding="utf-8")) == ours
    shutil.rmtree(work, ignore_errors=True)

    if args.json:
        print(json.dumps(result, indent=2))
    else:
        g, s = result["gridkit"], result["sjoin"]
        print(f"{args.grids:,} grids, {args.events:,} events, {args.rounds} rounds each, "
              f"{os.cpu_count()} CPUs")
        print(f"{'':28s}{'median':>9s}{'peak memory':>13s}{'CPU time':>10s}   runs")
        print(f"{'gridkit events':28s}{g['median_s']:8.2f}s{g['peak_rss_mb']:10.0f} MB"
              f"{g['median_cpu_s']:9.1f}s   {g['runs_s']}")
        print(f"{'geopandas.sjoin script':28s}{s['median_s']:8.2f}s{s['peak_rss_mb']:10.0f} MB"
              f"{s['median_cpu_s']:9.1f}s   {s['runs_s']}")
        print(f"ratio (sjoin / gridkit): {result['ratio']:.1f}x "
              f"(required: {args.min_ratio:g}x)")
        print(f"same per-grid counts: {'yes' if result['same_per_grid_counts'] else 'NO'}; "
              f"gridkit metrics equal truth.json: "
              f"{'yes' if result['gridkit_matches_truth'] else 'NO'}")
        if "dask" in result:
            d = result["dask"]
            print(f"--engine dask (local cluster, 2 workers): {d['wall_s']:.1f} s, "
                  f"largest process {d['peak_rss_mb']:.0f} MB, same result as local: "
                  f"{'yes' if d['same_as_local'] else 'NO'}")
    ok = result["ratio"] >= args.min_ratio and result["same_per_grid_counts"] \
        and result["gridkit_matches_truth"] and result.get("dask", {}).get("same_as_local", True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
