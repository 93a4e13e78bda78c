"""Pulling tables into the cache: one table for one selection (resumable, locked), every registered
table within one budget, and the summary."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
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
from analysis.sources.cbs.registry import Selection, TableResult, availability
from analysis.sources.cbs.transport import CbsClient, Deadline, host_of


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

    v4 = False  # OData v4 (analysis.sources.cbs.pull_v4) or v3
    data_part = DATA_PART

    def __init__(
        self, client: CbsClient, cache_dir: Path, catalog: str, selection: Selection, deadline: Deadline
    ):
        self.c, self.cache_dir, self.sel, self.deadline = client, cache_dir, selection, deadline
        self.catalog = catalog
        self.base = client.s.base(catalog, v4=self.v4)

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
        return self._finish(res, key, table_id, spec, year, raw, region_dim, data_f, select, columns)

    def _finish(self, res, key, table_id, spec, year, raw, region_dim, data_f, select, columns):
        """Validate (harmonise), note what is missing, store, drop the partial pages."""
        rows = raw[DATA_PART]
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
            "odata": "v4" if self.v4 else "v3",
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
            url = f"{self.base}/{table_id}/{self.data_part}"
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
