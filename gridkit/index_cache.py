"""On-disk cache of built point-in-grid lookup rasters (``gridkit events --index-cache DIR``).

Building the lookup raster of :class:`gridkit.join.GridIndex` is the largest
fixed cost of a join (about 2 s for 20,000 grids). The raster depends only on
the grid geometries as indexed (sorted, in the events' CRS) and on the raster
options, so a built one is stored in a folder under a name derived from the
SHA-256 of exactly those (:func:`index_key`): a changed layer, another CRS or
other options give another key, and the old file is never used for them.

A cache file that cannot be read (truncated, corrupt, from another version)
is treated as missing: the raster is built again and the file replaced.
Files are written atomically (a temporary file renamed into place), so a
concurrent run sees either the old file, the new one or none.

Examples
--------
>>> import tempfile, numpy as np, shapely
>>> folder = tempfile.mkdtemp()
>>> key = index_key(np.array([shapely.box(0, 0, 1, 1)]), (256, 1 << 24))
>>> load_index(folder, key) is None
True
>>> store_index(folder, key, {"raster": np.zeros((2, 2), np.int32), "cell": 0.5})
>>> sorted(load_index(folder, key))
['cell', 'raster']
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import shapely

from gridkit.errors import InputError

__all__ = ["FORMAT_VERSION", "cache_path", "index_key", "load_index", "store_index"]

#: Bumped whenever the raster's layout or meaning changes: old files are then not used.
FORMAT_VERSION = 2


def index_key(geometries: np.ndarray, options: tuple) -> str:
    """SHA-256 (hex) of the geometries as indexed, in order, and the raster options.

    Geometries are hashed as WKB (missing ones as a marker), so the key changes
    with any vertex, the order of the grids or their coordinate system.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> a = index_key(np.array([shapely.box(0, 0, 1, 1)]), (256,))
    >>> a == index_key(np.array([shapely.box(0, 0, 1, 2)]), (256,))
    False
    """
    digest = hashlib.sha256(f"gridkit-index {FORMAT_VERSION} {options!r} "
                            f"{len(geometries)}\n".encode())
    for wkb in shapely.to_wkb(np.asarray(geometries, dtype=object), hex=False):
        if wkb is None:
            digest.update(b"\x00missing")
        else:
            digest.update(len(wkb).to_bytes(8, "little"))
            digest.update(wkb)
    return digest.hexdigest()


def cache_path(folder: str | os.PathLike, key: str) -> Path:
    """The cache file of ``key`` in ``folder``."""
    return Path(folder) / f"gridindex-{key[:32]}.bin"


def load_index(folder: str | os.PathLike, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored for ``key``, or None when there is no usable file.

    The file is the key and a list of names as ``.npy`` arrays, then the
    arrays themselves, one after the other (read straight into memory, no
    archive to unpack). A file that does not read back whole, or was stored
    for another key (a prefix collision), counts as missing.
    """
    try:
        with open(cache_path(folder, key), "rb") as handle:
            stored_key = str(np.lib.format.read_array(handle, allow_pickle=False))
            if stored_key != key:
                return None
            names = np.lib.format.read_array(handle, allow_pickle=False).tolist()
            arrays = {str(name): np.lib.format.read_array(handle, allow_pickle=False)
                      for name in names}
            if handle.read(1):
                return None  # trailing bytes: not a file this module wrote
            return arrays
    except (OSError, ValueError, EOFError, UnicodeDecodeError):
        return None


def store_index(folder: str | os.PathLike, key: str, arrays: Mapping[str, object]) -> None:
    """Store ``arrays`` for ``key`` in ``folder`` (created if needed), atomically.

    Raises
    ------
    InputError
        The folder cannot be created or written (named as ``--index-cache``).
    """
    target = cache_path(folder, key)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(prefix=".gridindex-", suffix=".bin", dir=target.parent)
    except OSError as exc:
        raise InputError(f"index cache: cannot write in {folder}: "
                         f"{exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            np.lib.format.write_array(out, np.array(key), allow_pickle=False)
            np.lib.format.write_array(out, np.array(list(arrays)), allow_pickle=False)
            for value in arrays.values():
                np.lib.format.write_array(out, np.asarray(value), allow_pickle=False)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"index cache: cannot write {target}: "
                         f"{exc.strerror or exc}") from None
