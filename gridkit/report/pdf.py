"""Print an HTML page to PDF with headless Chromium (``gridkit report --pdf``).

The report's maps are Leaflet canvases drawn by scripts after the page has
loaded. Chromium is run with a *virtual time budget*: its clock only moves
when the page is idle, so the scripts, timers and animation frames that draw
the maps all run before the page is printed, however slow the machine. The
page's print style sheet (A4, every collapsed table opened) lays it out.

Chromium is ``$GRIDKIT_CHROMIUM`` or the first of :data:`CANDIDATES` on
``PATH``. It runs with a fresh, temporary profile and no network services of
its own (no sync, updates or background requests).

Examples
--------
>>> print_pdf("report.html", "report.pdf", force=True)  # doctest: +SKIP
PosixPath('report.pdf')
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from gridkit.errors import InputError
from gridkit.io.write import atomic_output, check_writable

__all__ = ["CANDIDATES", "INSTALL_HINT", "find_chromium", "print_pdf", "require_chromium"]

#: Browser binaries looked for on ``PATH``, first found wins.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("install Chromium (Debian/Ubuntu: apt-get install chromium) or set "
                "GRIDKIT_CHROMIUM to a Chrome/Chromium binary")
#: Virtual milliseconds the page may run (scripts, timers, frames) before it is printed.
VIRTUAL_TIME_MS = 20_000
#: Real seconds before the browser is given up.
TIMEOUT_S = 600
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--hide-scrollbars", "--mute-audio",
          "--no-pdf-header-footer", "--run-all-compositor-stages-before-draw")


def find_chromium() -> str | None:
    """Path of the browser: ``$GRIDKIT_CHROMIUM`` when set, else the first candidate on PATH."""
    if os.environ.get("GRIDKIT_CHROMIUM"):
        return os.environ["GRIDKIT_CHROMIUM"]
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def require_chromium() -> str:
    """The browser to print with, or a one-line :class:`InputError` saying how to get one."""
    binary = find_chromium()
    if binary is None:
        raise InputError(f"printing to PDF needs Chromium, none found: {INSTALL_HINT}")
    if shutil.which(binary) is None:
        raise InputError(f"GRIDKIT_CHROMIUM={binary} is not an executable: {INSTALL_HINT}")
    return binary


def print_pdf(page: str | os.PathLike, path: str | os.PathLike, *, force: bool = False,
              binary: str | None = None) -> Path:
    """Print an HTML file to ``path`` (PDF), atomically.

    Parameters
    ----------
    page : the HTML file (its relative links resolve from its folder).
    path : the PDF; an existing file only with ``force``.
    binary : the browser (default :func:`require_chromium`).

    Raises
    ------
    InputError
        No browser; the browser failed, timed out or wrote no PDF (nothing is
        left at ``path``).
    """
    binary = binary or require_chromium()
    path = check_writable(path, force, folder=False)
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="gridkit-chromium-") as profile, \
            atomic_output(path, force) as tmp:
        command = [binary, *_FLAGS, f"--user-data-dir={profile}",
                   f"--virtual-time-budget={VIRTUAL_TIME_MS}", f"--print-to-pdf={tmp}", url]
        try:
            done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise InputError(f"Chromium did not print the report in {TIMEOUT_S} s",
                             path=path) from None
        except OSError as exc:
            raise InputError(f"cannot run {binary}: {exc.strerror}; {INSTALL_HINT}") from None
        if done.returncode != 0 or not tmp.exists() or tmp.read_bytes()[:5] != b"%PDF-":
            last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])
            raise InputError(f"Chromium wrote no PDF (exit {done.returncode}): {last[-1]}",
                             path=path)
    return path
