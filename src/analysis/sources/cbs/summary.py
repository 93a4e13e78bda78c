"""The summary of a pull: one log line per problem (in plain Dutch), the JSON summary on disk."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from analysis.sources.cbs.cache import _write_json
from analysis.sources.cbs.registry import TableResult


def summarise(
    results: list[TableResult],
    sel: Any,
    reachable: dict[str, bool],
    hosts: dict[str, str],
    cache_dir: Path,
    started: float,
    log,
    max_failures: int = 3,
) -> dict[str, Any]:
    # a not-found edition with a fallback after it is no failure; a year table (one per year) has none
    last = {(r.group, r.year): r for r in results}
    failed = [
        r for r in results if r.status == "failed" or (r.status == "not_found" and last[r.group, r.year] is r)
    ]
    for r in results:
        if any(r is f for f in failed):
            what = f"{r.group} {r.year}" if r.year is not None else r.group
            log(f"CBS {r.table_id} ({what}): {r.error}")
        if r.missing_regions:
            log(f"CBS {r.table_id}: gevraagde regio's niet in het antwoord: {', '.join(r.missing_regions)}")
        gone = [a["indicator"] for a in r.availability if a["status"] == "ontbreekt"]
        if gone:
            log(f"CBS {r.table_id}: verwachte indicatoren niet in de tabel: {', '.join(gone)}")
    budget = [r.table_id for r in results if r.status == "budget"]
    if budget:
        kept = [f"{r.table_id} ({r.pages})" for r in results if r.status == "budget" and r.pages]
        log(
            f"CBS: tijdsbudget op; niet (volledig) opgehaald: {', '.join(budget)}"
            + (
                f" (opgehaalde pagina's bewaard voor de volgende keer: {', '.join(kept)})"
                if kept
                else " (geen pagina's opgehaald)"
            )
        )
    skipped = [r.table_id for r in results if r.status == "skipped"]
    if skipped:
        log(
            f"CBS: gestopt na {max_failures} tabellen op rij met verbindingsfouten; niet geprobeerd: "
            f"{', '.join(skipped)}"
        )
    offline = [r.table_id for r in results if r.status == "offline"]
    if offline:
        down = ", ".join(sorted({hosts[c] for c, ok in reachable.items() if not ok}))
        log(
            f"CBS niet bereikbaar ({down}): {len(offline)} tabellen overgeslagen; de pijplijn gebruikt de "
            "cache of de meegeleverde snapshot."
        )
    summary = {
        "selection": {**asdict(sel), "key": sel.key},
        "catalogs": reachable,
        "pulled": [r.table_id for r in results if r.status == "pulled"],
        "failed": [{"table_id": r.table_id, "error": r.error} for r in failed],
        "offline": offline,
        "not_pulled": budget,
        "skipped": skipped,
        "missing_regions": {r.table_id: r.missing_regions for r in results if r.missing_regions},
        "tables": [asdict(r) for r in results],
        "availability": [a for r in results for a in r.availability],
        "seconds": round(time.monotonic() - started, 2),
    }
    if summary["pulled"] or summary["failed"] or budget or skipped:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = cache_dir / f"fetch_summary.{sel.key}.json"
        summary["summary_path"] = str(path)
        _write_json(path, summary)
    return summary
