"""Buurt polygons + KWB demographics from the PDOK/CBS Wijk- en buurtkaart service (online path).

`veerkracht --gemeente GMxxxx kaart` pulls the layer ``buurten`` for one municipality from the OGC API
Features endpoint in config/settings.yaml (`pdok.buurten_url`, GeoJSON), follows its ``next`` links,
and caches the result atomically in ``data/raw/pdok/<GM>/buurten.geojson`` (+ ``bron.json``). The build
uses that cache when present, before the bundled Drechtsteden file.

Every request has a connect and a read timeout; transient failures (connection errors, read
timeouts, a connection cut mid-answer, 429/5xx) are retried a bounded number of times with backoff
by the retry helper shared with the CBS client (:mod:`analysis.sources.http_retry`); the number of
pages is capped, and there is an overall time budget. A failed pull leaves an earlier cache untouched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from analysis.errors import InputError, SourceUnavailable
from analysis.io import write_json, write_text
from analysis.sources.buurt_polygons import (  # noqa: F401 - re-exported: the cache of a pull
    BUURTEN_FILE,
    META_FILE,
    CachedBuurten,
    cached_buurten,
)
from analysis.sources.http_retry import (
    TRANSIENT_STATUS,
    BudgetExhausted,
    Deadline,
    Transient,
    TransportSettings,
    with_retries,
)

REQUIRED = ("buurtcode", "buurtnaam", "wijkcode", "gemeentecode", "gemeentenaam", "aantalInwoners")


@dataclass(frozen=True, kw_only=True)
class PdokSettings(TransportSettings):
    """Timeouts, retries and budget (shared with CBS: analysis.sources.http_retry), PDOK's defaults."""

    buurten_url: str
    page_size: int = 1000
    max_pages: int = 20
    connect_timeout_s: float = 3.0
    budget_s: float = 300.0

    @classmethod
    def from_settings(cls, cfg: dict[str, Any]) -> PdokSettings:
        if not cfg or not cfg.get("buurten_url"):
            raise InputError("config/settings.yaml: sleutel 'pdok.buurten_url' ontbreekt")
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in cfg.items() if k in known})


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


def _get(http: requests.Session, url: str, params: dict, cfg: PdokSettings, deadline: Deadline):
    """One page, retried on connection errors, timeouts, a cut answer and 429/5xx (shared helper)."""

    def once() -> requests.Response:
        resp = http.get(url, params=params, timeout=cfg.timeout())
        if resp.status_code in TRANSIENT_STATUS:
            raise Transient(f"server tijdelijk niet beschikbaar (HTTP {resp.status_code})")
        if resp.status_code != 200:
            raise SourceUnavailable(f"PDOK {resp.url}: antwoord met HTTP-status {resp.status_code}")
        return resp

    return with_retries(once, cfg, deadline, what=f"PDOK {cfg.buurten_url}: ")


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
    http = http or requests.Session()
    url, params = _first_request(cfg, gemeente)
    deadline = Deadline(cfg.budget_s)
    features: list[dict[str, Any]] = []
    crs = None
    pages = 0
    while url:
        if pages >= cfg.max_pages:
            raise InputError(
                f"{cfg.buurten_url}: meer dan {cfg.max_pages} pagina's voor {gemeente} (pdok.max_pages)"
            )
        if deadline.remaining() <= 0:
            raise BudgetExhausted(f"PDOK {cfg.buurten_url}: tijdsbudget van {cfg.budget_s:.0f} s op")
        resp = _get(http, url, params, cfg, deadline)
        try:
            page = resp.json()
        except ValueError as exc:
            raise InputError(f"PDOK {resp.url}: antwoord is geen JSON") from exc
        if not isinstance(page, dict) or page.get("type") != "FeatureCollection":
            raise InputError(f"PDOK {resp.url}: antwoord is geen GeoJSON-FeatureCollection")
        features += page.get("features") or []
        crs = crs or page.get("crs")
        pages += 1
        url, params = _next_link(page), {}
    ours = [
        f for f in features if str((f.get("properties") or {}).get("gemeentecode", "")).strip() == gemeente
    ]
    if not ours:
        raise InputError(f"PDOK {cfg.buurten_url}: geen buurten met gemeentecode {gemeente}")
    missing = [k for k in REQUIRED if k not in ours[0].get("properties", {})]
    if missing:
        raise InputError(f"PDOK {cfg.buurten_url}: verwachte attributen ontbreken: {', '.join(missing)}")
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
