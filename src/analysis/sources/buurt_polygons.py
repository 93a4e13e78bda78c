"""Which buurt polygons a municipality has: its own PDOK pull (``data/raw/pdok/<GM>/``, written by
`veerkracht kaart`, :mod:`analysis.sources.pdok`) or the bundled Drechtsteden file of the snapshot.

Light on purpose (json only, no pandas or geopandas): the command line checks ``--gemeente`` with it
before a command loads anything heavy, so a refused code answers quickly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.errors import InputError, technisch

BUURTEN_FILE = "buurten.geojson"  # a PDOK pull, in data/raw/pdok/<GM>/
META_FILE = "bron.json"
BUURTEN_2023_FILE = "kwb_2023_pdok/buurten_2023_drechtsteden.geojson"  # under data/raw/snapshot/


@dataclass(frozen=True)
class CachedBuurten:
    path: Path
    source_table: str


def cached_buurten(cache_dir: Path) -> CachedBuurten | None:
    """The cached pull for one municipality, or None when there is none."""
    path = Path(cache_dir) / BUURTEN_FILE
    if not path.exists():
        return None
    meta: dict[str, Any] = {}
    meta_path = Path(cache_dir) / META_FILE
    if meta_path.exists():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{meta_path}: geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}; "
                f"{technisch(exc.msg)})"
            ) from exc
    when = str(meta.get("opgehaald", "onbekend"))[:10]
    return CachedBuurten(path, f"85618NED (Wijk- en buurtkaart 2023, PDOK, opgehaald {when})")


def in_bundle(path: Path, gemeente: str) -> bool:
    """Whether the GeoJSON file ``path`` has a buurt of ``gemeente`` (False when it cannot be read)."""
    try:
        st = Path(path).stat()
    except OSError:
        return False
    # one version of one file (a hard link of it too): the 1.7 MB bundle is parsed once per process
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _MUNICIPALITIES:
        _MUNICIPALITIES.clear()  # only the latest file is kept
        _MUNICIPALITIES[key] = _municipalities(Path(path))
    return gemeente in _MUNICIPALITIES[key]


_MUNICIPALITIES: dict[tuple, frozenset[str]] = {}


def _municipalities(path: Path) -> frozenset[str]:
    """The gemeentecodes of the buurten of a polygon file (empty when it cannot be read)."""
    try:
        feats = json.loads(path.read_text(encoding="utf-8"))["features"]
        return frozenset(str((f.get("properties") or {}).get("gemeentecode")) for f in feats)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return frozenset()
