"""CBS OData v3 client: bounded, resumable, cached per table and region selection.

The wire protocol is the one ``cbsodata`` (1.3.5) speaks: ``<scheme>://<catalog>/ODataFeed/odata/<id>/``
lists the parts of a table, each part is fetched with ``$format=json`` and bulk parts are paged by the
server (10,000 rows) through ``odata.nextLink``. What cbsodata does (checked in its source): it passes
``timeout=`` and other ``requests`` arguments through, and filters and selects the data part
(``filters=``, ``select=``). What it does not, and why the transfer is done here: it downloads every
dimension part whole (no filter for them), ``get_data`` replaces dimension keys by their titles (regions
named by title, not code), it has no retries, no total budget (a timeout is per socket read, so a
trickling server is not bounded), no resume of a paged pull, follows ``odata.nextLink`` to CBS's own host
(a mirror or test server is left after the first page), takes the scheme from a process-wide option and
opens a new session per page. Its table and metadata look-ups (``get_info``, ``get_meta``) share these
limits (no retry, no budget, global scheme), so they are not used either; docs/live_cbs.md. Here:

* every request has a connect and a read timeout, both capped by the remaining total budget, and the
  body is read in chunks so a trickling server cannot outlast the budget;
* every transport error (refused, reset, timeout, a connection cut mid-response, a truncated body,
  HTTP 429/5xx) is retried with exponential backoff (tenacity), bounded in attempts and by the budget;
* the reachability probe only opens a TCP connection: "offline" means no connection could be made,
  a slow server is handled by the read timeouts;
* one setting / environment variable (``VEERKRACHT_CBS_CATALOG``) redirects every catalog;
* the region dimension is filtered like the data; extra dimensions are resolved at run time by key
  (padded keys such as ``'0.0.0 '`` are taken from the dimension endpoint) or by title;
* topics are mapped per edition from DataProperties (full key, or key without suffix inside an
  optional TopicGroup); two topics claiming one indicator is an explicit error, never a silent pick;
* pages are written to ``<cache>/<table>/.partial-<selection>/`` as they arrive, so a pull that fails
  at page k resumes from page k next time;
* the finished table is swapped in atomically at ``<cache>/<table>/<selection>/``; other selections
  (other municipalities) are never touched.

Modules: :mod:`.transport` (settings, budget, requests with timeouts and retries, paging),
:mod:`.protocol` (OData v3 documents: metadata, topics, harmonisation), :mod:`.registry` (selections,
pull plan, results), :mod:`.cache` (the on-disk cache), :mod:`.pull` / :mod:`.pull_v4` (one table into
it, OData v3 / v4), :mod:`.fetch` (all tables in one budget), :mod:`.summary` and :mod:`.margins`.
Every public name is re-exported here: ``from analysis.sources.cbs import CbsClient, fetch_all``,
imported on first use (PEP 562): ``from analysis.sources.cbs import margins`` (a fact sheet) does
not import requests, tenacity and the transfer code (~0.3 CPU-s per process).
"""

from __future__ import annotations

import importlib

# name -> (submodule, name in it)
_EXPORTS = {
    "NATIONAL_CACHE": ("cache", "NATIONAL_CACHE"),
    "_read_folder": ("cache", "_read_folder"),
    "_write_json": ("cache", "_write_json"),
    "cached_indicators": ("cache", "cached_indicators"),
    "read_cache": ("cache", "read_cache"),
    "write_cache": ("cache", "write_cache"),
    "fetch_all": ("fetch", "fetch_all"),
    "fetch_selection": ("fetch", "fetch_selection"),
    "_PROVISIONAL": ("protocol", "_PROVISIONAL"),
    "_SUFFIX": ("protocol", "_SUFFIX"),
    "DATA_PART": ("protocol", "DATA_PART"),
    "DIM_TYPES": ("protocol", "DIM_TYPES"),
    "META_PARTS": ("protocol", "META_PARTS"),
    "MISSING_SYMBOLS": ("protocol", "MISSING_SYMBOLS"),
    "NATIONAL_ALIASES": ("protocol", "NATIONAL_ALIASES"),
    "RATES": ("protocol", "RATES"),
    "_dataset": ("protocol", "_dataset"),
    "_dims": ("protocol", "_dims"),
    "_topics": ("protocol", "_topics"),
    "base_key": ("protocol", "base_key"),
    "derive_rates": ("protocol", "derive_rates"),
    "extra_dims_of": ("protocol", "extra_dims_of"),
    "harmonise": ("protocol", "harmonise"),
    "period_dim_of": ("protocol", "period_dim_of"),
    "provisional_keys": ("protocol", "provisional_keys"),
    "region_dim_of": ("protocol", "region_dim_of"),
    "resolve_select": ("protocol", "resolve_select"),
    "resolve_topics": ("protocol", "resolve_topics"),
    "title_norm": ("protocol", "title_norm"),
    "TablePull": ("pull", "TablePull"),
    "_pull_lock": ("pull", "_pull_lock"),
    "Selection": ("registry", "Selection"),
    "TableResult": ("registry", "TableResult"),
    "availability": ("registry", "availability"),
    "region_filter": ("registry", "region_filter"),
    "table_plan": ("registry", "table_plan"),
    "summarise": ("summary", "summarise"),
    "_summarise": ("summary", "summarise"),
    "ENV_CATALOG": ("transport", "ENV_CATALOG"),
    "FEED": ("transport", "FEED"),
    "TRANSIENT_STATUS": ("transport", "TRANSIENT_STATUS"),
    "BudgetExhausted": ("transport", "BudgetExhausted"),
    "CbsClient": ("transport", "CbsClient"),
    "CbsSettings": ("transport", "CbsSettings"),
    "Deadline": ("transport", "Deadline"),
    "NotFound": ("transport", "NotFound"),
    "_describe": ("transport", "_describe"),
    "_is_transient": ("transport", "_is_transient"),
    "_read_body": ("transport", "_read_body"),
    "_Transient": ("transport", "_Transient"),
    "host_of": ("transport", "host_of"),
    "rebase_link": ("transport", "rebase_link"),
}

__all__ = [
    "title_norm",
    "host_of",
    "rebase_link",
    "BudgetExhausted",
    "CbsClient",
    "CbsSettings",
    "DATA_PART",
    "DIM_TYPES",
    "Deadline",
    "ENV_CATALOG",
    "FEED",
    "META_PARTS",
    "MISSING_SYMBOLS",
    "NATIONAL_ALIASES",
    "NATIONAL_CACHE",
    "NotFound",
    "RATES",
    "Selection",
    "TRANSIENT_STATUS",
    "TablePull",
    "TableResult",
    "_PROVISIONAL",
    "_SUFFIX",
    "_Transient",
    "_dataset",
    "_describe",
    "_dims",
    "_is_transient",
    "_pull_lock",
    "_read_body",
    "_read_folder",
    "_summarise",
    "summarise",
    "_topics",
    "_write_json",
    "availability",
    "base_key",
    "cached_indicators",
    "derive_rates",
    "extra_dims_of",
    "fetch_all",
    "fetch_selection",
    "harmonise",
    "period_dim_of",
    "provisional_keys",
    "read_cache",
    "region_dim_of",
    "region_filter",
    "resolve_select",
    "resolve_topics",
    "table_plan",
    "write_cache",
]


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value  # once: later look-ups are plain module attributes, as before
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
