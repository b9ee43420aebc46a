"""The report's headline figures: the HTML summary cards, the Word summary table and the
summary ``gridkit report`` prints show the same figures, in the same order."""

from __future__ import annotations

import html
import re

import pytest
from helpers.cli import run_cli

from gridkit.data import SAMPLE_DIR


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """``gridkit report`` of the sample project with --docx: (HTML text, document, output)."""
    import docx

    folder = tmp_path_factory.mktemp("headline")
    result = run_cli("report", SAMPLE_DIR / "project.yaml", "--out", folder / "r.html",
                     "--docx", folder / "r.docx")
    assert result.exit_code == 0, result.output
    return ((folder / "r.html").read_text(encoding="utf-8"), docx.Document(folder / "r.docx"),
            result.stdout)


def _html_cards(text: str) -> list[tuple[str, str]]:
    pairs = re.findall(r'<div class="card"><b>(.*?)</b><span>(.*?)</span></div>', text)
    return [(html.unescape(name), html.unescape(value)) for value, name in pairs]


def _word_summary(document) -> list[tuple[str, str]]:
    table = document.tables[0]  # the first table, under 项目概况
    figures = []
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        figures += [(cells[k], cells[k + 1]) for k in (0, 2) if cells[k]]
    return figures


def test_html_word_and_cli_show_the_same_headline_figures(written):
    text, document, output = written
    cards = _html_cards(text)
    names = [name for name, _ in cards]
    # every kind of figure is there: counts, validation, rates, work orders, score
    for name in ("综合网格", "数据质量错误 / 警告", "备案率", "工单", "转派准确率",
                 "综合得分 / 等级"):
        assert name in names, names
    assert _word_summary(document) == cards
    printed = output.splitlines()[:len(cards)]
    assert printed == [f"{name}：{value}" for name, value in cards]
