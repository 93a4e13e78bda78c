"""Reuse of expensive results between runs, keyed by a hash of exactly their inputs.

A result (a chart, the sensitivity run's draws, a figure's PNG) is stored under the SHA-256 of

* its inputs as passed to the function that makes it (:func:`digest`: tables by their values,
  dtypes, column names and index; numbers bit-exact; mappings and sequences element by element),
* the code version (:func:`code_version`: every module and template of the package except the
  commands, and the versions of the libraries that compute or draw),
* a name for the kind of result.

So any change of an input or of the code gives another key and the result is made afresh; an entry
is never updated in place. Entries live in ``outputs/<GM>/.cache/<kind>/`` (removed by
``make clean``), are written atomically and read back with pickle (written by this program only).
A store that cannot be read or written only means: no reuse (the result is computed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import pickle
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
PACKAGE = Path(__file__).resolve().parent
NOT_RUN_CODE = ("cli",)  # commands: never part of a computed result
LIBRARIES = ("numpy", "pandas", "matplotlib", "geopandas", "shapely", "scipy", "scikit-learn", "pyarrow")


@cache
def code_version() -> str:
    """Every ``.py``/``.j2`` file of the package except the commands, plus the library versions."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    for f in sorted(PACKAGE.rglob("*")):
        rel = f.relative_to(PACKAGE)
        if f.suffix in (".py", ".j2") and rel.parts[0] not in NOT_RUN_CODE and "__pycache__" not in rel.parts:
            h.update(rel.as_posix().encode() + b"\0" + f.read_bytes())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib}=={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"{lib} absent".encode())
    return h.hexdigest()


def _update(h, obj: Any) -> None:  # noqa: C901, PLR0912 - one branch per kind of input
    if obj is None or isinstance(obj, bool | str | bytes | int):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, float | np.floating):
        h.update(b"f:" + np.float64(obj).tobytes() + (b"nan" if math.isnan(obj) else b";"))
    elif isinstance(obj, np.integer | np.bool_):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, pd.DataFrame):
        h.update(f"df{obj.shape}".encode())
        _update(h, obj.index)
        for name in obj.columns:
            _update(h, name)
            _update(h, obj[name])
    elif isinstance(obj, pd.Series | pd.Index):
        h.update(f"{type(obj).__name__}:{obj.dtype}:{len(obj)}:".encode())
        _update(h, obj.name)
        values = obj.to_numpy()
        if values.dtype.kind in "biufcmM":  # plain numbers: their bits
            h.update(np.ascontiguousarray(values).tobytes())
        else:
            for v in values:
                _update(h, v)
    elif isinstance(obj, np.ndarray):
        h.update(f"nd:{obj.dtype}:{obj.shape}:".encode())
        if obj.dtype.kind in "biufcmM":
            h.update(np.ascontiguousarray(obj).tobytes())
        else:
            for v in obj.ravel():
                _update(h, v)
    elif isinstance(obj, Mapping):
        h.update(f"map{len(obj)}:".encode())
        for k in sorted(obj, key=repr):
            _update(h, k)
            _update(h, obj[k])
    elif isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        h.update(f"{type(obj).__name__}{len(items)}:".encode())
        for v in items:
            _update(h, v)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # e.g. goals.catalog.Doel
        h.update(f"dc:{type(obj).__qualname__}:".encode())
        for f in dataclasses.fields(obj):
            _update(h, f.name)
            _update(h, getattr(obj, f.name))
    elif hasattr(obj, "model_dump"):  # pydantic models (goals, configuration sections)
        h.update(f"model:{type(obj).__qualname__}:".encode())
        _update(h, obj.model_dump())
    elif obj is pd.NA or obj is pd.NaT:
        h.update(f"{obj!r};".encode())
    elif hasattr(obj, "wkb"):  # shapely geometry
        h.update(b"geom:" + obj.wkb)
    elif isinstance(obj, pd.Timestamp):
        h.update(f"ts:{obj.isoformat()};".encode())
    else:
        raise TypeError(f"reuse.digest: no rule for {type(obj).__name__}")


def digest(*parts: Any) -> str:
    """SHA-256 of ``parts`` (see the module docstring); equal inputs give equal keys in any process."""
    h = hashlib.sha256()
    for p in parts:
        _update(h, p)
    return h.hexdigest()


class Store:
    """Results of one kind under ``root``: ``root/<key[:2]>/<key>.pkl``."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.hits = 0
        self.misses = 0

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pkl"

    def get_or_make(self, kind: str, parts: tuple, make: Callable[[], T]) -> T:
        """The stored result for ``(kind, code version, *parts)``, else ``make()`` (then stored)."""
        if self.root is None:
            return make()
        try:
            key = digest(kind, code_version(), *parts)
        except TypeError:  # an input without a hashing rule: computed, not reused
            return make()
        f = self._file(key)
        try:
            with f.open("rb") as fh:
                value = pickle.load(fh)  # noqa: S301 - written by this program only (see put)
            os.utime(f)  # used now: kept by prune()
            self.hits += 1
            return value
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError, TypeError):
            pass
        value = make()
        self.misses += 1
        self.put(f, value)
        return value

    @staticmethod
    def put(f: Path, value: Any) -> None:
        from analysis.io import write_with

        try:
            write_with(f, lambda p: p.write_bytes(pickle.dumps(value, protocol=5)))
        except Exception:  # noqa: BLE001 - a store that cannot be written only means: no reuse
            pass

    def prune(self, used_since: float) -> int:
        """Remove the entries not read or written since ``used_since`` (epoch seconds)."""
        if self.root is None or not self.root.is_dir():
            return 0
        n = 0
        for f in self.root.rglob("*.pkl"):
            try:
                if f.stat().st_mtime < used_since:
                    f.unlink()
                    n += 1
            except OSError:
                pass
        return n


def cache_root(outputs: Path) -> Path:
    return Path(outputs) / ".cache"


def now() -> float:
    """Wall-clock seconds, as file modification times count them (for :meth:`Store.prune`)."""
    return time.time()
