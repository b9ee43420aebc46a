"""Benchmark ``gridkit validate`` against the minimal coverage-check script, end to end.

Runs alternately (see ``benchmarks/_harness.py``), each as a child process:

- ``gridkit``: ``gridkit validate GRIDS --communities C --reference R
  [--codes CODES] --format json`` (every rule, findings as JSON);
- ``minimal``: ``benchmarks/coverage_baseline.py GRIDS``: geopandas reads the
  grids, reprojects them to EPSG:4547, ``shapely.coverage_invalid_edges``.

and prints medians, peak memory (max RSS of each process), CPU time and the
ratio gridkit / minimal. ``--expect FILE`` checks that gridkit's JSON is
byte-identical to FILE (saved before a change). With ``--tile K`` the city in
``--dir`` is first tiled K times (``tile_city``: copies side by side, each with
its own city code 4401, 4402, ... in grid and community codes, and the code
list to match) into ``--tile-dir``, e.g. 10 copies of 20,000 grids for a
province of 200,000.

Usage::

    python benchmarks/bench_validate.py --dir DIR [--rounds 3] [--expect validate.json]
    python benchmarks/bench_validate.py --dir DIR --tile 10 --tile-dir DIR200K --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import alternate, gridkit_command, ratio_line, summary, table  # noqa: E402

HERE = Path(__file__).resolve().parent
LAYERS = ("grids", "communities", "reference")
#: The CRS the copies are shifted in: the minimal script's, and gridkit's choice for the province.
TILE_CRS = "EPSG:4547"
#: Space (m) between copies.
TILE_GAP_M = 5000.0
#: Columns holding codes that start with the 4-digit city code.
CODE_COLUMNS = ("grid_code", "community_code")


def tile_city(source: Path, target: Path, copies: int) -> Path:
    """``copies`` copies of the city in ``source`` side by side, each with its own city code.

    Copy k (0-based) is shifted by whole extents (4 copies a row) in
    ``TILE_CRS``, the CRS both commands measure in, and written in CGCS2000
    lon/lat; its codes get city code 4401 + k in place of the first four
    digits; ``codes.csv`` is the shipped code list repeated likewise, so no
    rule fires because of the tiling itself. (Shifted in degrees instead, a
    copy 3.5° east of the central meridian turns by 1.5° in ``TILE_CRS``, the
    grid convergence, and its serials, numbered by ``gridkit synth`` in that
    CRS, no longer follow its reading order: ``code_serial_order`` then flags
    communities whose numbering is borderline.) Reused when ``target`` has
    all its files.
    """
    import pandas as pd
    import shapely

    from gridkit.codes import load_divisions
    from gridkit.data import GUANGZHOU_CODES
    from gridkit.io import read_layer

    files = [target / f"{name}.gpkg" for name in LAYERS] + [target / "codes.csv"]
    if all(f.exists() for f in files):
        return target
    target.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    layers = {name: read_layer(source / f"{name}.gpkg", name) for name in LAYERS}
    minx, miny, maxx, maxy = layers["communities"].to_crs(TILE_CRS).total_bounds
    width, height = maxx - minx + TILE_GAP_M, maxy - miny + TILE_GAP_M

    def city(k: int, codes: pd.Series) -> pd.Series:
        return codes.where(codes.isna(), f"44{1 + k:02d}" + codes.astype(str).str[4:])

    for name, layer in layers.items():
        layer = layer.to_crs(TILE_CRS)
        parts = []
        for k in range(copies):
            copy = layer.copy()
            copy.geometry = shapely.transform(
                layer.geometry.to_numpy(), lambda xy, k=k: xy + [k % 4 * width, k // 4 * height])
            for column in CODE_COLUMNS:
                if column in copy:
                    copy[column] = city(k, copy[column])
            parts.append(copy)
        tiled = pd.concat(parts, ignore_index=True).to_crs(4490)
        tiled.attrs = {}
        tiled.to_file(target / f"{name}.gpkg", layer=name, driver="GPKG")
    codes = load_divisions(GUANGZHOU_CODES)  # the city's own list (the default is national)
    pd.concat([codes.assign(code=city(k, codes["code"]), parent_code=city(k, codes["parent_code"]))
               for k in range(copies)]).to_csv(target / "codes.csv", index=False)
    print(f"tiled {copies} copies into {target} in {time.perf_counter() - start:.0f} s",
          file=sys.stderr)
    return target


def check_truth(findings: list[dict], defects: list[dict]) -> tuple[list[dict], list[dict]]:
    """Defects no finding reports, and errors naming no defect grid (both should be empty)."""
    missed = [d for d in defects
              if not any(f["rule"] == d["rule"] and set(d["grid_codes"]) <= set(f["grid_codes"])
                         for f in findings)]
    touched = {c for d in defects for c in d["grid_codes"]}
    stray = [f for f in findings if f["severity"] == "error" and f["rule"] != "layer_offset"
             and not set(f["grid_codes"]) & touched]
    return missed, stray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True,
                        help="gridkit synth output (grids, communities, reference)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tile", type=int, default=0, help="tile the city this many times")
    parser.add_argument("--tile-dir", type=Path, default=None,
                        help="where the tiled layers go (reused if complete)")
    parser.add_argument("--expect", type=Path, default=None,
                        help="gridkit's JSON must be byte-identical to this file")
    parser.add_argument("--max-ratio", type=float, default=None,
                        help="target ratio (default 1.6, with --tile 2: issue 16's targets)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    folder = args.dir
    max_ratio = args.max_ratio or (2.0 if args.tile else 1.6)
    if args.tile:
        folder = tile_city(args.dir, args.tile_dir or Path(tempfile.gettempdir()) /
                           f"gridkit-bench-tiled-{args.tile}", args.tile)
    work = Path(tempfile.mkdtemp(prefix="gridkit-bench-validate-"))
    gridkit = [*gridkit_command(), "validate", str(folder / "grids.gpkg"),
               "--communities", str(folder / "communities.gpkg"),
               "--reference", str(folder / "reference.gpkg"), "--format", "json"]
    if (folder / "codes.csv").exists():
        gridkit += ["--codes", str(folder / "codes.csv")]
    commands = {"gridkit": gridkit,
                "minimal": [sys.executable, str(HERE / "coverage_baseline.py"),
                            str(folder / "grids.gpkg")]}
    runs = alternate(commands, args.rounds, work)
    ours = (work / "gridkit.out").read_bytes()
    found = json.loads(ours)
    theirs = json.loads((work / "minimal.out").read_bytes())
    result = {"grids": found["grids"], "rounds": args.rounds, "machine_cpus": os.cpu_count(),
              "runs": {name: summary(r) for name, r in runs.items()},
              "errors": found["errors"], "warnings": found["warnings"],
              "by_rule": {k: v for k, v in found["by_rule"].items() if v},
              "minimal_grids_with_invalid_edges": theirs["grids_with_invalid_edges"]}
    result["ratio"] = round(result["runs"]["gridkit"]["median_s"]
                            / result["runs"]["minimal"]["median_s"], 2)
    if args.expect is not None:
        result["identical_to_expected"] = args.expect.read_bytes() == ours
    truth = folder / "truth.json"
    if truth.exists():
        defects = [d for d in json.loads(truth.read_text(encoding="utf-8"))["defects"]
                   if d["rule"] != "layer_offset"]
        missed, stray = check_truth(found["findings"], defects)
        result.update(defects=len(defects), defects_missed=missed, errors_on_clean_grids=stray)
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['grids']:,} grids with communities and reference, {args.rounds} rounds "
              f"each, alternating, {os.cpu_count()} CPUs ({folder})")
        print(table(result["runs"]))
        print(ratio_line("ratio gridkit validate / minimal script", result["ratio"],
                         max_ratio, faster=False))
        print(f"findings: {result['errors']} errors, {result['warnings']} warnings "
              f"{result['by_rule']}; minimal script: {theirs['grids_with_invalid_edges']} grids "
              f"with invalid edges")
        if "defects" in result:
            print(f"injected defects found: {result['defects'] - len(result['defects_missed'])}"
                  f"/{result['defects']}; errors on clean grids: "
                  f"{len(result['errors_on_clean_grids'])}")
        if "identical_to_expected" in result:
            print(f"identical to expected: {'yes' if result['identical_to_expected'] else 'NO'}")
    sys.exit(0 if result.get("identical_to_expected", True) and not result.get("defects_missed")
             and not result.get("errors_on_clean_grids") else 1)


if __name__ == "__main__":
    main()
