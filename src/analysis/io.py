"""Atomic writes and guarded reads.

* A reader never sees a half-written file, and a failed run leaves old outputs: every write goes to
  a temporary file beside the target (``.<name>.<random>.tmp``) that is renamed over it on success
  and removed on failure. A write that fails for lack of space or permission is one clear
  :class:`InputError` naming the file. Temporary files left by a killed run are removed at the start
  of the next one (:func:`clean_stale_temps`).
* Reads of the intermediate tables (parquet, GeoPackage) turn a truncated or corrupt file into one
  clear :class:`InputError` naming the file, instead of an Arrow or GDAL traceback.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a table is read: the CLI's checks stay light
    import pandas as pd

from analysis.errors import InputError, technisch

TEMP_SUFFIX = ".tmp"
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG}


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise write_error(target, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; outputs are shared (web server, network drive): 0644 like a normal file
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS:
            raise write_error(target, exc) from exc
        raise
    finally:
        # the temp file and anything a writer put beside it under the same name (e.g. GDAL's
        # ``<tmp>.gpkg``, ``-journal``, ``-wal``)
        for leftover in target.parent.glob(f"{tmp_path.name}*"):
            leftover.unlink(missing_ok=True)


def write_error(target: Path, exc: OSError) -> InputError:
    reason = {errno.ENOSPC: "schijf vol", errno.EDQUOT: "schijfquotum overschreden"}.get(
        exc.errno, technisch(exc.strerror or exc)
    )
    return InputError(f"{target}: niet te schrijven, de vorige versie blijft staan ({reason})")


def clean_stale_temps(folder: Path, recursive: bool = True) -> list[Path]:
    """Remove temporary files of atomic writes that a killed run left behind."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = "**/.*.tmp*" if recursive else ".*.tmp*"
    removed = []
    for p in folder.glob(pattern):
        if p.is_file() and TEMP_SUFFIX in p.name:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def write_with(target: Path, writer: Callable[[Path], Any]) -> Path:
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_text(target: Path, text: str) -> Path:
    return write_with(target, lambda p: p.write_text(text, encoding="utf-8"))


def write_json(target: Path, obj: Any) -> Path:
    return write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def write_parquet(target: Path, df: pd.DataFrame) -> Path:
    return write_with(target, lambda p: df.to_parquet(p, index=False))


def write_csv(target: Path, df: pd.DataFrame) -> Path:
    return write_with(target, lambda p: df.to_csv(p, index=False))


def write_table(base: Path, df: pd.DataFrame) -> list[Path]:
    """Write ``base.parquet`` and ``base.csv`` (the CSV for spreadsheet users)."""
    base = Path(base)
    return [write_parquet(base.with_suffix(".parquet"), df), write_csv(base.with_suffix(".csv"), df)]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def read_parquet(path: Path, **kwargs: Any) -> pd.DataFrame:
    """``pd.read_parquet`` with one clear error for a missing, truncated or corrupt file."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: ontbreekt; draai eerst de stap die dit bestand schrijft")
    import pandas as pd

    try:
        return pd.read_parquet(path, **kwargs)
    except (OSError, ValueError) as exc:  # ArrowInvalid is a ValueError, ArrowIOError an OSError
        raise InputError(f"{path}: geen leesbaar Parquet-bestand ({technisch(_first_line(exc))})") from exc


def read_gpkg(path: Path, layer: str):
    """``gpd.read_file`` with one clear error for a missing, truncated or corrupt GeoPackage."""
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: ontbreekt; draai eerst de stap die dit bestand schrijft")
    try:
        return gpd.read_file(path, layer=layer)
    except Exception as exc:  # noqa: BLE001 - pyogrio raises DataSourceError/DataLayerError/OSError
        raise InputError(
            f"{path}: geen leesbaar GeoPackage met laag {layer!r} ({technisch(_first_line(exc))})"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def verify_cbs_cache(cache_dir: Path, registry_keys: set[str] | None = None) -> list[Path]:
    """Check every cached CBS table folder before it is used; one clear error for the first bad one.

    A folder ``<cache_dir>/<table_id>/<selection>/`` (one per region selection; dot-folders are writes,
    partial pulls or locks in progress and are ignored) must hold a ``manifest.json`` with ``table_id``,
    ``registry_key`` (known in config/cbs_tables.yaml
    when ``registry_keys`` is given) and ``sha256`` of its ``TypedDataSet.json`` or
    ``UntypedDataSet.json``; that checksum must match, and every part must be UTF-8 JSON. Returns the
    verified folders. The CBS client's cache reader calls this before reading.
    """
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        return []
    ok = []
    # `nederland/` holds the national pulls (Parquet, own manifests; analysis.sources.cbs_national)
    tables = sorted(
        p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "nederland"
    )
    pulls = [f for t in tables for f in sorted(t.iterdir()) if f.is_dir() and not f.name.startswith(".")]
    for folder in pulls:
        mpath = folder / "manifest.json"
        if not mpath.exists():
            raise InputError(
                f"{folder}: CBS-tabel in de cache zonder manifest.json (onvolledig of niet geschreven door "
                "`veerkracht fetch`); verwijder de map of haal de tabel opnieuw op"
            )
        manifest = _read_json(mpath)
        if not isinstance(manifest, dict):
            raise InputError(f"{mpath}: verwacht een JSON-object")
        for key in ("table_id", "registry_key", "sha256"):
            if not manifest.get(key):
                raise InputError(f"{mpath}: veld '{key}' ontbreekt")
        if registry_keys is not None and manifest["registry_key"] not in registry_keys:
            raise InputError(
                f"{mpath}: registry_key {manifest['registry_key']!r} staat niet in config/cbs_tables.yaml"
            )
        data = next(
            (folder / n for n in ("TypedDataSet.json", "UntypedDataSet.json") if (folder / n).exists()), None
        )
        if data is None:
            raise InputError(
                f"{folder}: CBS-tabel in de cache zonder TypedDataSet.json of UntypedDataSet.json"
            )
        if sha256_file(data) != manifest["sha256"]:
            raise InputError(
                f"{data}: sha256 klopt niet met die in manifest.json (bestand bewerkt of "
                "beschadigd); haal de tabel opnieuw op"
            )
        for part in sorted(folder.glob("*.json")):
            if part != mpath:
                _read_json(part)
        ok.append(folder)
    return ok


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: geen UTF-8-tekst (binair of beschadigd bestand)") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{path}: geen geldige JSON (regel {exc.lineno}, kolom {exc.colno}; {technisch(exc.msg)})"
        ) from exc
