"""Refresh ``docs/report.png``, the README's picture of the evaluation report.

Writes the report of the shipped sample (``gridkit demo``'s project) to a
temporary folder, opens it in headless Chromium (``tests/helpers/chromium.py``,
the driver the tests use), waits until the four maps have drawn and saves
the top 1280 × 1800 CSS pixels: title, summary cards, the grid map and the
score table.

Usage::

    python -m docs.screenshot [--out docs/report.png] [--height 1800]   # from the checkout
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from gridkit.data import SAMPLE_DIR
from gridkit.report import write_report
from tests.helpers.chromium import ALL_MAPS_DRAWN_JS, Chromium, find_chromium

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1800)
    args = parser.parse_args()
    binary = find_chromium()
    if binary is None:
        sys.exit("Chromium not found: install it or set GRIDKIT_CHROMIUM")
    with tempfile.TemporaryDirectory() as folder:
        report = write_report(SAMPLE_DIR / "project.yaml", Path(folder) / "report.html")
        with Chromium(binary, width=args.width) as browser:
            page = browser.open(report.path.as_uri())
            if not page.wait_for(ALL_MAPS_DRAWN_JS) or page.errors:
                sys.exit(f"the maps did not draw: {page.errors}")
            page.screenshot(args.out, width=args.width, height=args.height)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} KB)")


if __name__ == "__main__":
    main()
