"""Writing a report: analyse the project, render the maps and the page, write them."""

from __future__ import annotations

__all__ = ["ReportOutput", "write_report"]

import os
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridkit.errors import InputError
from gridkit.io import atomic_output, check_writable
from gridkit.maps import (
    MAP_KINDS,
    MapPages,
    render_map,
    resolve_basemap,
    write_district_pages,
    write_map,
)
from gridkit.report.analysis import Analysis, analyse, project_maps
from gridkit.report.pdf import print_pdf, require_chromium
from gridkit.report.project import Project, load_project
from gridkit.report.rendering import render_report, source_rows
from gridkit.report.word import write_docx


@dataclass(frozen=True)
class ReportOutput:
    """A written report: its path and size, the maps it embeds, any maps written beside it,
    the Word and PDF documents when asked for (``path`` is None when only those were)."""

    path: Path | None
    bytes: int
    maps: list[str]
    map_files: dict[str, Path]
    analysis: Analysis
    docx: Path | None = None
    pdf: Path | None = None
    #: District pages of a layer too large for one page (:class:`~gridkit.maps.MapPages`).
    district_pages: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form printed by ``gridkit report/demo --format json``."""
        validation = self.analysis.validation
        result = {"path": None if self.path is None else str(self.path), "bytes": self.bytes,
                  "maps": self.maps, "map_files": {k: str(v) for k, v in self.map_files.items()},
                  "docx": None if self.docx is None else str(self.docx),
                  "pdf": None if self.pdf is None else str(self.pdf),
                  "district_pages": [str(p) for p in self.district_pages]}
        if validation is not None:
            result.update(errors=validation.errors, warnings=validation.warnings)
        if self.analysis.score is not None:
            result.update(total=self.analysis.score.total, grade=self.analysis.score.grade)
        if self.analysis.diff is not None:
            result["changes"] = self.analysis.diff.by_change
        return result


def write_report(project: str | os.PathLike | Project, out: str | os.PathLike | None, *,
                 offline: bool = True, basemap: str | None = None, lang: str = "zh",
                 force: bool = False, maps_dir: str | os.PathLike | None = None,
                 png: bool = False, docx: str | os.PathLike | None = None,
                 pdf: str | os.PathLike | None = None) -> ReportOutput:
    """Analyse a project and write its report (and, with ``maps_dir``, each map as a file).

    Parameters
    ----------
    project : a project file or a :class:`Project`.
    out : the report's path (None: no HTML file, e.g. only ``docx`` or ``pdf``).
    offline : inline Leaflet in the embedded maps and load no tiles (default:
        the report is handed upward and opened on intranets).
    basemap : tile basemap of the maps when online (see :func:`gridkit.maps.render_map`).
    maps_dir : also write ``<kind>.html`` for every map there (``gridkit demo``).
    png : with ``maps_dir``, also a PNG of every map.
    docx : also the report as a Word document (:mod:`gridkit.report.word`).
    pdf : also the HTML report printed to PDF with headless Chromium (:mod:`gridkit.report.pdf`).

    Every output is checked (and Chromium found) before any work starts.
    """
    project = project if isinstance(project, Project) else load_project(project)
    basemap = resolve_basemap(basemap, offline)
    inputs = (project.path, *project.inputs.values())  # never overwritten, even with force
    documents = [p for p in (out, docx, pdf) if p is not None]
    if not documents:
        raise InputError("nothing to write: give out (the HTML report), docx or pdf")
    out, docx, pdf = (None if p is None else check_writable(p, force, inputs=inputs,
                                                             folder=False)
                      for p in (out, docx, pdf))
    if len({Path(p).resolve() for p in documents}) < len(documents):
        raise InputError("the HTML, Word and PDF outputs must be different files")
    browser = require_chromium() if pdf is not None else None
    map_targets = {}
    if maps_dir is not None:
        map_targets = {kind: Path(maps_dir) / f"{kind}.html" for kind in MAP_KINDS}
        for target in map_targets.values():
            check_writable(target, force, inputs=inputs, folder=False)
            if png:
                check_writable(target.with_suffix(".png"), force, inputs=inputs, folder=False)
    pages_folder = None if out is None else f"{Path(out).stem}-maps"
    if pages_folder is not None and (Path(out).parent / pages_folder).is_file():
        raise InputError("is a file, not a folder: the district pages of a large layer go "
                         "there", path=Path(out).parent / pages_folder)
    analysis = analyse(project, lang)
    drawn = project_maps(analysis, lang, pages_folder=pages_folder,
                         overview_href=None if out is None else
                         f"../../{urllib.parse.quote(Path(out).name)}")
    # a layer too large for one page: overviews here, their district pages beside the report
    maps = {kind: m.overview if isinstance(m, MapPages) else m for kind, m in drawn.items()}
    pages = {kind: render_map(m, basemap=basemap, offline=offline) for kind, m in maps.items()}
    written = {kind: write_map(maps[kind], map_targets[kind], basemap=basemap, offline=offline,
                              png=png, force=force, page=pages[kind]).path
               for kind in maps if kind in map_targets}
    text = render_report(analysis, pages, lang).encode("utf-8")
    district_files = [path for m in drawn.values() if isinstance(m, MapPages)
                      for path in write_district_pages(m, Path(out).parent, basemap=basemap,
                                                       offline=offline, force=force,
                                                       inputs=inputs)]
    if out is not None:
        with atomic_output(out, force) as tmp:
            tmp.write_bytes(text)
    if docx is not None:
        write_docx(analysis, maps, docx, lang=lang, force=force,
                   sources=source_rows(analysis, lang))
    if pdf is not None:
        with tempfile.TemporaryDirectory(prefix="gridkit-report-") as folder:
            page = Path(folder) / "report.html"
            page.write_bytes(text)
            print_pdf(page, pdf, force=force, binary=browser)
    return ReportOutput(path=out, bytes=len(text), maps=list(maps), map_files=written,
                        analysis=analysis, docx=docx, pdf=pdf, district_pages=district_files)
