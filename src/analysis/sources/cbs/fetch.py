"""Every registered table for one region selection within one budget: the pull class per table
(OData v3, or v4 where the registry says ``odata: v4``), the circuit breaker, the summary."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from analysis.errors import InputError, SourceUnavailable
from analysis.sources.cbs.pull import TablePull
from analysis.sources.cbs.pull_v4 import V4TablePull
from analysis.sources.cbs.registry import Selection, TableResult, table_plan
from analysis.sources.cbs.summary import summarise
from analysis.sources.cbs.transport import BudgetExhausted, CbsClient, Deadline, NotFound


def fetch_all(
    client: CbsClient,
    registry: dict[str, Any],
    gemeente: str,
    cache_dir: Path,
    years: range,
    log: Callable[[str], None] = print,
    others: tuple[str, ...] = (),
    *,
    national: str = "NL00",
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Pull every registered table for one region selection into the cache; never hangs.

    ``gemeente``: the municipality (its wijken and buurten come along); ``others``: comparison
    municipalities (municipal rows only); ``national``: the national row. The cache is keyed by table
    and this selection, so pulls for other municipalities stay intact. ``budget_s`` (default:
    settings) bounds the whole call; when it runs out, what was pulled is kept (pages included) and
    the rest is named. ``log`` gets one line per problem. Returns a JSON-able summary, also written
    to ``<cache_dir>/fetch_summary.<selection>.json``.
    """
    sel = Selection(gemeente, national, tuple(others))
    return fetch_selection(client, registry, sel, cache_dir, years, log, budget_s=budget_s)


def fetch_selection(
    client: CbsClient,
    registry: dict[str, Any],
    sel: Any,
    cache_dir: Path,
    years: range,
    log: Callable[[str], None] = print,
    *,
    budget_s: float | None = None,
    pull: type[TablePull] = TablePull,
) -> dict[str, Any]:
    """:func:`fetch_all` for any region selection (``key``, ``filter(dim)``, ``expected``) and pull
    class: the municipal one, or the national one of :mod:`analysis.sources.cbs_national`."""
    started = time.monotonic()
    deadline = Deadline(client.s.budget_s if budget_s is None else budget_s)
    catalogs = sorted({spec.get("catalog", "opendata.cbs.nl") for spec in registry.values()})
    hosts = {c: client.s.base(c) for c in catalogs}
    uniq = sorted(set(hosts.values()))
    with ThreadPoolExecutor(max_workers=max(1, len(uniq))) as pool:  # worst case one probe timeout
        up = dict(zip(uniq, pool.map(client.probe_url, uniq), strict=True))
    reachable = {c: up[hosts[c]] for c in catalogs}
    results: list[TableResult] = []
    streak = dict.fromkeys(uniq, 0)  # tables in a row that failed on transport errors, per host
    for key, candidates, year in table_plan(registry, years):
        spec = registry[key]
        catalog = spec.get("catalog", "opendata.cbs.nl")
        if not reachable[catalog]:
            results.append(TableResult(key, candidates[0], year, "offline"))
            continue
        if deadline.remaining() <= 0:
            results.append(TableResult(key, candidates[0], year, "budget", error="tijdsbudget op"))
            continue
        if streak[hosts[catalog]] >= client.s.max_failures:  # circuit breaker
            results.append(TableResult(key, candidates[0], year, "skipped", error="niet geprobeerd"))
            continue
        for i, table_id in enumerate(candidates):
            transport_failure = False
            cls = pull
            if spec.get("odata") == "v4":
                cls = V4TablePull if pull is TablePull else None
            try:
                if cls is None:
                    raise InputError("OData v4 wordt (nog) niet gebruikt voor de landelijke ophaal")
                res = cls(client, cache_dir, catalog, sel, deadline).run(key, table_id, spec, year)
            except NotFound as exc:
                res = TableResult(key, table_id, year, "not_found", error=str(exc))
                if i + 1 < len(candidates):
                    log(f"CBS {table_id}: niet gevonden; volgende editie {candidates[i + 1]}")
                    results.append(res)
                    continue
            except BudgetExhausted as exc:
                res = TableResult(key, table_id, year, "budget", error=str(exc))
                res.pages = saved_pages(cls, client, cache_dir, catalog, sel, deadline, table_id)
            except SourceUnavailable as exc:
                res = TableResult(key, table_id, year, "failed", error=str(exc))
                transport_failure = True
            except InputError as exc:
                res = TableResult(key, table_id, year, "failed", error=str(exc))
            streak[hosts[catalog]] = streak[hosts[catalog]] + 1 if transport_failure else 0
            results.append(res)
            break
    return summarise(results, sel, reachable, hosts, cache_dir, started, log, client.s.max_failures)


def saved_pages(pull, client, cache_dir: Path, catalog, sel, deadline, table_id: str) -> int:
    """Data pages of ``table_id`` kept on disk for the next pull to resume from (0: none)."""
    state = pull(client, cache_dir, catalog, sel, deadline)._partial_dir(table_id) / "state.json"
    try:
        return int(json.loads(state.read_text(encoding="utf-8")).get("pages", 0))
    except (OSError, ValueError, AttributeError):
        return 0
