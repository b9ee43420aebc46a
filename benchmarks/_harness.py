"""What every benchmark script shares: alternating timed runs of whole commands.

Each run is a child process timed end to end (interpreter start, imports,
reading, work, output) while it holds ``/tmp/gridkit-bench.lock`` (``flock``),
so benchmarks of other jobs on the machine do not overlap it; waiting for the
lock is not counted. Peak memory is the child's maximum resident set size
(``os.wait4``). Commands run alternately, the order rotating every round, so
that drift on a shared machine hits all of them alike; the medians and their
ratios are what the scripts print.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["LOCK", "alternate", "bench_lock", "gridkit_command", "ratio_line", "summary",
           "table", "timed_run"]

LOCK = "/tmp/gridkit-bench.lock"


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
    """Run ``command`` under the lock; wall time, peak RSS (MB) and CPU time of its process.

    ``wait4`` reports the process and the children it waited for: peak RSS is
    then that of the largest of them.
    """
    with open(stdout, "wb") as out, tempfile.TemporaryFile() as err:
        with bench_lock():
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: validate found errors, as intended
            err.seek(0)
            sys.exit(f"{' '.join(command)} failed ({code}):\n"
                     f"{err.read().decode(errors='replace')[-2000:]}")
    return {"wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def alternate(commands: Mapping[str, list[str]], rounds: int, work: Path, *,
              warmup: int = 1) -> dict[str, list]:
    """Run every command ``rounds`` times, the order rotating each round.

    ``warmup`` rounds run first and are not counted: they bring the files into
    the page cache and, on this project's virtual machine, the memory: the
    first touch of a page the host has not backed yet costs about 4 ms per MB
    (a 400 MB array takes 2 s to fill the first time, 0.1 s afterwards), which
    would charge whichever command ran first.
    The output of each command's last run is in ``work / f"{name}.out"``.
    """
    for _ in range(warmup):
        for name, command in commands.items():
            timed_run(command, work / f"{name}.out")
    runs: dict[str, list[dict]] = {name: [] for name in commands}
    names = list(commands)
    for i in range(rounds):
        order = names[i % len(names):] + names[:i % len(names)]
        if i % 2:
            order.reverse()
        for name in order:
            runs[name].append(timed_run(commands[name], work / f"{name}.out"))
            print(f"round {i + 1} {name:22s} {runs[name][-1]['wall_s']:7.2f} s "
                  f"{runs[name][-1]['peak_rss_mb']:7.0f} MB", file=sys.stderr, flush=True)
    return runs


def summary(runs: list[dict]) -> dict:
    """Median wall time, every run's time, peak memory and median CPU time."""
    return {"median_s": round(statistics.median(r["wall_s"] for r in runs), 2),
            "runs_s": [round(r["wall_s"], 2) for r in runs],
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in runs), 1)}


def gridkit_command() -> list[str]:
    """How to start the ``gridkit`` command line of this environment."""
    script = shutil.which("gridkit") or str(Path(sys.executable).with_name("gridkit"))
    return [script] if Path(script).exists() else [
        sys.executable, "-c", "import sys; from gridkit.cli import main; main(sys.argv[1:])"]


def table(results: Mapping[str, dict]) -> str:
    """The results as an aligned text table: median, peak memory, CPU time, runs."""
    lines = [f"{'':34s}{'median':>9s}{'peak memory':>13s}{'CPU time':>10s}   runs"]
    for name, s in results.items():
        lines.append(f"{name:34s}{s['median_s']:8.2f}s{s['peak_rss_mb']:10.0f} MB"
                     f"{s['median_cpu_s']:9.1f}s   {s['runs_s']}")
    return "\n".join(lines)


def ratio_line(label: str, value: float, target: float | None = None, *,
               faster: bool = True) -> str:
    """One printed ratio, with the target it is held to."""
    want = "" if target is None else f" (target: {'>=' if faster else '<='} {target:g}x)"
    ok = "" if target is None else ("  ok" if (value >= target if faster else value <= target)
                                    else "  NOT MET")
    return f"{label}: {value:.2f}x{want}{ok}"
