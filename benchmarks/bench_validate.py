"""Benchmark ``gridkit validate`` on a synthetic city and check it against the truth.

Builds (or reuses) ``gridkit synth --defects`` output of N grids (default
20,000, all 11 districts), then times

1. reading the grid, community and reference layers (``gridkit.io.read_layer``);
2. :func:`gridkit.validate.validate` with communities, reference and the
   shipped code list (every rule);
3. ``shapely.coverage_invalid_edges`` alone on the same grid layer (metric
   CRS), the GEOS coverage check the validator builds on;

and reports the ratio of (2) to (3), whether every injected defect was found
with its rule and grid codes, and whether any error names only clean grids.
The GCJ-02 copy of the layer is validated too (``layer_offset``).

Usage::

    python benchmarks/bench_validate.py [--grids 20000] [--seed 7] [--dir DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from gridkit.crs import to_metric
from gridkit.io import read_layer
from gridkit.synth import synthesize
from gridkit.validate import validate
from gridkit.validate.geometry import repair


def synth_folder(grids: int, seed: int, folder: Path | None) -> Path:
    """The synth output folder, generated unless a complete one is there already."""
    folder = folder or Path(tempfile.gettempdir()) / f"gridkit-bench-synth-{grids}-seed{seed}"
    if not (folder / "truth.json").exists():
        start = time.perf_counter()
        synthesize(folder, grids=grids, events=0, seed=seed, defects=True, force=True)
        print(f"generated {folder} in {time.perf_counter() - start:.1f} s")
    return folder


def check_truth(findings: list[dict], defects: list[dict]) -> tuple[list[dict], list[dict]]:
    """Defects no finding reports, and errors naming no defect grid (both should be empty)."""
    missed = [d for d in defects
              if not any(f["rule"] == d["rule"] and set(d["grid_codes"]) <= set(f["grid_codes"])
                         for f in findings)]
    touched = {c for d in defects for c in d["grid_codes"]}
    stray = [f for f in findings if f["severity"] == "error" and f["rule"] != "layer_offset"
             and not set(f["grid_codes"]) & touched]
    return missed, stray


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, default=None, help="synth folder (reused if present)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    folder = synth_folder(args.grids, args.seed, args.dir)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    (grids, communities, reference), read_s = timed(lambda: (
        read_layer(folder / "grids.gpkg"),
        read_layer(folder / "communities.gpkg", "communities"),
        read_layer(folder / "reference.gpkg", "reference")))
    result, validate_s = timed(validate, grids, communities, reference)
    metric, _ = repair(to_metric(grids).geometry.to_numpy())
    metric = metric[~shapely.is_missing(metric)]
    _, coverage_s = timed(shapely.coverage_invalid_edges, metric)
    missed, stray = check_truth(result.records(),
                                [d for d in truth["defects"] if d["rule"] != "layer_offset"])

    offset_entry = next(d for d in truth["defects"] if d["rule"] == "layer_offset")
    shifted = read_layer(folder / offset_entry["file"])
    offset_result, offset_s = timed(validate, shifted, communities, reference)
    offset = [f for f in offset_result.records() if f["rule"] == "layer_offset"]

    numbers = {
        "grids": len(grids),
        "vertices_per_grid": float(np.mean(shapely.get_num_coordinates(metric))),
        "read_s": round(read_s, 2),
        "validate_s": round(validate_s, 2),
        "coverage_invalid_edges_s": round(coverage_s, 2),
        "ratio": round(validate_s / coverage_s, 1),
        "errors": result.errors,
        "warnings": result.warnings,
        "defects": len(truth["defects"]) - 1,
        "defects_missed": len(missed),
        "errors_on_clean_grids": len(stray),
        "gcj02_validate_s": round(offset_s, 2),
        "gcj02_offset": offset[0]["offset_crs"] if offset else None,
    }
    if args.json:
        print(json.dumps(numbers, indent=2))
        return
    print(f"{numbers['grids']} grids, {numbers['vertices_per_grid']:.0f} vertices each "
          f"(synth seed {args.seed}, {folder})")
    print(f"  read 3 layers                    {read_s:7.2f} s")
    print(f"  validate (all rules)             {validate_s:7.2f} s")
    print(f"  shapely.coverage_invalid_edges   {coverage_s:7.2f} s")
    print(f"  ratio validate / coverage check  {numbers['ratio']:7.1f} x")
    print(f"  findings: {result.errors} errors, {result.warnings} warnings; "
          f"{numbers['defects'] - len(missed)}/{numbers['defects']} defects found; "
          f"{len(stray)} errors on clean grids")
    print(f"  GCJ-02 copy: validate {offset_s:.2f} s, layer_offset -> {numbers['gcj02_offset']}")
    for item in missed:
        print("  MISSED", item)
    for item in stray:
        print("  STRAY ", item["rule"], item["grid_codes"], item["message"])


if __name__ == "__main__":
    main()
