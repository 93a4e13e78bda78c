"""The gemeente -> provincie table ("Gebieden in Nederland <jaar>") for ``--scope provincie``:
pulled with the CBS client (timeouts, retries, budget) and written atomically as CSV + JSON."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import InputError, SourceUnavailable
from analysis.io import atomic_path, write_json
from analysis.sources.cbs import (
    DATA_PART,
    NATIONAL_CACHE,
    BudgetExhausted,
    CbsClient,
    Deadline,
    NotFound,
    _dataset,
    region_dim_of,
    resolve_topics,
)

# --- gemeente -> provincie -------------------------------------------------------------------------

# The gemeente -> provincie table ("Gebieden in Nederland <jaar>"): its table ids (85755NED, fallback
# 86059NED) and topic rule (Code_<n> below the TopicGroup 'Provincies') are the `gebieden` entry of
# config/cbs_tables.yaml, with the sources they were found in; not a table group (fetch skips it).


def gebieden_spec() -> dict[str, Any]:
    """``gebieden:`` of config/cbs_tables.yaml, validated (:class:`analysis.config_models.GebiedenTabel`)."""
    from analysis.config import cbs_gebieden

    return cbs_gebieden()


PROVINCIE_FILE = "gemeente_provincie.csv"  # columns GM_CODE, PV_CODE, PV_NAAM
_PV = re.compile(r"^PV\d{2}$")


def provincie_path(raw: Path) -> Path:
    """Where `veerkracht fetch --gebieden` writes the gemeente -> provincie table."""
    return Path(raw) / "cbs" / NATIONAL_CACHE / PROVINCIE_FILE


def gebieden_table(raw_parts: dict[str, Any], table_id: str) -> pd.DataFrame:
    """GM_CODE, PV_CODE, PV_NAAM from a downloaded Gebieden table; every problem one named error."""
    spec = gebieden_spec()
    found, _ = resolve_topics(raw_parts, table_id, {**spec, "required": []})
    if "PV_CODE" not in found:
        raise InputError(
            f"CBS-tabel {table_id}: verwachte kolom 'Code_*' onder TopicGroup 'Provincies' ontbreekt"
        )
    region_dim = region_dim_of(raw_parts, spec)
    rows = _dataset(raw_parts, table_id)
    if not rows:
        raise InputError(f"CBS-tabel {table_id}: leeg antwoord voor de gemeenten")
    df = pd.DataFrame(rows)
    for col in (region_dim, *found.values()):
        if col not in df.columns:
            raise InputError(f"CBS-tabel {table_id}: verwachte kolom '{col}' ontbreekt in het antwoord")
    out = pd.DataFrame(
        {
            "GM_CODE": df[region_dim].astype(str).str.strip(),
            "PV_CODE": df[found["PV_CODE"]].astype(str).str.strip().str.upper(),
            "PV_NAAM": df[found["PV_NAAM"]].astype(str).str.strip() if "PV_NAAM" in found else "",
        }
    )
    out = out[out["GM_CODE"].str.startswith("GM")]
    bad = out[~out["PV_CODE"].str.match(_PV)]
    if len(bad):
        raise InputError(
            f"CBS-tabel {table_id}: kolom '{found['PV_CODE']}' heeft {len(bad)} waarde(n) die geen "
            f"provinciecode PVnn zijn (bijvoorbeeld {bad['PV_CODE'].iloc[0]!r} voor {bad['GM_CODE'].iloc[0]})"
        )
    dup = out[out.duplicated("GM_CODE", keep=False)]
    if len(dup):
        raise InputError(
            f"CBS-tabel {table_id}: gemeente {dup['GM_CODE'].iloc[0]} staat er meer dan een keer in"
        )
    if out.empty:
        raise InputError(f"CBS-tabel {table_id}: geen gemeenterijen (GMxxxx) in het antwoord")
    return out.sort_values("GM_CODE").reset_index(drop=True)


def fetch_gebieden(
    client: CbsClient,
    raw: Path,
    log=print,
    *,
    budget_s: float | None = None,
    editions: list[str] | None = None,
) -> dict[str, Any]:
    """Pull "Gebieden in Nederland" and write ``<raw>/cbs/nederland/gemeente_provincie.csv`` (+ ``.json``
    with table id, title, CBS Modified and fetched_at), atomically. Returns a summary with ``status``
    pulled | offline | failed | budget; one log line per problem; the earlier file is kept on failure."""
    spec = gebieden_spec()
    catalog = spec["catalog"]
    editions = list(editions or spec["editions"])
    target = provincie_path(raw)
    if not client.probe(catalog):
        log(f"CBS niet bereikbaar ({client.s.base(catalog)}): gemeente->provincie niet opgehaald")
        return {"status": "offline", "table_id": editions[0], "path": None}
    deadline = Deadline(client.s.budget_s if budget_s is None else budget_s)
    base = client.s.base(catalog)
    for i, tid in enumerate(editions):
        try:
            client.get(f"{base}/{tid}/", {"$format": "json"}, deadline)  # 404 here: next edition
            parts: dict[str, Any] = {
                n: client.get_all(base, f"{base}/{tid}/{n}", {"$format": "json"}, deadline)
                for n in ("TableInfos", "DataProperties")
            }
            found, _ = resolve_topics(parts, tid, {**spec, "required": []})
            region_dim = region_dim_of(parts, spec)
            params = {
                "$format": "json",
                "$filter": f"startswith({region_dim},'GM')",
                "$select": ",".join([region_dim, *found.values()]),
            }
            parts[DATA_PART] = client.get_all(base, f"{base}/{tid}/{DATA_PART}", params, deadline)
            table = gebieden_table(parts, tid)
        except NotFound as exc:
            if i + 1 < len(editions):
                log(f"CBS {tid}: niet gevonden; volgende editie {editions[i + 1]}")
                continue
            log(f"CBS {tid}: {exc}")
            return {"status": "failed", "table_id": tid, "error": str(exc), "path": None}
        except BudgetExhausted as exc:
            log(f"CBS {tid}: tijdsbudget op; gemeente->provincie niet opgehaald")
            return {"status": "budget", "table_id": tid, "error": str(exc), "path": None}
        except (SourceUnavailable, InputError) as exc:
            log(f"CBS {tid}: {exc}")
            return {"status": "failed", "table_id": tid, "error": str(exc), "path": None}
        info = (parts.get("TableInfos") or [{}])[0]
        with atomic_path(target) as tmp:
            table.to_csv(tmp, index=False)
        write_json(
            target.with_suffix(".json"),
            {
                "table_id": tid,
                "title": info.get("Title"),
                "modified": info.get("Modified"),
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "columns": {"PV_CODE": found["PV_CODE"], "PV_NAAM": found.get("PV_NAAM")},
                "gemeenten": len(table),
                "provincies": int(table["PV_CODE"].nunique()),
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            },
        )
        return {
            "status": "pulled",
            "table_id": tid,
            "path": str(target),
            "gemeenten": len(table),
            "provincies": int(table["PV_CODE"].nunique()),
        }
    raise AssertionError("unreachable")  # pragma: no cover
