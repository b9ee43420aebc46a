"""Reading and writing gridkit's inputs and outputs.

Loaders (:func:`read_layer`, :func:`read_table`, :func:`read_events_chunks`)
rename columns to the canonical names through :data:`ALIASES`
(``docs/aliases.md``) and type the values (:func:`parse_datetimes`, ...);
:func:`require_columns` is the one missing-column check; :func:`read_yaml` reads
rules, scoring and project files safely (see :mod:`gridkit.config`).
"""

from gridkit.io.aliases import ALIASES, REQUIRED, resolve_columns
from gridkit.io.columns import require_columns
from gridkit.io.read import (
    parquet_row_ranges,
    read_events_chunks,
    read_events_rows,
    read_layer,
    read_table,
)
from gridkit.io.values import normalise_codes, parse_bools, parse_datetimes, parse_numbers
from gridkit.io.write import atomic_output, check_writable
from gridkit.io.yamlfile import read_yaml

__all__ = [
    "ALIASES",
    "REQUIRED",
    "atomic_output",
    "check_writable",
    "normalise_codes",
    "parse_bools",
    "parse_datetimes",
    "parquet_row_ranges",
    "parse_numbers",
    "read_events_chunks",
    "read_events_rows",
    "read_layer",
    "read_table",
    "read_yaml",
    "require_columns",
    "resolve_columns",
]
