"""Benchmark city- and province-scale maps (``gridkit map coverage|grids``) on synthetic data.

Builds (or reuses, ``--dir``) ``gridkit synth --defects`` output of N grids
(default 20,000, all 11 districts), then

1. in this process, for a coverage map (skipped with ``--no-phases``), times
   reading the grid layer and the four rosters, the coverage metrics per grid
   (:func:`gridkit.coverage.compute_coverage`), building the map
   (:func:`gridkit.maps.coverage_map`: simplification, outlines, classes,
   tooltips) and rendering the HTML (:func:`gridkit.maps.render_map`), CPU
   time beside wall time;
2. runs the commands end to end, alternately (``--rounds``, medians; see
   ``benchmarks/_harness.py``): ``gridkit map KIND`` and, for a coverage map,
   ``gridkit coverage --by grid --format json`` on the same inputs, and prints
   the ratio of their times (target: the map at most 2× ``gridkit coverage``);

and prints the file size against the 10 MB budget of the spec. A layer over
``--max-grids-per-page`` grids is written as an overview of communities and
one page per district (:mod:`gridkit.maps.pages`): the sizes of the overview
and of the district pages are printed. With ``--browser`` the page (the
overview and the largest district page) is opened in headless Chromium and
the load timed until it is drawn on the canvas (``tests/helpers/chromium.py``).

Usage::

    python -m benchmarks.bench_map [--grids 20000] [--seed 7] [--dir DIR] [--kind coverage]
        [--codes FILE] [--tolerance 5] [--max-grids-per-page N] [--rounds 1]
        [--no-phases] [--online] [--browser] [--out FILE] [--json]

    python -m benchmarks.bench_map --dir /work/bench-data --browser --rounds 3
    python -m benchmarks.bench_map --dir /work/bench-data-200k --kind grids \
        --codes /work/bench-data-200k/codes.csv --browser

Run it from the checkout (``--browser`` uses the tests' Chromium driver,
``tests.helpers.chromium``); the timed commands take the machine-wide
benchmark lock themselves.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import shapely

from benchmarks._harness import alternate, gridkit_command, ratio_line, summary, table
from gridkit.coverage import ROSTERS, compute_coverage
from gridkit.io import read_layer, read_table
from gridkit.maps import DEFAULT_TOLERANCE_M, MAX_GRIDS_PER_PAGE, coverage_map, render_map
from gridkit.synth import synthesize

#: The spec's budget for a city map (SPEC §6: "tens of MB of HTML is a failure").
BUDGET_BYTES = 10_000_000
#: Issue 16: the map built in at most this multiple of ``gridkit coverage``'s time.
TARGET_RATIO = 2.0
ROOT = Path(__file__).resolve().parents[1]

#: Non-transparent pixels sampled on the map's overlay canvas (0 until the grids are drawn).
PAINTED_JS = """
(() => { let n = 0;
  document.querySelectorAll('.leaflet-overlay-pane canvas').forEach((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4 * 13) { if (px[i]) { n += 1; } } });
  return n; })()
"""


def synth_folder(grids: int, seed: int, folder: Path | None, kind: str) -> Path:
    """The synth output folder, generated unless one with the grid layer (and rosters) is there."""
    folder = folder or Path(tempfile.gettempdir()) / f"gridkit-bench-synth-{grids}-seed{seed}"
    needed = ["grids.gpkg", *(f"{k}.csv" for k in ROSTERS if kind == "coverage")]
    if not all((folder / name).exists() for name in needed):
        start = time.perf_counter()
        synthesize(folder, grids=grids, events=0, seed=seed, defects=True, force=True)
        print(f"generated {folder} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return folder


def timed(function, *args, **kwargs):
    """The value of ``function(*args, **kwargs)``, its wall and its CPU seconds."""
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start, time.process_time() - cpu


def phases(folder: Path, tolerance: float, online: bool) -> dict:
    """Wall and CPU seconds of each step of a coverage map, in this process."""
    (grids, rosters), *read = timed(lambda: (
        read_layer(folder / "grids.gpkg"),
        {k: read_table(folder / f"{k}.csv", k) for k in ROSTERS}))
    coverage, *cover = timed(compute_coverage, grids, **rosters, by="grid")
    gmap, *build = timed(coverage_map, grids, coverage.rows, level="grid",
                         tolerance_m=tolerance)
    page, *render = timed(render_map, gmap, offline=not online)
    drawn = gmap.sources["units"].geometry.values
    steps = {"read layer + rosters": read, "coverage per grid": cover,
             "build map (simplify, ...)": build, "render HTML": render}
    out = {name: {"wall_s": round(w, 2), "cpu_s": round(c, 2)} for name, (w, c) in steps.items()}
    return {"steps": out, "vertices": int(shapely.get_num_coordinates(drawn).sum()),
            "bytes": len(page.encode("utf-8")),
            "ratio_wall": round((build[0] + render[0]) / (read[0] + cover[0]), 2),
            "ratio_cpu": round((build[1] + render[1]) / (read[1] + cover[1]), 2)}


def browser_seconds(path: Path) -> float | None:
    """Seconds from opening ``path`` in headless Chromium to the grids drawn, or None."""
    from tests.helpers.chromium import Chromium, find_chromium

    binary = find_chromium()
    if binary is None:
        return None
    with Chromium(binary) as browser:
        start = time.perf_counter()
        page = browser.open(path.resolve().as_uri(), timeout=300)
        drawn = page.wait_for(PAINTED_JS, timeout=300, interval=0.05)
        seconds = time.perf_counter() - start
        if not drawn or page.errors:
            raise RuntimeError(f"{path} did not draw: {page.errors}")
    return seconds


def commands(kind: str, folder: Path, out: Path, args: argparse.Namespace) -> dict[str, list]:
    """The timed command lines: ``gridkit map KIND`` and, for coverage, ``gridkit coverage``."""
    gridkit = gridkit_command()
    inputs = [str(folder / "grids.gpkg")]
    if kind == "coverage":
        inputs += [a for k in ROSTERS for a in (f"--{k}", str(folder / f"{k}.csv"))]
    if args.codes:
        inputs += ["--codes", str(args.codes)]
    runs = {"gridkit map " + kind: [
        *gridkit, "map", kind, *inputs, "--out", str(out), "--force", "--format", "json",
        "--tolerance", f"{args.tolerance:g}", "--max-grids-per-page",
        str(args.max_grids_per_page), "--online" if args.online else "--offline"]}
    if kind == "coverage":
        runs["gridkit coverage --by grid"] = [*gridkit, "coverage", *inputs, "--by", "grid",
                                              "--format", "json"]
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="synth folder (reused if present)")
    parser.add_argument("--kind", choices=("coverage", "grids"), default="coverage",
                        help="the map: coverage (needs the rosters) or grids")
    parser.add_argument("--codes", type=Path, default=None,
                        help="code list of the layer (names), as gridkit map --codes")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M,
                        help="coverage-simplification tolerance, metres")
    parser.add_argument("--max-grids-per-page", type=int, default=MAX_GRIDS_PER_PAGE,
                        help="above it: an overview and one page per district")
    parser.add_argument("--rounds", type=int, default=1, help="alternating end-to-end runs")
    parser.add_argument("--no-phases", action="store_true",
                        help="skip the in-process timing of each step")
    parser.add_argument("--online", action="store_true",
                        help="Leaflet from the CDN and OSM tiles (default: offline, inlined)")
    parser.add_argument("--browser", action="store_true",
                        help="also time opening the map in headless Chromium")
    parser.add_argument("--out", type=Path, default=None,
                        help="HTML to write (default: benchmarks/out/KIND-N.html)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    folder = synth_folder(args.grids, args.seed, args.dir, args.kind)
    out = args.out or ROOT / "benchmarks" / "out" / f"{args.kind}-{folder.name}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    numbers: dict = {"folder": str(folder), "kind": args.kind, "tolerance_m": args.tolerance,
                     "offline": not args.online, "max_grids_per_page": args.max_grids_per_page}
    if args.kind == "coverage" and not args.no_phases:
        numbers["phases"] = phases(folder, args.tolerance, args.online)
    with tempfile.TemporaryDirectory(prefix="gridkit-bench-map-") as work:
        runs = alternate(commands(args.kind, folder, out, args), args.rounds, Path(work))
        written = json.loads((Path(work) / f"gridkit map {args.kind}.out").read_text())
    numbers["runs"] = {name: summary(r) for name, r in runs.items()}
    pages = [Path(p) for p in written["pages"]]
    numbers.update(features=written["features"], bytes=written["bytes"],
                   mb=round(written["bytes"] / 1e6, 2),
                   within_budget=written["bytes"] <= BUDGET_BYTES, path=str(out),
                   pages=len(pages),
                   pages_mb=round(sum(p.stat().st_size for p in pages) / 1e6, 2),
                   largest_page_mb=round(max((p.stat().st_size for p in pages), default=0)
                                         / 1e6, 2))
    if args.kind == "coverage":
        medians = [s["median_s"] for s in numbers["runs"].values()]
        cpus = [s["median_cpu_s"] for s in numbers["runs"].values()]
        numbers["ratio_wall"] = round(medians[0] / medians[1], 2)
        numbers["ratio_cpu"] = round(cpus[0] / cpus[1], 2) if cpus[1] else None
    if args.browser:
        shown = [out] + ([max(pages, key=lambda p: p.stat().st_size)] if pages else [])
        numbers["browser_s"] = {str(p): (None if (s := browser_seconds(p)) is None
                                         else round(s, 2)) for p in shown}
    if args.json:
        print(json.dumps(numbers, indent=2, ensure_ascii=False))
    else:
        report(numbers, args)
    if not numbers["within_budget"]:
        sys.exit(1)


def report(numbers: dict, args: argparse.Namespace) -> None:
    """The numbers as text."""
    print(f"{args.kind} map of {numbers['folder']}: {numbers['features']:,} features drawn, "
          f"tolerance {args.tolerance:g} m, {'offline' if numbers['offline'] else 'online'}")
    if "phases" in numbers:
        p = numbers["phases"]
        print(f"in-process steps ({p['vertices']:,} vertices drawn):          wall     CPU")
        for name, step in p["steps"].items():
            print(f"  {name:26s} {step['wall_s']:7.2f} s {step['cpu_s']:6.2f} s")
        print(f"  build + render / read + coverage: {p['ratio_wall']:.2f}x wall, "
              f"{p['ratio_cpu']:.2f}x CPU")
    print(table(numbers["runs"]))
    if "ratio_wall" in numbers:
        print(ratio_line("gridkit map coverage / gridkit coverage (wall)", numbers["ratio_wall"],
                         TARGET_RATIO, faster=False))
        print(ratio_line("gridkit map coverage / gridkit coverage (CPU)", numbers["ratio_cpu"],
                         TARGET_RATIO, faster=False))
    print(f"size {numbers['mb']:.2f} MB ({'within' if numbers['within_budget'] else 'OVER'} "
          f"the 10 MB budget): {numbers['path']}")
    if numbers["pages"]:
        print(f"over {numbers['max_grids_per_page']:,} grids: that is the overview; "
              f"{numbers['pages']} district pages, {numbers['pages_mb']:.2f} MB in all, "
              f"the largest {numbers['largest_page_mb']:.2f} MB")
    for path, seconds in numbers.get("browser_s", {}).items():
        shown = "Chromium not found" if seconds is None else f"{seconds:.2f} s"
        print(f"  open in headless Chromium until drawn: {shown}  {Path(path).name}")


if __name__ == "__main__":
    main()
