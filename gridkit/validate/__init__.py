"""Validation of grid layers before publication (``gridkit validate``).

One module per rule family: :mod:`~gridkit.validate.geometry`,
:mod:`~gridkit.validate.division`, :mod:`~gridkit.validate.coding`,
:mod:`~gridkit.validate.publication`; :mod:`~gridkit.validate.config` holds
the rule ids, severities and tolerances, :mod:`~gridkit.validate.core` the
:func:`validate` entry point and :class:`ValidationResult`.

Examples
--------
On the packaged sample (``gridkit/data/sample``, with injected defects):

>>> from gridkit.data import SAMPLE_DIR
>>> from gridkit.io import read_layer
>>> from gridkit.validate import validate
>>> result = validate(read_layer(SAMPLE_DIR / "grids.gpkg"),
...                   read_layer(SAMPLE_DIR / "communities.gpkg", "communities"))
>>> result.by_rule["overlap"] > 0, result.errors > 0
(True, True)
"""

from gridkit.validate.config import RULES, RuleConfig, load_rules
from gridkit.validate.core import ValidationResult, validate

__all__ = ["RULES", "RuleConfig", "ValidationResult", "load_rules", "validate"]
