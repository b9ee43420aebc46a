"""Benchmark the city-scale coverage map (``gridkit map coverage``) on a synthetic city.

Builds (or reuses, ``--dir``) ``gridkit synth --defects`` output of N grids
(default 20,000, all 11 districts), then times

1. reading the grid layer and the four rosters;
2. the coverage metrics per grid (:func:`gridkit.coverage.compute_coverage`);
3. building the map (:func:`gridkit.maps.coverage_map`: coverage
   simplification, street and district outlines, classes, tooltips);
4. rendering the HTML (:func:`gridkit.maps.render_map`, offline: Leaflet inlined);

and prints the file size against the 10 MB budget of the spec, the
simplification tolerance, the number of grids and vertices drawn. With
``--browser`` it also opens the page in headless Chromium and times the
load until the grids are drawn on the canvas (``tests/chromium.py``).

Usage::

    python benchmarks/bench_map.py [--grids 20000] [--seed 7] [--dir DIR]
        [--tolerance 5] [--online] [--browser] [--out FILE] [--json]

Run timing benchmarks one at a time on a shared machine:
``flock /tmp/gridkit-bench.lock python benchmarks/bench_map.py ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import shapely

from gridkit.coverage import ROSTERS, compute_coverage
from gridkit.io import read_layer, read_table
from gridkit.maps import DEFAULT_TOLERANCE_M, coverage_map, render_map
from gridkit.synth import synthesize

#: The spec's budget for a city map (SPEC §6: "tens of MB of HTML is a failure").
BUDGET_BYTES = 10_000_000
ROOT = Path(__file__).resolve().parents[1]

#: Non-transparent pixels sampled on the map's overlay canvas (0 until the grids are drawn).
PAINTED_JS = """
(() => { let n = 0;
  document.querySelectorAll('.leaflet-overlay-pane canvas').forEach((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4 * 13) { if (px[i]) { n += 1; } } });
  return n; })()
"""


def synth_folder(grids: int, seed: int, folder: Path | None) -> Path:
    """The synth output folder, generated unless one with the grid layer and rosters is there."""
    folder = folder or Path(tempfile.gettempdir()) / f"gridkit-bench-synth-{grids}-seed{seed}"
    needed = ["grids.gpkg", *(f"{k}.csv" for k in ROSTERS)]
    if not all((folder / name).exists() for name in needed):
        start = time.perf_counter()
        synthesize(folder, grids=grids, events=0, seed=seed, defects=True, force=True)
        print(f"generated {folder} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return folder


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def browser_seconds(path: Path) -> float | None:
    """Seconds from opening ``path`` in headless Chromium to the grids drawn, or None."""
    sys.path.insert(0, str(ROOT / "tests"))
    from chromium import Chromium, find_chromium

    binary = find_chromium()
    if binary is None:
        return None
    with Chromium(binary) as browser:
        start = time.perf_counter()
        page = browser.open(path.resolve().as_uri(), timeout=120)
        drawn = page.wait_for(PAINTED_JS, timeout=120, interval=0.05)
        seconds = time.perf_counter() - start
        if not drawn or page.errors:
            raise RuntimeError(f"the map did not draw: {page.errors}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="synth folder (reused if present)")
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE_M,
                        help="coverage-simplification tolerance, metres")
    parser.add_argument("--online", action="store_true",
                        help="Leaflet from the CDN and OSM tiles (default: offline, inlined)")
    parser.add_argument("--browser", action="store_true",
                        help="also time opening the map in headless Chromium")
    parser.add_argument("--out", type=Path, default=None,
                        help="HTML to write (default: benchmarks/out/coverage-N.html)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    folder = synth_folder(args.grids, args.seed, args.dir)
    (grids, rosters), read_s = timed(lambda: (
        read_layer(folder / "grids.gpkg"),
        {k: read_table(folder / f"{k}.csv", k) for k in ROSTERS}))
    coverage, coverage_s = timed(compute_coverage, grids, **rosters, by="grid")
    gmap, build_s = timed(coverage_map, grids, coverage.rows, level="grid",
                          tolerance_m=args.tolerance)
    page, render_s = timed(render_map, gmap, offline=not args.online)
    out = args.out or ROOT / "benchmarks" / "out" / f"coverage-{args.grids}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = page.encode("utf-8")
    out.write_bytes(data)
    drawn = gmap.sources["units"].geometry.values
    numbers = {
        "grids": len(grids),
        "features": gmap.features,
        "vertices": int(shapely.get_num_coordinates(drawn).sum()),
        "tolerance_m": args.tolerance,
        "offline": not args.online,
        "bytes": len(data),
        "mb": round(len(data) / 1e6, 2),
        "within_budget": len(data) <= BUDGET_BYTES,
        "read_s": round(read_s, 2),
        "coverage_s": round(coverage_s, 2),
        "map_build_s": round(build_s, 2),
        "render_s": round(render_s, 2),
        "build_s": round(build_s + render_s, 2),
        "browser_s": None,
        "path": str(out),
    }
    if args.browser:
        seconds = browser_seconds(out)
        numbers["browser_s"] = None if seconds is None else round(seconds, 2)
    if args.json:
        print(json.dumps(numbers, indent=2))
    else:
        print(f"coverage map of {numbers['grids']:,} grids ({numbers['features']:,} drawn, "
              f"{numbers['vertices']:,} vertices), tolerance {args.tolerance:g} m, "
              f"{'offline' if numbers['offline'] else 'online'} (synth seed {args.seed}, {folder})")
        print(f"  read layer + rosters      {read_s:7.2f} s")
        print(f"  coverage per grid         {coverage_s:7.2f} s")
        print(f"  build map (simplify, ...) {build_s:7.2f} s")
        print(f"  render HTML               {render_s:7.2f} s")
        print(f"  build total               {build_s + render_s:7.2f} s")
        print(f"  size                      {numbers['mb']:7.2f} MB "
              f"({'within' if numbers['within_budget'] else 'OVER'} the 10 MB budget)")
        if args.browser:
            shown = "Chromium not found" if numbers["browser_s"] is None else (
                f"{numbers['browser_s']:.2f} s")
            print(f"  open in headless Chromium {shown:>9} (load until drawn)")
        print(f"  written to {out}")
    if not numbers["within_budget"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
