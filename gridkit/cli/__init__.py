"""The ``gridkit`` command line: a thin layer over the library.

Each command lives in its own module ``gridkit.cli.<name>`` exposing ``command``
(a click command). Modules are imported only when their command runs, so
``gridkit --help`` stays fast although geopandas is slow to import.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from gridkit import __version__
from gridkit.errors import InputError

COMMANDS = {
    "synth": "Build a synthetic Guangzhou-like data set with known defects.",
    "validate": "Check grid division, coding and map publication (划分、编码、上图).",
    "coverage": "Filing rate and Party / cadre / grid-worker coverage per grid (备案率、覆盖率).",
    "events": "Join work orders to grids; dispatch and closure metrics (工单).",
    "score": "Score the performance evaluation from an indicator tree (绩效评价).",
    "map": "Write folium maps of grids, findings, coverage and events.",
    "report": "Write the HTML evaluation report with tables and maps.",
    "fix": "Repair overlaps, gaps and other division findings of a grid layer (修复).",
    "diff": "Classify the changes between two versions of a grid layer (网格调整).",
    "demo": "Run the whole pipeline on the embedded sample in data/sample.",
}


def _module_name(name: str) -> str:
    return f"gridkit.cli.{name}_cmd"


class LazyGroup(click.Group):
    """Import a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n in COMMANDS if importlib.util.find_spec(_module_name(n)) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.list_commands(ctx):
            return None
        return importlib.import_module(_module_name(cmd_name)).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"gridkit: error: {exc}", err=True)
            ctx.exit(2)


@click.group(
    name="gridkit", cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, prog_name="gridkit")
def cli() -> None:
    """gridkit: community-grid service management (网格化服务管理) toolkit.

    \b
    Example:
      gridkit demo                      # whole pipeline on data/sample
      gridkit validate grids.gpkg --communities communities.gpkg \
        --reference reference.gpkg
    """


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="gridkit")
