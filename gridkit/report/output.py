"""Writing a report: analyse the project, render the maps and the page, write them."""

from __future__ import annotations

__all__ = ["ReportOutput", "write_report"]

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gridkit.io import atomic_output, check_writable
from gridkit.maps import MAP_KINDS, render_map, resolve_basemap, write_map
from gridkit.report.analysis import Analysis, analyse, project_maps
from gridkit.report.project import Project, load_project
from gridkit.report.rendering import render_report


@dataclass(frozen=True)
class ReportOutput:
    """A written report: its path and size, the maps it embeds, any maps written beside it."""

    path: Path
    bytes: int
    maps: list[str]
    map_files: dict[str, Path]
    analysis: Analysis

    def to_dict(self) -> dict[str, Any]:
        """JSON form printed by ``gridkit report/demo --format json``."""
        validation = self.analysis.validation
        result = {"path": str(self.path), "bytes": self.bytes, "maps": self.maps,
                  "map_files": {k: str(v) for k, v in self.map_files.items()}}
        if validation is not None:
            result.update(errors=validation.errors, warnings=validation.warnings)
        if self.analysis.score is not None:
            result.update(total=self.analysis.score.total, grade=self.analysis.score.grade)
        return result


def write_report(project: str | os.PathLike | Project, out: str | os.PathLike, *,
                 offline: bool = True, basemap: str | None = None, lang: str = "zh",
                 force: bool = False, maps_dir: str | os.PathLike | None = None,
                 png: bool = False) -> ReportOutput:
    """Analyse a project and write its report (and, with ``maps_dir``, each map as a file).

    Parameters
    ----------
    project : a project file or a :class:`Project`.
    out : the report's path.
    offline : inline Leaflet in the embedded maps and load no tiles (default:
        the report is handed upward and opened on intranets).
    basemap : tile basemap of the maps when online (see :func:`gridkit.maps.render_map`).
    maps_dir : also write ``<kind>.html`` for every map there (``gridkit demo``).
    png : with ``maps_dir``, also a PNG of every map.

    Every output is checked before any work starts.
    """
    project = project if isinstance(project, Project) else load_project(project)
    basemap = resolve_basemap(basemap, offline)
    inputs = (project.path, *project.inputs.values())  # never overwritten, even with force
    out = check_writable(out, force, inputs=inputs, folder=False)
    map_targets = {}
    if maps_dir is not None:
        map_targets = {kind: Path(maps_dir) / f"{kind}.html" for kind in MAP_KINDS}
        for target in map_targets.values():
            check_writable(target, force, inputs=inputs, folder=False)
            if png:
                check_writable(target.with_suffix(".png"), force, inputs=inputs, folder=False)
    analysis = analyse(project, lang)
    maps = project_maps(analysis, lang)
    pages = {kind: render_map(m, basemap=basemap, offline=offline) for kind, m in maps.items()}
    written = {kind: write_map(maps[kind], map_targets[kind], basemap=basemap, offline=offline,
                              png=png, force=force, page=pages[kind]).path
               for kind in maps if kind in map_targets}
    text = render_report(analysis, pages, lang).encode("utf-8")
    with atomic_output(out, force) as tmp:
        tmp.write_bytes(text)
    return ReportOutput(path=out, bytes=len(text), maps=list(maps), map_files=written,
                        analysis=analysis)
