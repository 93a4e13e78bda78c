"""The CBS cache: ``<cache>/<table>/<selection>/`` with the raw parts and a manifest, swapped in
atomically; reading it back for one selection."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import InputError, technisch
from analysis.io import sha256_file
from analysis.records import COLUMNS
from analysis.sources.cbs.protocol import derive_rates, harmonise, v4_spec
from analysis.sources.cbs.registry import Selection

# <cache>/nederland/: the national pulls (analysis.sources.cbs_national), Parquet per table; not a table
NATIONAL_CACHE = "nederland"


# --- cache ---------------------------------------------------------------------------------------


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def write_cache(
    cache_dir: Path,
    table_id: str,
    raw: dict[str, Any],
    meta: dict[str, Any],
    selection: Selection | None = None,
) -> Path:
    """Write ``<cache_dir>/<table_id>/<selection.key>/`` in a temporary folder and swap it in whole.

    Without ``selection`` the project's own selection from settings.yaml is used.
    """
    if selection is None:
        from analysis.config import settings

        selection = Selection.from_settings(settings())
    table_dir = cache_dir / table_id
    table_dir.mkdir(parents=True, exist_ok=True)
    target = table_dir / selection.key
    tmp = Path(tempfile.mkdtemp(prefix=f".{selection.key}.", dir=table_dir))
    try:
        for name, part in raw.items():
            (tmp / f"{name}.json").write_text(json.dumps(part, ensure_ascii=False), encoding="utf-8")
        data_name = "TypedDataSet" if "TypedDataSet" in raw else "UntypedDataSet"
        info = (raw.get("TableInfos") or [{}])[0]
        manifest = {
            "table_id": table_id,
            "title": info.get("Title"),
            "modified": info.get("Modified"),
            "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": len(raw.get(data_name, [])),
            "sha256": sha256_file(tmp / f"{data_name}.json"),
            "selection": asdict(selection),
            "selection_key": selection.key,
            **meta,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        old = None
        if target.exists():
            old = table_dir / f".{selection.key}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _read_folder(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        raw = {
            p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in folder.glob("*.json")
            if p.name != "manifest.json"
        }
    except json.JSONDecodeError as exc:
        raise InputError(f"{folder}: CBS-tabel in de cache is geen geldige JSON ({technisch(exc)})") from exc
    return manifest, raw


def read_cache(
    cache_dir: Path, selection: Selection | None = None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest, raw parts) per cached table for one selection.

    The exact selection wins; otherwise the newest pull for the same municipality (e.g. after the
    comparison list changed). ``selection=None``: every complete cached pull.
    """
    out = []
    if not cache_dir.exists():
        return out
    for table_dir in sorted(
        p
        for p in cache_dir.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and p.name != NATIONAL_CACHE
    ):
        if (table_dir / "manifest.json").exists():
            warnings.warn(
                f"{table_dir}: CBS-cache in de oude indeling (een selectie per tabel) wordt niet gelezen; "
                "draai `veerkracht fetch` opnieuw",
                stacklevel=2,
            )
        folders = [p for p in table_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
        folders = [p for p in folders if (p / "manifest.json").exists()]
        if selection is None:
            out += [_read_folder(p) for p in sorted(folders)]
            continue
        exact = [p for p in folders if p.name == selection.key]
        same = sorted(
            (p for p in folders if p.name.split("_")[0] == selection.gemeente),
            key=lambda p: json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("pulled_at", ""),
        )
        pick = exact[0] if exact else (same[-1] if same else None)
        if pick is not None:
            manifest, raw = _read_folder(pick)
            _check_selection(pick, manifest, selection)
            out.append((manifest, raw))
    return out


def _check_selection(folder: Path, manifest: dict[str, Any], selection: Selection) -> None:
    """The folder name is only a label: the manifest says whose pull it holds. Another municipality's
    pull (a copied or renamed folder) is refused, never read as this one's."""
    held = (manifest.get("selection") or {}).get("gemeente")
    if held != selection.gemeente:
        raise InputError(
            f"{folder / 'manifest.json'}: CBS-cache van gemeente {held!r} staat in de map van "
            f"{selection.gemeente}; verwijder de map en haal opnieuw op met `veerkracht fetch`"
        )
    if folder.name == selection.key and manifest.get("selection_key") != selection.key:
        raise InputError(
            f"{folder / 'manifest.json'}: selectie {manifest.get('selection_key')!r} past niet bij de "
            f"map {folder.name}; verwijder de map en haal opnieuw op met `veerkracht fetch`"
        )


def cached_indicators(cache_dir: Path, registry: dict[str, Any], selection: Selection) -> pd.DataFrame:
    """Long indicators from the cache for one region selection (required: reading another
    municipality's pull by accident must be impossible).

    For a registry group with ``editions`` only the first cached edition in registry order is used.
    """
    chosen: dict[tuple[str, Any], tuple[int, dict, dict]] = {}
    for manifest, raw in read_cache(cache_dir, selection):
        key = manifest.get("registry_key")
        if key not in registry:
            warnings.warn(
                f"{cache_dir}/{manifest.get('table_id')}: tabelgroep '{key}' onbekend in "
                "config/cbs_tables.yaml; overgeslagen",
                stacklevel=2,
            )
            continue
        spec = registry[key]
        editions = list(spec.get("editions", []))
        rank = editions.index(manifest["table_id"]) if manifest["table_id"] in editions else 0
        slot = (key, manifest.get("year") if "years" in spec else None)
        if slot not in chosen or rank < chosen[slot][0]:
            chosen[slot] = (rank, manifest, raw)
    frames = [
        harmonise(raw, m["table_id"], _spec(registry[m["registry_key"]], m), m.get("year"))
        for _, m, raw in chosen.values()
    ]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return derive_rates(pd.concat(frames, ignore_index=True))


def _spec(spec: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The registry spec as the pull used it: measure codes as keys for a table read through v4."""
    return v4_spec(spec, manifest["table_id"]) if manifest.get("odata") == "v4" else spec
