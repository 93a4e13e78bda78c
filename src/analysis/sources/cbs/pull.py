"""Pulling tables into the cache: one table for one selection (resumable, locked), every registered
table within one budget, and the summary."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.errors import InputError, SourceUnavailable
from analysis.sources.cbs.cache import _write_json, write_cache
from analysis.sources.cbs.protocol import (
    DATA_PART,
    META_PARTS,
    NATIONAL_ALIASES,
    _dims,
    _topics,
    harmonise,
    region_dim_of,
    resolve_select,
    resolve_topics,
)
from analysis.sources.cbs.registry import Selection, TableResult, availability, table_plan
from analysis.sources.cbs.summary import summarise
from analysis.sources.cbs.transport import BudgetExhausted, CbsClient, Deadline, NotFound, host_of


@contextlib.contextmanager
def _pull_lock(path: Path):
    """One pull per table and selection at a time (two `veerkracht fetch` runs would share pages).
    A lock left by a process that no longer exists is taken over."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                pid = int(path.read_text(encoding="utf-8").strip() or 0)
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError, FileNotFoundError):
                path.unlink(missing_ok=True)  # stale
                continue
            except PermissionError:
                pass  # alive, owned by someone else
            raise SourceUnavailable(f"wordt al opgehaald door proces {pid} ({path})") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:
        raise SourceUnavailable(f"vergrendeling niet te krijgen ({path})")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


class TablePull:
    """Pull one table for one selection into the cache, resuming an earlier partial pull."""

    def __init__(
        self, client: CbsClient, cache_dir: Path, catalog: str, selection: Selection, deadline: Deadline
    ):
        self.c, self.cache_dir, self.sel, self.deadline = client, cache_dir, selection, deadline
        self.catalog = catalog
        self.base = client.s.base(catalog)

    def _part(self, table_id: str, name: str, params: dict[str, str] | None = None) -> list:
        return self.c.get_all(
            self.base, f"{self.base}/{table_id}/{name}", {"$format": "json", **(params or {})}, self.deadline
        )

    def run(self, key: str, table_id: str, spec: dict[str, Any], year: int | None) -> TableResult:
        table_dir = self.cache_dir / table_id
        try:
            with _pull_lock(table_dir / f".lock-{self.sel.key}"):
                return self._run(key, table_id, spec, year)
        finally:
            with contextlib.suppress(OSError):  # a table that does not exist leaves no empty folder
                table_dir.rmdir()

    def _run(self, key: str, table_id: str, spec: dict[str, Any], year: int | None) -> TableResult:
        res = TableResult(key, table_id, year, "failed")
        listing = self.c.get(f"{self.base}/{table_id}/", {"$format": "json"}, self.deadline)["value"]
        names = [p["name"] for p in listing]
        raw: dict[str, Any] = {n: self._part(table_id, n) for n in META_PARTS if n in names}
        region_dim = region_dim_of(raw, spec)
        region_f = self.sel.filter(region_dim)
        dims = _dims(raw) or {d: "Dimension" for d in (spec.get("select") or {})}
        for dim in dims:
            if dim in names and dim != region_dim:
                raw[dim] = self._part(table_id, dim)
        if region_dim in names:  # the region dimension filtered like the data (item 8)
            raw[region_dim] = self._part(table_id, region_dim, {"$filter": self.sel.filter("Key")})
        select = resolve_select(raw, table_id, spec)
        data_f = f"({region_f})" + "".join(f" and ({d} eq '{k}')" for d, k in select.items())
        columns = self._columns(raw, table_id, spec, region_dim, select)
        rows, res.pages, res.resumed_from_page = self._paged(table_id, data_f, raw, columns)
        raw[DATA_PART] = rows
        try:
            self._check_columns(raw, table_id, spec, columns)
            long = harmonise(raw, table_id, spec, year)  # validates before caching
        except InputError:
            shutil.rmtree(self._partial_dir(table_id), ignore_errors=True)  # complete but unusable
            raise
        found, absent = resolve_topics(raw, table_id, spec)
        got = set(long["region_code"]) | {str(r.get(region_dim, "")).strip() for r in rows}
        got |= {NATIONAL_ALIASES[c] for c in got if c in NATIONAL_ALIASES}
        res.missing_regions = [c for c in self.sel.expected if c not in got]
        res.availability = availability(spec, table_id, year, found, absent, long)
        if "editions" in spec:
            titles = {p.get("Key"): p.get("Title", "") for p in raw.get("DataProperties", [])}
            res.unmapped_topics = [
                f"{k} ({' > '.join(path)}: {titles.get(k, '')})"
                for k, path in _topics(raw)
                if k not in found.values()
            ]
        meta = {
            "registry_key": key,
            "year": year,
            # the host the data came from (a mirror or test server when redirected), not the
            # registry's catalog, which is kept next to it
            "catalog": host_of(self.base),
            "registry_catalog": self.catalog,
            "filter": data_f,
            "select": select,
        }
        self._store(table_id, raw, long, {**meta, "columns": columns} if columns else meta)
        shutil.rmtree(self._partial_dir(table_id), ignore_errors=True)
        res.status, res.rows = "pulled", len(rows)
        return res

    # --- hooks: the national pull (analysis.sources.cbs_national) narrows the columns and stores
    # Parquet instead of the raw JSON parts ----------------------------------------------------------
    def _columns(
        self,
        raw: dict[str, Any],
        table_id: str,
        spec: dict[str, Any],
        region_dim: str,
        select: dict[str, str],
    ) -> str | None:
        """``$select`` of the data request; None: every column (the municipal pull)."""
        return None

    def _check_columns(
        self, raw: dict[str, Any], table_id: str, spec: dict[str, Any], columns: str | None
    ) -> None:
        """Raise InputError when the data lack a column asked for (only with ``$select``)."""

    def _store(self, table_id: str, raw: dict[str, Any], long: pd.DataFrame, meta: dict[str, Any]) -> None:
        write_cache(self.cache_dir, table_id, raw, meta, self.sel)

    def _partial_dir(self, table_id: str) -> Path:
        return self.cache_dir / table_id / f".partial-{self.sel.key}"

    def _paged(
        self, table_id: str, data_f: str, raw: dict[str, Any], columns: str | None = None
    ) -> tuple[list, int, int | None]:
        """All data pages; pages already on disk from an interrupted pull with the same filter,
        columns and table version are reused and the pull goes on from the saved next link."""
        pdir = self._partial_dir(table_id)
        modified = (raw.get("TableInfos") or [{}])[0].get("Modified")
        state_path = pdir / "state.json"
        state = None
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                state = None
            if (
                not state
                or state.get("filter") != data_f
                or state.get("modified") != modified
                or state.get("select") != columns
            ):
                shutil.rmtree(pdir, ignore_errors=True)
                state = None
        pdir.mkdir(parents=True, exist_ok=True)
        if state is None:
            state = {"filter": data_f, "modified": modified, "pages": 0, "next": None}
            if columns:
                state["select"] = columns
            _write_json(state_path, state)
        resumed = state["pages"] if state["pages"] else None
        start = state["next"] if state["pages"] else None
        if start and state.get("base") != self.base:
            # saved under another host, port, prefix or environment (mirror): same table version and
            # filter, so the pages stay valid; the link is rebuilt for the catalog used now
            start = self.c._follow(start, self.base)
        state["base"] = self.base
        if state["pages"] and not start:  # all pages were there, only the final write failed
            it = iter(())
        else:
            url = f"{self.base}/{table_id}/{DATA_PART}"
            params = {"$format": "json", "$filter": data_f}
            if columns:
                params["$select"] = columns
            it = self.c.pages(self.base, url, params, self.deadline, start)
        for page, nxt in it:
            _write_json(pdir / f"page{state['pages']:05d}.json", page)
            state = {**state, "pages": state["pages"] + 1, "next": nxt}
            _write_json(state_path, state)
        rows: list = []
        for k in range(state["pages"]):
            rows.extend(json.loads((pdir / f"page{k:05d}.json").read_text(encoding="utf-8")))
        return rows, state["pages"], resumed


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
            try:
                res = pull(client, cache_dir, catalog, sel, deadline).run(key, table_id, spec, year)
            except NotFound as exc:
                res = TableResult(key, table_id, year, "not_found", error=str(exc))
                if i + 1 < len(candidates):
                    log(f"CBS {table_id}: niet gevonden; volgende editie {candidates[i + 1]}")
                    results.append(res)
                    continue
            except BudgetExhausted as exc:
                res = TableResult(key, table_id, year, "budget", error=str(exc))
                res.pages = saved_pages(pull, client, cache_dir, catalog, sel, deadline, table_id)
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
