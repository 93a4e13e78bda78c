"""CBS transport: settings, time budget, one JSON document per request with timeouts and bounded
retries (tenacity), paging through ``odata.nextLink``, the TCP reachability probe."""

from __future__ import annotations

import json
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from analysis.errors import InputError
from analysis.sources.http_retry import (
    TRANSIENT_STATUS,
    BudgetExhausted,
    Deadline,
    TransportSettings,
    with_retries,
)
from analysis.sources.http_retry import Transient as _Transient
from analysis.sources.http_retry import describe as _describe
from analysis.sources.http_retry import is_transient as _is_transient

__all__ = [  # the shared transport names stay importable from here (analysis.sources.cbs re-exports them)
    "TRANSIENT_STATUS",
    "BudgetExhausted",
    "CbsClient",
    "CbsSettings",
    "Deadline",
    "NotFound",
    "_Transient",
    "_describe",
    "_is_transient",
    "host_of",
    "rebase_link",
]

FEED = "ODataFeed/odata"
FEED_V4 = "odata/v1/CBS"  # CBS OData v4 (datasets.cbs.nl): <base>/<table>/Observations, ...
ENV_CATALOG = "VEERKRACHT_CBS_CATALOG"


class NotFound(InputError):
    """HTTP 404: the table (or part) does not exist in the catalog."""


@dataclass(frozen=True)
class CbsSettings(TransportSettings):
    """Timeouts, retries and budget (shared with PDOK: analysis.sources.http_retry) plus the catalog."""

    # None: every table goes to its own catalog (config/cbs_tables.yaml). Set (or VEERKRACHT_CBS_CATALOG):
    # every request of every table goes there instead. "host[:port]" or "http(s)://host[:port][/prefix]".
    catalog_url: str | None = None
    use_https: bool = True
    probe_timeout_s: float = 2.0
    # circuit breaker: after this many tables in a row failed on transport errors (per host), the
    # remaining tables of that host are not tried and are named
    max_failures: int = 3

    @classmethod
    def from_settings(cls, cfg: dict[str, Any] | None, env: dict[str, str] | None = None) -> CbsSettings:
        """From the `cbs:` section of settings.yaml (checked here: unknown keys and wrong values are
        a `fout:` naming the key), with VEERKRACHT_CBS_CATALOG overriding `catalog_url`."""
        env = os.environ if env is None else env
        cfg = cfg or {}
        where = "config/settings.yaml: sleutel 'cbs."
        if not isinstance(cfg, dict):
            raise InputError("config/settings.yaml: sleutel 'cbs': verwacht een mapping (sleutel: waarde)")
        for k, v in cfg.items():
            if k not in cls.__dataclass_fields__:
                raise InputError(
                    f"{where}{k}': onbekende instelling (bekend: {', '.join(cls.__dataclass_fields__)})"
                )
            if k == "catalog_url":
                ok = v is None or (isinstance(v, str) and v.strip() != "")
            elif k == "use_https":
                ok = isinstance(v, bool)
            elif k == "max_failures":
                ok = isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 100
            elif k == "retries":
                ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10
            elif k == "backoff_s":
                ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 60
            else:
                ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
            if not ok:
                raise InputError(f"{where}{k}': ongeldige waarde {v!r}")
        kw = dict(cfg)
        if env.get(ENV_CATALOG):
            kw["catalog_url"] = env[ENV_CATALOG]
        return cls(**kw)

    def base(self, catalog: str, v4: bool = False) -> str:
        """Base URL of a catalog, redirect applied: ``https://opendata.cbs.nl/ODataFeed/odata``
        (v4: ``https://datasets.cbs.nl/odata/v1/CBS``)."""
        target = self.catalog_url or catalog
        feed = FEED_V4 if v4 else FEED
        if "://" in target:
            return f"{target.rstrip('/')}/{feed}"
        return f"{'https' if self.use_https else 'http'}://{target.rstrip('/')}/{feed}"


def rebase_link(link: str, base: str) -> str:
    """``link`` (absolute, any host) on ``base``: the part after ``/ODataFeed/odata/`` is kept, the
    scheme, host, port and prefix come from ``base``; a link without that marker keeps its path."""
    parts, b = urlsplit(link), urlsplit(base)
    marker = next((f"/{f}/" for f in (FEED, FEED_V4) if f"/{f}/" in parts.path), None)
    if marker is None:
        return parts._replace(scheme=b.scheme, netloc=b.netloc).geturl()
    rest = parts.path[parts.path.find(marker) + len(marker) :]
    return b._replace(path=f"{b.path.rstrip('/')}/{rest}", query=parts.query, fragment="").geturl()


def host_of(base: str) -> str:
    """The catalog a base URL points at, as recorded in manifests: ``host[:port][/prefix]``."""
    b = urlsplit(base)
    feed = next((f for f in (FEED, FEED_V4) if b.path.endswith(f)), "")
    prefix = b.path[: len(b.path) - len(feed)].rstrip("/")
    return f"{b.netloc}{prefix}"


def _read_body(r: requests.Response, deadline: Deadline, url: str) -> bytearray:
    """The body as it arrives (at most one socket read per step), checking the budget between reads:
    a server that trickles bytes cannot outlast the budget by more than one read timeout."""
    body = bytearray()
    try:
        while chunk := r.raw.read1(64 * 1024, decode_content=True):
            body += chunk
            deadline.check(url)
    except urllib3.exceptions.ProtocolError as exc:  # what requests' iter_content would raise
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(exc) from exc
    return body


class CbsClient:
    """Every request has a timeout and is retried a bounded number of times, within the budget."""

    def __init__(self, settings: CbsSettings, sleep: Callable[[float], None] = time.sleep):
        self.s = settings
        self._sleep = sleep
        self.session = requests.Session()

    # --- reachability ------------------------------------------------------------------------
    def probe(self, catalog: str) -> bool:
        """Can a TCP connection be made to the catalog (or the proxy in front of it)? No data read."""
        return self.probe_url(self.s.base(catalog))

    def probe_url(self, url: str) -> bool:
        proxy = requests.utils.get_environ_proxies(url).get(urlsplit(url).scheme)
        parts = urlsplit(proxy or url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=self.s.probe_timeout_s):
                return True
        except OSError:
            return False

    # --- one JSON document -------------------------------------------------------------------
    def _get_once(self, url: str, params: dict[str, str] | None, deadline: Deadline) -> dict[str, Any]:
        deadline.check(url)
        timeout = self.s.timeout(deadline.remaining())
        with self.session.get(url, params=params, timeout=timeout, stream=True) as r:
            if r.status_code == 404:
                raise NotFound(f"niet gevonden (HTTP 404): {url}")
            if r.status_code in TRANSIENT_STATUS:
                raise _Transient(f"server tijdelijk niet beschikbaar (HTTP {r.status_code})")
            r.raise_for_status()
            body = _read_body(r, deadline, url)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # truncated or not JSON
            raise _Transient("onleesbaar antwoord (afgebroken of geen JSON)") from exc
        if not isinstance(doc, dict) or "value" not in doc:
            raise InputError(f"{url}: OData-antwoord zonder 'value'")
        return doc

    def get(self, url: str, params: dict[str, str] | None, deadline: Deadline) -> dict[str, Any]:
        """One OData document, retried on transport errors with backoff, bounded by the budget."""
        once = lambda: self._get_once(url, params, deadline)  # noqa: E731
        return with_retries(once, self.s, deadline, sleep=self._sleep)

    def _follow(self, next_link: str, base: str) -> str:
        """nextLink rebuilt on the base actually used now (scheme, host, port and any path prefix of a
        mirror): CBS answers with links on its own host, and a link saved by an earlier pull may name
        another host, port or prefix than the current settings (resume after a change of mirror)."""
        return rebase_link(next_link, base)

    def pages(
        self,
        base: str,
        url: str,
        params: dict[str, str] | None,
        deadline: Deadline,
        start: str | None = None,
    ):
        """Yield (page rows, next url or None) for a paged part, starting at ``start`` when resuming."""
        current, current_params = (start, None) if start else (url, params)
        while current:
            doc = self.get(current, current_params, deadline)
            nxt = doc.get("odata.nextLink") or doc.get("@odata.nextLink")  # v3 / v4
            nxt = self._follow(urljoin(current, nxt), base) if nxt else None
            yield doc["value"], nxt
            current, current_params = nxt, None

    def get_all(self, base: str, url: str, params: dict[str, str] | None, deadline: Deadline) -> list:
        rows: list = []
        for page, _ in self.pages(base, url, params, deadline):
            rows.extend(page)
        return rows
