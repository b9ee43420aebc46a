"""--format json: the stable form, including what orjson alone would refuse."""

from __future__ import annotations

import json

import numpy as np

from gridkit.cli._common import to_json


def test_json_is_standard_and_unescaped():
    text = to_json({"名称": "越秀区", "rate": float("nan"), "n": np.int64(3),
                    "values": np.array([1.5, np.inf])})
    assert json.loads(text) == {"名称": "越秀区", "rate": None, "n": 3, "values": [1.5, None]}
    assert "越秀区" in text and "NaN" not in text


def test_names_that_are_not_utf8_and_big_integers_still_write():
    # a GBK file name read on Linux decodes to lone surrogates; orjson refuses them
    path = b"/data/\xcd\xf8\xb8\xf1.csv".decode("utf-8", "surrogateescape")
    text = to_json({"path": path, "rate": float("nan"), "big": 2**70})
    assert json.loads(text) == {"path": path, "rate": None, "big": 2**70}
