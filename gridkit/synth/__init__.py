"""Synthetic Guangzhou (``gridkit synth``): grids, rosters, work orders and the truth.

The generator builds a realistic, fully known data set on the real district
outlines (``gridkit/data/guangzhou-districts.geojson``) with the real 2023 street and
community codes (``gridkit/data/guangzhou-divisions-2023.csv``):

* districts → streets → communities → grids, each level an exact partition of
  its parent: relaxed Voronoi cells of seeded points whose edges are densified
  and wiggled *once* (so neighbours share them vertex for vertex), noded
  together with the parent boundaries and polygonised. All work is done in
  EPSG:4547 and written in EPSG:4490; every shared vertex is transformed by
  the same deterministic function, so the partition stays exact.
* rosters (filings, Party organisations, cadres, grid workers) and work orders
  (``events.parquet``, written in row groups of one million);
* optional defects of every validation rule id of SPEC §7;
* ``truth.json``: the defects and the expected metrics, computed here from
  what was generated (never with gridkit's own metric code).

Modules: :mod:`~gridkit.synth.partition` (exact partitions),
:mod:`~gridkit.synth.city` (allocation and the city), :mod:`~gridkit.synth.defects`,
:mod:`~gridkit.synth.rosters`, :mod:`~gridkit.synth.events` (work orders),
:mod:`~gridkit.synth.dataset` (the files and ``truth.json``), and
:mod:`~gridkit.synth.common` (CRSs, period, random streams). Nothing outside this
package imports it but the ``gridkit synth`` command (and tests and benchmarks).

Numbering convention (SPEC §1): the 3-digit serial of a grid code counts the
grids of a community in reading order, see :func:`gridkit.codes.serial_order`.

Examples
--------
>>> import tempfile
>>> truth = synthesize(tempfile.mkdtemp(), grids=120, events=500, seed=7, districts=["440104"])
>>> truth["metrics"]["events"]
500
>>> city = build_city(120, seed=1, districts=["440104"])
>>> len(city.grids)
120
"""

from gridkit.synth.city import City, build_city
from gridkit.synth.dataset import FILES, OFFSET_FILE, synthesize
from gridkit.synth.defects import inject_defects
from gridkit.synth.events import plan_events, write_events
from gridkit.synth.rosters import build_rosters

__all__ = ["FILES", "OFFSET_FILE", "City", "build_city", "build_rosters", "inject_defects",
           "plan_events", "synthesize", "write_events"]
