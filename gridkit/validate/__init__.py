"""Validation of grid layers before publication (``gridkit validate``).

One module per rule family: :mod:`~gridkit.validate.geometry`,
:mod:`~gridkit.validate.division`, :mod:`~gridkit.validate.coding`,
:mod:`~gridkit.validate.publication`; :mod:`~gridkit.validate.config` holds
the rule ids, severities and tolerances, :mod:`~gridkit.validate.core` the
:func:`validate` entry point and :class:`ValidationResult`.

Examples
--------
>>> from gridkit.validate import validate  # doctest: +SKIP
>>> result = validate(grids, communities, reference)  # doctest: +SKIP
>>> result.to_dict()["by_rule"]  # doctest: +SKIP
{'invalid_geometry': 0, 'empty_geometry': 0, 'overlap': 3, ...}
"""

from gridkit.validate.config import RULES, RuleConfig, load_rules
from gridkit.validate.core import ValidationResult, validate

__all__ = ["RULES", "RuleConfig", "ValidationResult", "load_rules", "validate"]
