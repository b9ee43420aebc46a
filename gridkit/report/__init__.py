"""The HTML evaluation report (``gridkit report``, ``gridkit demo``) and its project file.

A project file (:mod:`~gridkit.report.project`) names the inputs.
:func:`analyse` runs validation, coverage, the work-order join and the
scoring with the library modules; :func:`project_maps` builds the maps;
:func:`render_report` writes one self-contained HTML page: summary, score
table, validation summary, coverage and work-order tables by district and
street, the maps (each in an ``<iframe srcdoc>`` so that its scripts stay
apart) and the data sources with their dates. Every contractor string is
escaped (the page is built with autoescaping templates).

Modules: :mod:`~gridkit.report.project` (the project file),
:mod:`~gridkit.report.analysis`, :mod:`~gridkit.report.headline` (the summary's
figures, shared by the page, the Word document and the command's summary),
:mod:`~gridkit.report.rendering` (with ``templates/``) and
:mod:`~gridkit.report.output`.

Examples
--------
>>> out = write_report("data/sample/project.yaml", "report.html", force=True)  # doctest: +SKIP
>>> out.path, out.maps  # doctest: +SKIP
(PosixPath('report.html'), ['grids', 'findings', 'coverage', 'events', 'diff'])
"""

from __future__ import annotations

__all__ = [
    "Analysis",
    "Project",
    "ReportOutput",
    "analyse",
    "figure",
    "headline_figures",
    "load_project",
    "project_maps",
    "render_report",
    "table",
    "write_report",
]

from gridkit.report.analysis import Analysis, analyse, project_maps
from gridkit.report.headline import headline_figures
from gridkit.report.output import ReportOutput, write_report
from gridkit.report.project import Project, load_project
from gridkit.report.rendering import figure, render_report, table
