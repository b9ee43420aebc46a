"""Package data: code lists, district outlines, evaluation trees and the sample.

The files ship inside the package (``gridkit/data/``) and are found with
:mod:`importlib.resources`, so they work from a checkout, an editable install
and an installed wheel alike. ``README.md`` next to this file gives sources
and licences.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["DISTRICT_OUTLINES", "GUANGZHOU_CODES", "NATIONAL_CODES", "SAMPLE_DIR",
           "data_path"]


def data_path(*parts: str) -> Path:
    """Path of a packaged data file, e.g. ``data_path("sample", "grids.gpkg")``.

    A real file path (GDAL and pandas need one): gridkit is installed as files,
    not imported from a zip archive.

    >>> data_path("sample", "project.yaml").is_file()
    True
    """
    resource = resources.files(__name__)
    for part in parts:
        resource = resource / part
    return Path(os.fspath(resource))


#: The national 2023 statistical division codes (统计用区划代码, province to
#: community/village), the default code list.
NATIONAL_CODES = data_path("china-divisions-2023.parquet")
#: Guangzhou's part of the national list (synth's city, and a small test fixture).
GUANGZHOU_CODES = data_path("guangzhou-divisions-2023.csv")
#: Outlines of Guangzhou's 11 districts (CGCS2000).
DISTRICT_OUTLINES = data_path("guangzhou-districts.geojson")
#: The synthetic sample run by ``gridkit demo`` (a ``gridkit synth`` output).
SAMPLE_DIR = data_path("sample")
