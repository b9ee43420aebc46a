"""A minimal headless-Chromium driver for the tests, over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe``: it reads DevTools
commands from file descriptor 3 and writes replies and events to 4, each
message JSON followed by a NUL byte. That needs no websocket client, so the
tests drive a real browser with the standard library only (no selenium or
playwright). Used by ``tests/test_report.py`` (console errors, maps drawn,
the README screenshot) and ``benchmarks/bench_map.py --browser``.

Examples
--------
>>> with Chromium(find_chromium()) as browser:            # doctest: +SKIP
...     page = browser.open("file:///tmp/demo/report.html")
...     page.evaluate("document.title")
'广州市...'
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# The browser the report's --pdf uses (``$GRIDKIT_CHROMIUM``, else the first on PATH).
from gridkit.report.pdf import CANDIDATES, find_chromium  # noqa: F401  (re-exported for the tests)

#: JavaScript run in the report: what each embedded map (an ``<iframe srcdoc>``) shows.
#: ``painted`` counts sampled non-transparent pixels of the overlay canvases, so a map
#: whose scripts ran but drew nothing is told apart from one that drew its grids.
MAPS_STATE_JS = """
(() => Array.from(document.querySelectorAll('iframe')).map((frame) => {
  const doc = frame.contentDocument, win = frame.contentWindow;
  if (!doc || !win) { return {title: frame.title, error: 'no document'}; }
  const name = Object.keys(win).find((k) => /^map_[0-9a-f]+$/.test(k));
  const map = name && win[name];
  let features = 0;
  if (map) { map.eachLayer((l) => { if (l.feature) { features += 1; } }); }
  let painted = 0;
  doc.querySelectorAll('.leaflet-overlay-pane canvas').forEach((c) => {
    const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4 * 13) { if (px[i]) { painted += 1; } }
  });
  const text = (sel) => Array.from(doc.querySelectorAll(sel))
    .filter((e) => e.offsetParent !== null).map((e) => e.textContent.trim());
  return {title: frame.title, leaflet: !!doc.querySelector('.leaflet-container'),
          map: !!map, features: features, painted: painted,
          overlays: text('.gk-layers .gk-name'), groups: text('.gk-group-title'),
          // the layers whose classes show (those switched on)
          legends: text('.gk-row.gk-on .gk-classes').map((t, i) => Array.from(
            doc.querySelectorAll('.gk-row.gk-on')).filter((r) => r.querySelector('.gk-classes'))
            [i].querySelector('.gk-name').textContent),
          footer: text('.gk-footer').join('')};
}))()
"""

#: The state of every map of a report once each has drawn on its canvas, else false.
ALL_MAPS_DRAWN_JS = (f"(() => {{ const s = {MAPS_STATE_JS.strip()}; "
                     "return s.length > 0 && s.every((m) => m.painted > 0) && s; })()")


#: Set (to anything but empty or ``0``) by ``.ci/run``: no browser is then a failure, not a skip.
REQUIRE_ENV = "GRIDKIT_REQUIRE_CHROMIUM"


def chromium_or_skip() -> str:
    """The browser for a test: :func:`find_chromium`; without one the test is skipped,
    or fails when ``$GRIDKIT_REQUIRE_CHROMIUM`` is set (CI must prove the maps draw)."""
    import pytest

    binary = find_chromium()
    if binary is None:
        reason = "Chromium not installed (install it or set GRIDKIT_CHROMIUM)"
        if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
            pytest.fail(f"{reason}; {REQUIRE_ENV} is set", pytrace=False)
        pytest.skip(reason)
    return binary


class BrowserError(RuntimeError):
    """A DevTools command failed, or the browser did not answer in time."""


class Page:
    """One tab, attached with a flat session; collects console errors and exceptions."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session
        #: ``(kind, text)`` of every console error, uncaught exception and error log entry.
        self.errors: list[tuple[str, str]] = []
        self.loaded = False

    def send(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def _event(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            self.errors.append(("exception", str(text)))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(("console", args))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            entry = params["entry"]
            self.errors.append(("log", f"{entry.get('text')} {entry.get('url', '')}".strip()))
        elif method == "Page.loadEventFired":
            self.loaded = True

    def evaluate(self, expression: str, timeout: float = 60) -> Any:
        """Value of a JavaScript expression (JSON-serialisable), awaiting promises."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True}, timeout)
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression[:60]!r}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30, interval: float = 0.2) -> Any:
        """Poll ``expression`` until it is truthy; return its value (the last one on timeout).

        Gives up early once the page has reported an error (it will not get better).
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value or self.errors or time.monotonic() > deadline:
                return value
            time.sleep(interval)

    def screenshot(self, path: str | os.PathLike, *, width: int, height: int) -> Path:
        """PNG of the top ``width`` × ``height`` CSS pixels of the page (beyond the viewport)."""
        reply = self.send("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = Path(path)
        path.write_bytes(base64.b64decode(reply["data"]))
        return path


class Chromium:
    """A headless Chromium process driven over ``--remote-debugging-pipe``.

    Parameters
    ----------
    binary : the browser (:func:`find_chromium`).
    width, height : window (viewport) size in CSS pixels.
    """

    def __init__(self, binary: str, width: int = 1280, height: int = 900) -> None:
        self.width, self.height = width, height
        self.profile = tempfile.mkdtemp(prefix="gridkit-chromium-")
        to_browser, self._out = os.pipe()
        self._in, from_browser = os.pipe()

        # Copies above 10 (close-on-exec) so that moving them to 3 and 4 cannot clobber one
        # another, and so that dup2 never gets the same fd twice (it would then leave the
        # close-on-exec flag set).
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser, from_browser)]

        def pipes_to_3_and_4() -> None:
            # Runs in the child before exec: Chromium expects its pipe ends at fds 3 and 4.
            # dup2 makes the copies inheritable; every other fd of this process is not
            # (PEP 446), so nothing else leaks into the browser.
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        args = ["--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--hide-scrollbars", "--mute-audio", "--no-first-run",
                "--disable-background-networking", "--disable-extensions", "about:blank"]
        self.proc = subprocess.Popen(
            [binary, *args], close_fds=False, preexec_fn=pipes_to_3_and_4,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_browser, from_browser, *high):
            os.close(fd)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self._pages: dict[str, Page] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiting = self._replies.pop(message["id"], None)
                    if waiting is not None:
                        waiting.put(message)
                elif message.get("sessionId") in self._pages:
                    self._pages[message["sessionId"]]._event(message)
        with self._lock:  # the browser is gone: wake every waiting command
            for waiting in self._replies.values():
                waiting.put({"error": {"message": "browser exited"}})

    def send(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float = 60) -> dict:
        """Send one DevTools command and return its result."""
        reply_to: queue.Queue = queue.Queue()
        with self._lock:
            self._next_id += 1
            message: dict[str, Any] = {"id": self._next_id, "method": method,
                                       "params": params or {}}
            if session:
                message["sessionId"] = session
            self._replies[self._next_id] = reply_to
        os.write(self._out, json.dumps(message).encode("utf-8") + b"\0")
        try:
            reply = reply_to.get(timeout=timeout)
        except queue.Empty:
            raise BrowserError(f"{method}: no answer in {timeout:g} s") from None
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def open(self, url: str, timeout: float = 60) -> Page:
        """A new tab showing ``url``, returned once its load event has fired."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        page = self._pages[session] = Page(self, session)
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            page.send(method)
        page.send("Emulation.setDeviceMetricsOverride", {
            "width": self.width, "height": self.height, "deviceScaleFactor": 1,
            "mobile": False})
        page.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while not page.loaded:
            if time.monotonic() > deadline:
                raise BrowserError(f"{url}: not loaded in {timeout:g} s")
            time.sleep(0.05)
        return page

    def close(self) -> None:
        """End the browser (politely, then by force) and remove its profile."""
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
