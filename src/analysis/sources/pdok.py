"""Buurt polygons + KWB demographics from the PDOK/CBS Wijk- en buurtkaart service (online path).

`veerkracht --gemeente GMxxxx kaart` pulls the layer ``buurten`` for one municipality from the OGC API
Features endpoint in config/settings.yaml (`pdok.buurten_url`, GeoJSON), follows its ``next`` links,
and caches the result atomically in ``data/raw/pdok/<GM>/buurten.geojson`` (+ ``bron.json``). The build
uses that cache when present, before the bundled Drechtsteden file.

Every request has a connect and a read timeout; transient failures (connection errors, read
timeouts, 429/5xx) are retried a bounded number of times with backoff by urllib3's ``Retry``; the
number of pages is capped, and there is an overall time budget. A failed pull leaves an earlier
cache untouched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from analysis.errors import InputError, SourceUnavailable
from analysis.io import write_json, write_text

BUURTEN_FILE = "buurten.geojson"
META_FILE = "bron.json"
REQUIRED = ("buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "gemeentenaam", "aantalInwoners")


@dataclass(frozen=True)
class PdokSettings:
    buurten_url: str
    page_size: int = 1000
    max_pages: int = 20
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5
    budget_s: float = 300.0

    @classmethod
    def from_settings(cls, cfg: dict[str, Any]) -> PdokSettings:
        if not cfg or not cfg.get("buurten_url"):
            raise InputError("config/settings.yaml: pdok.buurten_url missing")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in cfg.items() if k in known})


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
            raise InputError(f"{meta_path}: not valid JSON ({exc})") from exc
    when = str(meta.get("opgehaald", "onbekend"))[:10]
    return CachedBuurten(path, f"85618NED (Wijk- en buurtkaart 2023, PDOK, opgehaald {when})")


def session(cfg: PdokSettings) -> requests.Session:
    s = requests.Session()
    retry = Retry(
        total=cfg.retries,
        connect=cfg.retries,
        read=cfg.retries,
        status=cfg.retries,
        backoff_factor=cfg.backoff_s,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def _first_request(cfg: PdokSettings, gemeente: str) -> tuple[str, dict[str, Any]]:
    """OGC API Features: ``?gemeentecode=GM…&limit=…&f=json``. A URL with ``{gemeente}`` (e.g. a WFS
    GetFeature URL with its own filter) is used as given."""
    if "{gemeente}" in cfg.buurten_url:
        return cfg.buurten_url.replace("{gemeente}", gemeente), {}
    return cfg.buurten_url, {"gemeentecode": gemeente, "limit": cfg.page_size, "f": "json"}


def _next_link(page: dict[str, Any]) -> str | None:
    for link in page.get("links", []) or []:
        if link.get("rel") == "next" and link.get("href"):
            return str(link["href"])
    return None


def _get(http: requests.Session, url: str, params: dict, timeout: tuple, cfg: PdokSettings):
    """One page. Connection errors, read timeouts and 429/5xx are retried inside urllib3 (``Retry``);
    a connection cut while the body is read happens after urllib3 is done, so that one case is
    retried here, with the same bound and backoff."""
    for attempt in range(cfg.retries + 1):
        try:
            resp = http.get(url, params=params, timeout=timeout)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            if attempt == cfg.retries:
                raise SourceUnavailable(
                    f"PDOK {cfg.buurten_url}: connection cut mid-answer ({cfg.retries + 1} attempts)"
                ) from exc
            time.sleep(cfg.backoff_s * 2**attempt)
            continue
        except requests.RequestException as exc:
            raise SourceUnavailable(
                f"PDOK {cfg.buurten_url}: {type(exc).__name__} (after {cfg.retries} retries)"
            ) from exc
        if resp.status_code != 200:
            raise SourceUnavailable(f"PDOK {resp.url}: HTTP {resp.status_code} (after {cfg.retries} retries)")
        return resp
    raise AssertionError("unreachable")  # pragma: no cover


def fetch_buurten(
    gemeente: str,
    cache_dir: Path,
    cfg: PdokSettings,
    *,
    http: requests.Session | None = None,
) -> dict[str, Any]:
    """Pull all buurten of ``gemeente`` and cache them; returns a summary.

    Raises SourceUnavailable when the service cannot be reached or keeps failing, InputError when it
    answers with something that is not a usable buurt layer. The cache is replaced only on success.
    """
    http = http or session(cfg)
    url, params = _first_request(cfg, gemeente)
    timeout = (cfg.connect_timeout_s, cfg.read_timeout_s)
    deadline = time.monotonic() + cfg.budget_s
    features: list[dict[str, Any]] = []
    crs = None
    pages = 0
    while url:
        if pages >= cfg.max_pages:
            raise InputError(
                f"{cfg.buurten_url}: more than {cfg.max_pages} pages for {gemeente} (pdok.max_pages)"
            )
        if time.monotonic() > deadline:
            raise SourceUnavailable(f"PDOK {cfg.buurten_url}: time budget of {cfg.budget_s:.0f} s used up")
        resp = _get(http, url, params, timeout, cfg)
        try:
            page = resp.json()
        except ValueError as exc:
            raise InputError(f"PDOK {resp.url}: answer is not JSON") from exc
        if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
            raise InputError(f"PDOK {resp.url}: answer is not a GeoJSON FeatureCollection")
        features += page.get("features") or []
        crs = crs or page.get("crs")
        pages += 1
        url, params = _next_link(page), {}
    ours = [
        f for f in features if str((f.get("properties") or {}).get("gemeentecode", "")).strip() == gemeente
    ]
    if not ours:
        raise InputError(f"PDOK {cfg.buurten_url}: no buurten with gemeentecode {gemeente}")
    missing = [k for k in REQUIRED if k not in ours[0].get("properties", {})]
    if missing:
        raise InputError(f"PDOK {cfg.buurten_url}: expected attribute(s) missing: {', '.join(missing)}")
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": ours}
    if crs:
        collection["crs"] = crs
    cache_dir = Path(cache_dir)
    write_text(cache_dir / BUURTEN_FILE, json.dumps(collection, ensure_ascii=False))
    meta = {
        "bron": "CBS/Kadaster Wijk- en buurtkaart 2023 via PDOK (CC BY 4.0)",
        "url": cfg.buurten_url,
        "gemeente": gemeente,
        "buurten": len(ours),
        "paginas": pages,
        "opgehaald": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_json(cache_dir / META_FILE, meta)
    return {**meta, "path": cache_dir / BUURTEN_FILE}
