"""Safe output: never overwrite without ``force``, never leave a half-written file."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gridkit.errors import InputError

__all__ = ["atomic_output", "check_writable"]


def _clobbers(path: Path, source: Path) -> bool:
    """Whether writing ``path`` would destroy the input ``source``: the same file, a
    folder holding it, or (shapefiles) one of its sidecar files."""
    target, source = path.resolve(), source.resolve()
    if target == source or target in source.parents:
        return True
    return (source.suffix.lower() == ".shp" and target.parent == source.parent
            and target.stem == source.stem)


def check_writable(path: str | os.PathLike, force: bool = False, *,
                   inputs: Iterable[str | os.PathLike | None] = (),
                   folder: bool = True) -> Path:
    """Refuse to overwrite an existing ``path`` unless ``force`` is set.

    Call it for every output before any work starts, so a run that would
    clobber a file stops before it has written anything. Even with ``force``,
    an output that is one of the ``inputs`` (or a folder holding one, or a
    shapefile's sidecar) is refused, and so is an existing folder when the
    output is a file (``folder=False``): inputs are never modified.

    When the output is refused and an input is missing, the missing input is
    reported instead (``file not found``): the user fixes the input first, and
    does not clear the output only to learn that the input was never there.
    """
    path = Path(path)
    inputs = [source for source in inputs if source is not None]
    problem = _output_problem(path, force, inputs, folder)
    if problem is not None:
        for source in inputs:
            # a database URI (postgresql://…) is no local file
            if "://" not in str(source) and not Path(source).exists():
                raise InputError("file not found", path=source)
        raise problem
    return path


def _output_problem(path: Path, force: bool, inputs: Iterable[str | os.PathLike],
                    folder: bool) -> InputError | None:
    """Why ``path`` cannot be written (see :func:`check_writable`), or ``None``."""
    for source in inputs:
        if _clobbers(path, Path(source)):
            return InputError(f"output would overwrite the input {source}; write elsewhere",
                              path=path)
    if path.is_dir() and not folder:
        return InputError("output is a folder; give a file name", path=path)
    if path.exists() and not force:
        return InputError("output exists", path=path, hint="use {option} to overwrite it",
                          option=("force", True))
    parent = path.parent
    if not parent.exists():
        return InputError("output folder does not exist", path=parent)
    if not parent.is_dir():
        return InputError("is a file, not a folder: the output cannot go inside it", path=parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        return InputError("output folder is not writable (read-only or no permission)",
                          path=parent)
    return None


@contextmanager
def atomic_output(path: str | os.PathLike, force: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    Works for files and for folders (whatever the caller creates at the
    temporary path is moved). On an exception the temporary output is removed
    and ``path`` is untouched.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("网格", encoding="utf-8")
    >>> out.read_text(encoding="utf-8")
    '网格'
    """
    path = check_writable(path, force)
    try:
        tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    except OSError as exc:  # e.g. a read-only file system that os.access did not reveal
        raise InputError(f"cannot write in the output folder: {exc.strerror}",
                         path=path.parent) from None
    tmp = tmpdir / path.name
    try:
        yield tmp
        if not tmp.exists():
            raise RuntimeError(f"nothing was written to {tmp}")
        if path.is_dir() and not path.is_symlink():
            if not tmp.is_dir():  # never delete a folder to put a file in its place
                raise InputError("output is a folder; give a file name", path=path)
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
