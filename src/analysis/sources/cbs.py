"""CBS OData v3 client on top of ``cbsodata``.

cbsodata has no default timeout, no retries and no cache, and ``get_data`` replaces dimension codes
by their titles. This module adds timeouts and bounded retries, uses ``download_data`` (codes are
kept), harmonises column names across table editions by their DataProperties key without the
numeric suffix, and caches each pulled table atomically under ``data/raw/cbs/<table_id>/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbsodata
import pandas as pd
import requests

from analysis.errors import InputError, SourceUnavailable
from analysis.io import sha256_file
from analysis.records import COLUMNS, to_long

_SUFFIX = re.compile(r"_\d+$")
_PROVISIONAL = re.compile(r"betreft\s+(nader\s+)?voorlopige\s+cijfers", re.IGNORECASE)
MISSING_SYMBOLS = {".", "x", "-", "", "?"}
TRANSIENT_STATUS = {429, 500, 502, 503, 504}


def base_key(key: str) -> str:
    """DataProperties key without its numeric suffix: ``HuishoudensMetEenLaagInkomen_89`` -> ``…Inkomen``."""
    return _SUFFIX.sub("", key)


@dataclass(frozen=True)
class CbsSettings:
    catalog_url: str = "opendata.cbs.nl"
    use_https: bool = True
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5
    probe_timeout_s: float = 2.0

    @classmethod
    def from_settings(cls, cfg: dict[str, Any]) -> CbsSettings:
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg})

    @property
    def scheme(self) -> str:
        return "https" if self.use_https else "http"


@contextlib.contextmanager
def _cbsodata_options(catalog_url: str, use_https: bool) -> Iterator[None]:
    old_url, old_https = cbsodata.options.catalog_url, cbsodata.options.use_https
    cbsodata.options.catalog_url = catalog_url
    cbsodata.options.use_https = use_https
    try:
        yield
    finally:
        cbsodata.options.catalog_url = old_url
        cbsodata.options.use_https = old_https


class CbsClient:
    """Thin, safe wrapper: every request has a timeout; transient failures are retried, bounded."""

    def __init__(self, settings: CbsSettings, sleep=time.sleep):
        self.s = settings
        self._sleep = sleep

    def probe(self, catalog_url: str | None = None) -> bool:
        """Is the catalog reachable? One short request, no retries."""
        url = f"{self.s.scheme}://{catalog_url or self.s.catalog_url}/ODataFeed/odata/"
        try:
            requests.get(url, timeout=self.s.probe_timeout_s, params={"$format": "json"})
        except requests.RequestException:
            return False
        return True

    def download(
        self, table_id: str, *, filters: str | None = None, catalog_url: str | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        """All parts of a table (TableInfos, DataProperties, dimensions, data) with codes kept."""
        catalog = catalog_url or self.s.catalog_url
        timeout = (self.s.connect_timeout_s, self.s.read_timeout_s)
        attempt = 0
        while True:
            try:
                with _cbsodata_options(catalog, self.s.use_https):
                    return cbsodata.download_data(
                        table_id, filters=filters, catalog_url=catalog, timeout=timeout
                    )
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else None
                if status is None:
                    status = _status_from_message(str(exc))
                if status == 404:
                    raise InputError(f"CBS table {table_id}: not found in catalog {catalog}") from exc
                if status not in TRANSIENT_STATUS or attempt >= self.s.retries:
                    raise SourceUnavailable(f"CBS table {table_id}: HTTP error ({exc})") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt >= self.s.retries:
                    raise SourceUnavailable(
                        f"CBS table {table_id}: {catalog} not reachable ({type(exc).__name__})"
                    ) from exc
            except (ValueError, KeyError) as exc:  # not JSON / no 'value' in the response
                raise InputError(f"CBS table {table_id}: malformed OData response ({exc})") from exc
            self._sleep(self.s.backoff_s * (2**attempt))
            attempt += 1


def _status_from_message(msg: str) -> int | None:
    # cbsodata re-raises HTTPError without the response; the status code is in the message.
    m = re.search(r"\b(\d{3})\b", msg)
    return int(m.group(1)) if m else None


def region_filter(
    region_dim: str, gemeente: str, national: str = "NL00", others: tuple[str, ...] = ()
) -> str:
    """OData filter: the municipality, its wijken and buurten, the national row and the
    comparison municipalities (municipal rows only). CBS pads region keys to 10 characters."""
    num = gemeente[2:]
    parts = [f"substringof('{p}{num}',{region_dim})" for p in ("GM", "WK", "BU")]
    parts += [f"({region_dim} eq '{code.ljust(10)}')" for code in (national, *others)]
    return " or ".join(parts)


# --- harmonisation -----------------------------------------------------------------------------


def _dataset(raw: dict[str, Any], table_id: str) -> list[dict[str, Any]]:
    for name in ("TypedDataSet", "UntypedDataSet"):
        if name in raw:
            return raw[name]
    raise InputError(f"CBS table {table_id}: response has no TypedDataSet/UntypedDataSet")


def provisional_keys(raw: dict[str, Any]) -> set[str]:
    """Base keys whose DataProperties description says the figures are provisional."""
    return {
        base_key(p["Key"])
        for p in raw.get("DataProperties", [])
        if p.get("Key") and _PROVISIONAL.search(p.get("Description") or "")
    }


def harmonise(
    raw: dict[str, Any], table_id: str, spec: dict[str, Any], year: int | None = None
) -> pd.DataFrame:
    """Turn one downloaded table into the long format.

    Region codes are stripped of CBS's padding, missing-value symbols become NaN, columns are
    matched by key without suffix, and a required column that is absent is a clear error.
    """
    rows = _dataset(raw, table_id)
    if not rows:
        raise InputError(f"CBS table {table_id}: empty result for the requested regions")
    df = pd.DataFrame(rows)
    region_dim = spec["region_dim"]
    if region_dim not in df.columns:
        raise InputError(f"CBS table {table_id}: expected column '{region_dim}' missing")
    df[region_dim] = df[region_dim].astype(str).str.strip()
    df = df.rename(columns={c: base_key(c) for c in df.columns if c not in (region_dim,)})
    for col in spec.get("required", []):
        if col not in df.columns:
            raise InputError(f"CBS table {table_id}: expected column '{col}_*' missing")
    for dim, code in (spec.get("select") or {}).items():
        if dim not in df.columns:
            raise InputError(f"CBS table {table_id}: expected dimension column '{dim}' missing")
        df = df[df[dim].astype(str).str.strip() == str(code).strip()]
    mapping = {k: v for k, v in spec["indicators"].items() if k in df.columns}
    for col in mapping:
        if df[col].dtype == object:
            df[col] = df[col].astype(str).str.strip().replace(dict.fromkeys(MISSING_SYMBOLS))
        df[col] = pd.to_numeric(df[col], errors="coerce")
    period_dim = spec.get("period_dim")
    prov_keys = provisional_keys(raw)
    if period_dim:
        if period_dim not in df.columns:
            raise InputError(f"CBS table {table_id}: expected column '{period_dim}' missing")
        periods = df[period_dim].astype(str).str.strip()
        df = df[periods.str.endswith("JJ00")].copy()
        df["_year"] = periods[df.index].str[:4].astype(int)
        titles = {p["Key"].strip(): p.get("Title", "") for p in raw.get(period_dim, [])}
        prov_years = {int(k[:4]) for k, t in titles.items() if "*" in t and k.endswith("JJ00")}
    else:
        if year is None:
            raise InputError(f"CBS table {table_id}: no period dimension and no report year given")
        df["_year"] = year
        prov_years = set()
    if df.empty:
        raise InputError(f"CBS table {table_id}: no yearly rows after selection")
    dup = df.duplicated([region_dim, "_year"])
    if dup.any():
        raise InputError(
            f"CBS table {table_id}: several rows per region and year; set 'select' for the extra "
            "dimension(s) in config/cbs_tables.yaml"
        )
    long = to_long(
        df,
        region_col=region_dim,
        year=None,
        year_col="_year",
        columns=mapping,
        source_table=table_id,
        origin="cbs",
    )
    src_key = {v: k for k, v in mapping.items()}
    long["provisional"] = long["year"].isin(prov_years) | long["indicator"].map(
        lambda i: src_key.get(i) in prov_keys
    )
    return long[COLUMNS]


def derive_rates(long: pd.DataFrame) -> pd.DataFrame:
    """Per-1,000 rates from counts and inhabitants of the same region and year (same source)."""
    out = [long]
    wide = long.pivot_table(index=["region_code", "year"], columns="indicator", values="value")
    for count, rate in (
        ("bijstand_personen", "bijstand_per_1000"),
        ("ao_personen", "ao_per_1000"),
        ("misdrijven", "misdrijven_per_1000"),
    ):
        if count in wide and "inwoners" in wide:
            r = (wide[count] / wide["inwoners"] * 1000).dropna()
            if r.empty:
                continue
            base = long[long["indicator"] == count].set_index(["region_code", "year"])
            rows = base.loc[r.index].reset_index().assign(indicator=rate, value=r.values, unit="per 1000")
            out.append(rows[COLUMNS])
    return pd.concat(out, ignore_index=True)


# --- cache ---------------------------------------------------------------------------------------


def write_cache(cache_dir: Path, table_id: str, raw: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Write ``<cache_dir>/<table_id>/`` in a temporary folder and swap it in whole."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / table_id
    tmp = Path(tempfile.mkdtemp(prefix=f".{table_id}.", dir=cache_dir))
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
            **meta,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        old = None
        if target.exists():
            old = cache_dir / f".{table_id}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_cache(cache_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest, raw parts) for every complete cached table."""
    out = []
    if not cache_dir.exists():
        return out
    for folder in sorted(p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest_path = folder / "manifest.json"
        if not manifest_path.exists():
            continue
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            raw = {
                p.stem: json.loads(p.read_text(encoding="utf-8"))
                for p in folder.glob("*.json")
                if p.name != "manifest.json"
            }
        except json.JSONDecodeError as exc:
            raise InputError(f"{folder}: cached CBS table is not valid JSON ({exc})") from exc
        out.append((manifest, raw))
    return out


def cached_indicators(cache_dir: Path, registry: dict[str, Any]) -> pd.DataFrame:
    frames = []
    for manifest, raw in read_cache(cache_dir):
        spec = registry[manifest["registry_key"]]
        frames.append(harmonise(raw, manifest["table_id"], spec, manifest.get("year")))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return derive_rates(pd.concat(frames, ignore_index=True))


# --- pull ----------------------------------------------------------------------------------------


def table_plan(registry: dict[str, Any], years: range) -> list[tuple[str, str, int | None]]:
    """(registry key, table id, year or None) for every table to pull."""
    plan: list[tuple[str, str, int | None]] = []
    for key, spec in registry.items():
        if "years" in spec:
            plan += [(key, tid, int(y)) for y, tid in spec["years"].items() if int(y) in years]
        else:
            plan += [(key, tid, None) for tid in spec["editions"]]
    return plan


def fetch_all(
    client: CbsClient,
    registry: dict[str, Any],
    gemeente: str,
    cache_dir: Path,
    years: range,
    log=print,
    others: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Pull every registered table into the cache. Returns a summary; never hangs.

    ``others``: comparison municipalities whose municipal rows are pulled too.
    """
    started = time.monotonic()
    catalogs = {spec.get("catalog", client.s.catalog_url) for spec in registry.values()}
    # probe all catalogs at once: the worst case is one probe timeout, not one per catalog
    with ThreadPoolExecutor(max_workers=len(catalogs)) as pool:
        reachable = dict(zip(catalogs, pool.map(client.probe, catalogs), strict=True))
    summary: dict[str, Any] = {"pulled": [], "failed": [], "offline": []}
    for key, table_id, year in table_plan(registry, years):
        spec = registry[key]
        catalog = spec.get("catalog", client.s.catalog_url)
        if not reachable[catalog]:
            summary["offline"].append(table_id)
            continue
        try:
            raw = client.download(
                table_id,
                filters=region_filter(spec["region_dim"], gemeente, others=others),
                catalog_url=catalog,
            )
            harmonise(raw, table_id, spec, year)  # validate before caching
            write_cache(cache_dir, table_id, raw, {"registry_key": key, "year": year, "catalog": catalog})
            summary["pulled"].append(table_id)
        except (SourceUnavailable, InputError) as exc:
            summary["failed"].append({"table_id": table_id, "error": str(exc)})
            log(f"CBS {table_id}: {exc}")
    if summary["offline"]:
        log(
            f"CBS niet bereikbaar ({', '.join(c for c, ok in reachable.items() if not ok)}): "
            f"{len(summary['offline'])} tabellen overgeslagen; de pijplijn gebruikt de cache of de "
            "meegeleverde snapshot."
        )
    summary["seconds"] = round(time.monotonic() - started, 2)
    return summary
