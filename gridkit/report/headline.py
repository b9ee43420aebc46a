"""The report's headline figures: the one choice of what the summary shows.

The HTML summary cards, the Word summary table and the summary that
``gridkit report`` prints all render :func:`headline_figures`, so they show the
same figures in the same order with the same labels and values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridkit.i18n import pick
from gridkit.metrics import format_value, label

if TYPE_CHECKING:  # the report package imports this module: no cycle at run time
    from gridkit.report.analysis import Analysis

__all__ = ["COVERAGE_FIGURES", "EVENT_FIGURES", "headline_figures"]

#: District-total coverage metrics among the headline figures (shown when computed).
COVERAGE_FIGURES = ("filing_rate", "party_coverage", "fulltime_worker_coverage")
#: Work-order metrics among the headline figures (shown with the work orders, ``-`` if none).
#: Ten figures at most: the page's cards leave room for the grid map on page one; the
#: other metrics are in the tables below.
EVENT_FIGURES = ("dispatch_accuracy",)


def headline_figures(analysis: Analysis, lang: str = "zh") -> list[tuple[str, str]]:
    """``(label, value)`` of each headline figure of the report, in display order.

    Grids, streets, districts; validation errors / warnings (when validated);
    the coverage rates of :data:`COVERAGE_FIGURES` that could be computed; the
    work orders and :data:`EVENT_FIGURES` (when there are work orders); the
    total score and grade (when scored). Values are formatted by
    :func:`gridkit.metrics.format_value`.

    Parameters
    ----------
    analysis : from :func:`gridkit.report.analyse`.
    lang : ``zh`` or ``en``.
    """
    coverage = analysis.coverage
    figures = [(pick(lang, "综合网格", "grids"), format_value(len(analysis.grids), "count")),
               (pick(lang, "街道（镇）", "streets"),
                format_value(len(coverage["street"].rows), "count")),
               (pick(lang, "区", "districts"),
                format_value(len(coverage["district"].rows), "count"))]
    if analysis.validation is not None:
        figures.append((pick(lang, "数据质量错误 / 警告", "errors / warnings"),
                        f"{format_value(analysis.validation.errors, 'count')} / "
                        f"{format_value(analysis.validation.warnings, 'count')}"))
    totals = coverage["district"].metrics
    figures += [(label(key, lang), format_value(totals[key], key))
                for key in COVERAGE_FIGURES if totals.get(key) is not None]
    if analysis.events:
        events = analysis.events["district"].metrics
        figures.append((pick(lang, "工单", "work orders"), format_value(events["events"], "count")))
        figures += [(label(key, lang), format_value(events.get(key), key)) for key in EVENT_FIGURES]
    if analysis.score is not None:
        figures.append((pick(lang, "综合得分 / 等级", "total / grade"),
                        f"{analysis.score.total:g} / {analysis.score.grade}"))
    return figures
