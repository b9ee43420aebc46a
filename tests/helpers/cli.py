"""The one way tests run the command line: in-process, arguments converted to text."""

from __future__ import annotations

from click.testing import CliRunner, Result

from gridkit.cli import cli

__all__ = ["run_cli"]


def run_cli(*args: object) -> Result:
    """Invoke ``gridkit *args`` (paths and numbers given as they are) and return the result."""
    return CliRunner().invoke(cli, [str(a) for a in args])
