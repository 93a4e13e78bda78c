"""CBS OData v3 client: bounded, resumable, cached per table and region selection.

The wire protocol is the one ``cbsodata`` (1.3.5) speaks: ``<scheme>://<catalog>/ODataFeed/odata/<id>/``
lists the parts of a table, each part is fetched with ``$format=json`` and bulk parts are paged by the
server (10,000 rows) through ``odata.nextLink``. cbsodata itself is not used for the transfer because
it has no timeout, downloads every dimension table whole, cannot resume a paged pull and opens a new
session per page. Here:

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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pandas as pd
import requests
import urllib3
from tenacity import RetryCallState, Retrying, retry_if_exception

from analysis.errors import InputError, SourceUnavailable
from analysis.io import sha256_file
from analysis.records import COLUMNS, to_long

_SUFFIX = re.compile(r"_\d+$")
_PROVISIONAL = re.compile(r"betreft\s+(nader\s+)?voorlopige\s+cijfers", re.IGNORECASE)
MISSING_SYMBOLS = {".", "x", "-", "", "?"}
TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
FEED = "ODataFeed/odata"
ENV_CATALOG = "VEERKRACHT_CBS_CATALOG"
DATA_PART = "TypedDataSet"
META_PARTS = ("TableInfos", "DataProperties", "CategoryGroups")
DIM_TYPES = {"Dimension", "TimeDimension", "GeoDimension", "GeoDetail"}
# KWB tables code Nederland as NL00, CBS's regional (RegioS) tables such as 85678NED as NL01: both are
# asked for and NL01 is stored as NL00, the project's code for the national row.
NATIONAL_ALIASES = {"NL01": "NL00"}
# <cache>/nederland/: the national pulls (analysis.sources.cbs_national), Parquet per table; not a table
NATIONAL_CACHE = "nederland"


def base_key(key: str) -> str:
    """DataProperties key without its numeric suffix: ``HuishoudensMetEenLaagInkomen_89`` -> ``…Inkomen``."""
    return _SUFFIX.sub("", key)


class BudgetExhausted(SourceUnavailable):
    """The total time budget of a fetch ran out."""


class NotFound(InputError):
    """HTTP 404: the table (or part) does not exist in the catalog."""


@dataclass(frozen=True)
class CbsSettings:
    # None: every table goes to its own catalog (config/cbs_tables.yaml). Set (or VEERKRACHT_CBS_CATALOG):
    # every request of every table goes there instead. "host[:port]" or "http(s)://host[:port][/prefix]".
    catalog_url: str | None = None
    use_https: bool = True
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 30.0
    retries: int = 2
    backoff_s: float = 0.5
    probe_timeout_s: float = 2.0
    budget_s: float = 900.0

    @classmethod
    def from_settings(cls, cfg: dict[str, Any] | None, env: dict[str, str] | None = None) -> CbsSettings:
        """From the `cbs:` section of settings.yaml (checked here: unknown keys and wrong values are
        a `fout:` naming the key), with VEERKRACHT_CBS_CATALOG overriding `catalog_url`."""
        env = os.environ if env is None else env
        cfg = cfg or {}
        where = "config/settings.yaml: key 'cbs."
        if not isinstance(cfg, dict):
            raise InputError("config/settings.yaml: key 'cbs': expected a mapping")
        for k, v in cfg.items():
            if k not in cls.__dataclass_fields__:
                raise InputError(
                    f"{where}{k}': unknown setting (known: {', '.join(cls.__dataclass_fields__)})"
                )
            if k == "catalog_url":
                ok = v is None or (isinstance(v, str) and v.strip() != "")
            elif k == "use_https":
                ok = isinstance(v, bool)
            elif k == "retries":
                ok = isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10
            elif k == "backoff_s":
                ok = isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 60
            else:
                ok = isinstance(v, int | float) and not isinstance(v, bool) and v > 0
            if not ok:
                raise InputError(f"{where}{k}': invalid value {v!r}")
        kw = dict(cfg)
        if env.get(ENV_CATALOG):
            kw["catalog_url"] = env[ENV_CATALOG]
        return cls(**kw)

    def base(self, catalog: str) -> str:
        """Base URL of a catalog, redirect applied: ``https://opendata.cbs.nl/ODataFeed/odata``."""
        target = self.catalog_url or catalog
        if "://" in target:
            return f"{target.rstrip('/')}/{FEED}"
        return f"{'https' if self.use_https else 'http'}://{target.rstrip('/')}/{FEED}"


class Deadline:
    """Monotonic end time of a fetch; ``None`` budget never expires."""

    def __init__(self, budget_s: float | None, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.end = None if budget_s is None else clock() + float(budget_s)

    def remaining(self) -> float:
        return float("inf") if self.end is None else self.end - self._clock()

    def check(self, what: str) -> None:
        if self.remaining() <= 0:
            raise BudgetExhausted(f"{what}: tijdsbudget op")


class _Transient(Exception):
    """A retryable failure that is not a requests exception (HTTP 5xx/429, unreadable JSON)."""


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, BudgetExhausted):
        return False
    if isinstance(exc, _Transient):
        return True
    if isinstance(exc, requests.HTTPError):
        return False
    bad_request = (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)
    bad_request += (requests.exceptions.MissingSchema,)
    return isinstance(exc, requests.RequestException) and not isinstance(exc, bad_request)


def _describe(exc: BaseException) -> str:
    text = str(exc).replace("\n", " ")
    return f"{type(exc).__name__}: {text[:160]}"


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
        rem = max(deadline.remaining(), 0.05)
        timeout = (min(self.s.connect_timeout_s, rem), min(self.s.read_timeout_s, rem))
        with self.session.get(url, params=params, timeout=timeout, stream=True) as r:
            if r.status_code == 404:
                raise NotFound(f"niet gevonden (HTTP 404): {url}")
            if r.status_code in TRANSIENT_STATUS:
                raise _Transient(f"HTTP {r.status_code}")
            r.raise_for_status()
            body = _read_body(r, deadline, url)
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # truncated or not JSON
            raise _Transient(f"onleesbaar antwoord ({exc})") from exc
        if not isinstance(doc, dict) or "value" not in doc:
            raise InputError(f"{url}: OData-antwoord zonder 'value'")
        return doc

    def get(self, url: str, params: dict[str, str] | None, deadline: Deadline) -> dict[str, Any]:
        """One OData document, retried on transport errors with backoff, bounded by the budget."""

        def wait(rs: RetryCallState) -> float:
            return max(0.0, min(self.s.backoff_s * 2 ** (rs.attempt_number - 1), deadline.remaining()))

        def stop(rs: RetryCallState) -> bool:
            return rs.attempt_number > self.s.retries or deadline.remaining() <= 0

        try:
            for attempt in Retrying(
                stop=stop, wait=wait, retry=retry_if_exception(_is_transient), sleep=self._sleep, reraise=True
            ):
                with attempt:
                    return self._get_once(url, params, deadline)
        except (InputError, BudgetExhausted):
            raise
        except (requests.RequestException, _Transient) as exc:
            if deadline.remaining() <= 0:
                raise BudgetExhausted(f"{url}: tijdsbudget op ({_describe(exc)})") from exc
            raise SourceUnavailable(f"{_describe(exc)} (na {self.s.retries + 1} pogingen)") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _follow(self, next_link: str, base: str) -> str:
        """nextLink with the host of the catalog actually used (a redirect keeps pointing at the mirror)."""
        link = urlsplit(next_link)
        b = urlsplit(base)
        return link._replace(scheme=b.scheme, netloc=b.netloc).geturl()

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
            nxt = doc.get("odata.nextLink")
            nxt = self._follow(urljoin(current, nxt), base) if nxt else None
            yield doc["value"], nxt
            current, current_params = nxt, None

    def get_all(self, base: str, url: str, params: dict[str, str] | None, deadline: Deadline) -> list:
        rows: list = []
        for page, _ in self.pages(base, url, params, deadline):
            rows.extend(page)
        return rows


# --- region selection --------------------------------------------------------------------------


def region_filter(
    region_dim: str, gemeente: str, national: str = "NL00", others: tuple[str, ...] = ()
) -> str:
    """OData filter: the municipality, its wijken and buurten, the national row and the
    comparison municipalities (municipal rows only). CBS pads region keys to 10 characters."""
    num = gemeente[2:]
    aliases = [a for a, code in NATIONAL_ALIASES.items() if code == national]
    parts = [f"substringof('{p}{num}',{region_dim})" for p in ("GM", "WK", "BU")]
    parts += [f"({region_dim} eq '{code.ljust(10)}')" for code in (national, *aliases, *others) if code]
    return " or ".join(parts)


@dataclass(frozen=True)
class Selection:
    """Which regions a pull asks for; the cache is keyed by it."""

    gemeente: str
    national: str = "NL00"
    comparison: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "comparison", tuple(sorted(set(self.comparison) - {self.gemeente})))

    @property
    def key(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return f"{self.gemeente}_{hashlib.sha256(blob).hexdigest()[:8]}"

    def filter(self, region_dim: str) -> str:
        return region_filter(region_dim, self.gemeente, self.national, self.comparison)

    @property
    def expected(self) -> list[str]:
        """Rows that must come back (municipal or national level): their absence is reported."""
        return [c for c in (self.gemeente, self.national, *self.comparison) if c]

    @classmethod
    def from_settings(cls, cfg: dict[str, Any], gemeente: str | None = None) -> Selection:
        """The selection the CLI and the build use: comparison municipalities from
        ``analysis.config.vergelijking`` (settings.yaml `vergelijking`)."""
        from analysis.config import vergelijking

        code = gemeente or cfg["gemeente"]["code"]
        verg = cfg.get("vergelijking") or {}
        return cls(gemeente=code, national=verg.get("nederland", "NL00"), comparison=vergelijking(code))


# --- metadata: dimensions and topics ------------------------------------------------------------


def _dims(raw: dict[str, Any]) -> dict[str, str]:
    """Dimension key -> type from DataProperties."""
    return {
        p["Key"]: p["Type"]
        for p in raw.get("DataProperties", [])
        if p.get("Type") in DIM_TYPES and p.get("Key")
    }


def region_dim_of(raw: dict[str, Any], spec: dict[str, Any]) -> str:
    geo = [k for k, t in _dims(raw).items() if t in ("GeoDimension", "GeoDetail")]
    if len(geo) > 1:
        raise InputError(f"more than one region dimension in DataProperties: {geo}")
    return geo[0] if geo else spec.get("region_dim", "WijkenEnBuurten")


def period_dim_of(raw: dict[str, Any], spec: dict[str, Any]) -> str | None:
    """The TimeDimension from DataProperties; without metadata the registry's ``period_dim``."""
    dims = _dims(raw)
    if not dims:
        return spec.get("period_dim")
    time_dims = [k for k, t in dims.items() if t == "TimeDimension"]
    return time_dims[0] if time_dims else None


def extra_dims_of(raw: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    dims = _dims(raw)
    if dims:
        return [k for k, t in dims.items() if t == "Dimension"]
    return list(spec.get("select") or {})


def resolve_select(raw: dict[str, Any], table_id: str, spec: dict[str, Any]) -> dict[str, str]:
    """Extra dimension -> exact category key (padding kept), resolved by key or by title.

    ``select`` in the registry gives per dimension either a key (``"0.0.0"``; padding need not be
    written) or ``{title: "..."}``. Every extra dimension of the table needs a selection.
    """
    select = spec.get("select") or {}
    out: dict[str, str] = {}
    for dim in extra_dims_of(raw, spec):
        if dim not in select:
            raise InputError(
                f"CBS table {table_id}: dimension '{dim}' needs a selection under 'select' in "
                "config/cbs_tables.yaml"
            )
    for dim, want in select.items():
        cats = raw.get(dim)
        by_title = isinstance(want, dict) and "title" in want
        if cats is None:
            if by_title:
                raise InputError(f"CBS table {table_id}: dimension '{dim}' not available to resolve a title")
            out[dim] = str(want.get("key") if isinstance(want, dict) else want)
            continue
        if by_title:
            title = str(want["title"]).strip().casefold()
            hits = [c["Key"] for c in cats if str(c.get("Title", "")).strip().casefold() == title]
            if len(hits) != 1:
                avail = "; ".join(str(c.get("Title")) for c in cats[:12])
                raise InputError(
                    f"CBS table {table_id}: dimension '{dim}' has {len(hits)} categories titled "
                    f"'{want['title']}' (available: {avail})"
                )
        else:
            key = str(want.get("key") if isinstance(want, dict) else want).strip()
            hits = [c["Key"] for c in cats if str(c["Key"]).strip() == key]
            if len(hits) != 1:
                raise InputError(f"CBS table {table_id}: dimension '{dim}' has no category key '{key}'")
        out[dim] = hits[0]
    return out


def _topics(raw: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(topic key, TopicGroup title path) for every Topic; from the data columns when no metadata."""
    props = raw.get("DataProperties") or []
    if not props:
        rows = _dataset(raw, "?") if any(n in raw for n in ("TypedDataSet", "UntypedDataSet")) else []
        return [(k, []) for k in (rows[0] if rows else {}) if k != "ID"]
    by_id = {p.get("ID"): p for p in props}

    def path(p: dict[str, Any]) -> list[str]:
        out, parent = [], p.get("ParentID")
        while parent is not None and parent in by_id:
            out.append(str(by_id[parent].get("Title", "")))
            parent = by_id[parent].get("ParentID")
        return out[::-1]

    return [(p["Key"], path(p)) for p in props if p.get("Type") == "Topic" and p.get("Key")]


def resolve_topics(
    raw: dict[str, Any], table_id: str, spec: dict[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """Indicator -> full DataProperties key for this edition, and the indicators absent from it.

    An indicator is found by (in this order) a full key given for this edition under
    ``editions_keys``, or its ``keys`` (full keys like ``GemiddeldeScore_29`` match exactly, names
    without suffix match ``Name_<n>``), optionally only inside a TopicGroup titled ``group``.
    Two topics for one indicator, or one topic for two indicators, is an error.
    """
    topics = _topics(raw)
    keys = {k for k, _ in topics}
    per_edition = (spec.get("editions_keys") or {}).get(table_id, {})
    found: dict[str, str] = {}
    absent: list[str] = []
    for ind, rule in spec["indicators"].items():
        rule = rule if isinstance(rule, dict) else {"keys": [rule]}
        if ind in per_edition:
            full = per_edition[ind]
            if full not in keys:
                raise InputError(f"CBS table {table_id}: expected column '{full}' missing (for {ind})")
            found[ind] = full
            continue
        names = rule.get("keys", [])
        group = rule.get("group")
        hits = [
            k
            for k, path in topics
            if any((k == n) if _SUFFIX.search(n) else (base_key(k) == n) for n in names)
            and (group is None or any(group.casefold() == t.casefold() for t in path))
        ]
        if len(hits) > 1:
            raise InputError(
                f"CBS table {table_id}: indicator '{ind}' matches several columns {hits}; "
                "give the full key per edition (editions_keys) or a TopicGroup (group) in "
                "config/cbs_tables.yaml"
            )
        if hits:
            found[ind] = hits[0]
        else:
            absent.append(ind)
    dup = pd.Series(found).duplicated(keep=False)
    if dup.any():
        raise InputError(
            f"CBS table {table_id}: one column for several indicators: {sorted(pd.Series(found)[dup].index)}"
        )
    for ind in spec.get("required", []):
        if ind not in found:
            rule = spec["indicators"][ind]
            names = rule.get("keys", [ind]) if isinstance(rule, dict) else [rule]
            raise InputError(f"CBS table {table_id}: expected column '{names[0]}_*' missing ({ind})")
    return found, absent


# --- harmonisation -----------------------------------------------------------------------------


def _dataset(raw: dict[str, Any], table_id: str) -> list[dict[str, Any]]:
    for name in ("TypedDataSet", "UntypedDataSet"):
        if name in raw:
            return raw[name]
    raise InputError(f"CBS table {table_id}: response has no TypedDataSet/UntypedDataSet")


def provisional_keys(raw: dict[str, Any]) -> set[str]:
    """Full keys whose DataProperties description says the figures are provisional."""
    return {
        p["Key"]
        for p in raw.get("DataProperties", [])
        if p.get("Key") and _PROVISIONAL.search(p.get("Description") or "")
    }


def harmonise(
    raw: dict[str, Any], table_id: str, spec: dict[str, Any], year: int | None = None
) -> pd.DataFrame:
    """Turn one downloaded table into the long format.

    Region codes are stripped of CBS's padding, missing-value symbols become NaN, topics are mapped
    per edition (see ``resolve_topics``), extra dimensions are narrowed to their selected category,
    and a required column that is absent is a clear error.
    """
    rows = _dataset(raw, table_id)
    if not rows:
        raise InputError(f"CBS table {table_id}: empty result for the requested regions")
    df = pd.DataFrame(rows)
    region_dim = region_dim_of(raw, spec)
    if region_dim not in df.columns:
        raise InputError(f"CBS table {table_id}: expected column '{region_dim}' missing")
    df[region_dim] = df[region_dim].astype(str).str.strip().replace(NATIONAL_ALIASES)
    found, _ = resolve_topics(raw, table_id, spec)
    for dim, code in resolve_select(raw, table_id, spec).items():
        if dim not in df.columns:
            raise InputError(f"CBS table {table_id}: expected dimension column '{dim}' missing")
        df = df[df[dim].astype(str).str.strip() == str(code).strip()]
    mapping = {full: ind for ind, full in found.items() if full in df.columns}
    for col in mapping:
        if df[col].dtype == object:
            df[col] = df[col].astype(str).str.strip().replace(dict.fromkeys(MISSING_SYMBOLS))
        df[col] = pd.to_numeric(df[col], errors="coerce")
    period_dim = period_dim_of(raw, spec)
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
    if df.duplicated([region_dim, "_year"]).any():
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


RATES = (
    ("bijstand_personen", "bijstand_per_1000"),
    ("ao_personen", "ao_per_1000"),
    ("misdrijven", "misdrijven_per_1000"),
)


def derive_rates(long: pd.DataFrame) -> pd.DataFrame:
    """Per-1,000 rates from counts and inhabitants of the same region and year (same source)."""
    out = [long]
    wide = long.pivot_table(index=["region_code", "year"], columns="indicator", values="value")
    for count, rate in RATES:
        if count in wide and "inwoners" in wide:
            r = (wide[count] / wide["inwoners"] * 1000).dropna()
            if r.empty:
                continue
            base = long[long["indicator"] == count].drop_duplicates(["region_code", "year"])
            base = base.set_index(["region_code", "year"])
            rows = base.loc[r.index].reset_index().assign(indicator=rate, value=r.values, unit="per 1000")
            out.append(rows[COLUMNS])
    return pd.concat(out, ignore_index=True)


# --- cache ---------------------------------------------------------------------------------------


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def write_cache(
    cache_dir: Path,
    table_id: str,
    raw: dict[str, Any],
    meta: dict[str, Any],
    selection: Selection | None = None,
) -> Path:
    """Write ``<cache_dir>/<table_id>/<selection.key>/`` in a temporary folder and swap it in whole.

    Without ``selection`` the project's own selection from settings.yaml is used.
    """
    if selection is None:
        from analysis.config import settings

        selection = Selection.from_settings(settings())
    table_dir = cache_dir / table_id
    table_dir.mkdir(parents=True, exist_ok=True)
    target = table_dir / selection.key
    tmp = Path(tempfile.mkdtemp(prefix=f".{selection.key}.", dir=table_dir))
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
            "selection": asdict(selection),
            "selection_key": selection.key,
            **meta,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        old = None
        if target.exists():
            old = table_dir / f".{selection.key}.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _read_folder(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        raw = {
            p.stem: json.loads(p.read_text(encoding="utf-8"))
            for p in folder.glob("*.json")
            if p.name != "manifest.json"
        }
    except json.JSONDecodeError as exc:
        raise InputError(f"{folder}: cached CBS table is not valid JSON ({exc})") from exc
    return manifest, raw


def read_cache(
    cache_dir: Path, selection: Selection | None = None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(manifest, raw parts) per cached table for one selection.

    The exact selection wins; otherwise the newest pull for the same municipality (e.g. after the
    comparison list changed). ``selection=None``: every complete cached pull.
    """
    out = []
    if not cache_dir.exists():
        return out
    for table_dir in sorted(
        p
        for p in cache_dir.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and p.name != NATIONAL_CACHE
    ):
        if (table_dir / "manifest.json").exists():
            warnings.warn(
                f"{table_dir}: CBS cache in the old layout (one selection per table) is not read; "
                "run `veerkracht fetch` again",
                stacklevel=2,
            )
        folders = [p for p in table_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
        folders = [p for p in folders if (p / "manifest.json").exists()]
        if selection is None:
            out += [_read_folder(p) for p in sorted(folders)]
            continue
        exact = [p for p in folders if p.name == selection.key]
        same = sorted(
            (p for p in folders if p.name.split("_")[0] == selection.gemeente),
            key=lambda p: json.loads((p / "manifest.json").read_text(encoding="utf-8")).get("pulled_at", ""),
        )
        pick = exact[0] if exact else (same[-1] if same else None)
        if pick is not None:
            out.append(_read_folder(pick))
    return out


def cached_indicators(cache_dir: Path, registry: dict[str, Any], selection: Selection) -> pd.DataFrame:
    """Long indicators from the cache for one region selection (required: reading another
    municipality's pull by accident must be impossible).

    For a registry group with ``editions`` only the first cached edition in registry order is used.
    """
    chosen: dict[tuple[str, Any], tuple[int, dict, dict]] = {}
    for manifest, raw in read_cache(cache_dir, selection):
        key = manifest.get("registry_key")
        if key not in registry:
            warnings.warn(
                f"{cache_dir}/{manifest.get('table_id')}: registry group '{key}' unknown; skipped",
                stacklevel=2,
            )
            continue
        spec = registry[key]
        editions = list(spec.get("editions", []))
        rank = editions.index(manifest["table_id"]) if manifest["table_id"] in editions else 0
        slot = (key, manifest.get("year") if "years" in spec else None)
        if slot not in chosen or rank < chosen[slot][0]:
            chosen[slot] = (rank, manifest, raw)
    frames = [
        harmonise(raw, m["table_id"], registry[m["registry_key"]], m.get("year"))
        for _, m, raw in chosen.values()
    ]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return derive_rates(pd.concat(frames, ignore_index=True))


# --- pull ----------------------------------------------------------------------------------------


def table_plan(registry: dict[str, Any], years: range) -> list[tuple[str, list[str], int | None]]:
    """(registry key, candidate table ids in order of preference, year or None) per pull."""
    plan: list[tuple[str, list[str], int | None]] = []
    for key, spec in registry.items():
        if "years" in spec:
            plan += [(key, [tid], int(y)) for y, tid in spec["years"].items() if int(y) in years]
        else:
            plan.append((key, list(spec["editions"]), None))
    return plan


@dataclass
class TableResult:
    group: str
    table_id: str
    year: int | None
    status: str  # pulled | failed | offline | budget | not_found
    error: str | None = None
    rows: int = 0
    pages: int = 0
    resumed_from_page: int | None = None
    missing_regions: list[str] = field(default_factory=list)
    availability: list[dict[str, Any]] = field(default_factory=list)
    # editions-type groups only: topics not mapped, as "Key (TopicGroup > … : Title)", so keys such as
    # the SES-WOA reliability bounds can be added to the registry after the first online run
    unmapped_topics: list[str] = field(default_factory=list)


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
        with _pull_lock(self.cache_dir / table_id / f".lock-{self.sel.key}"):
            return self._run(key, table_id, spec, year)

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
            "catalog": self.catalog,
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


def availability(
    spec: dict[str, Any],
    table_id: str,
    year: int | None,
    found: dict[str, str],
    absent: list[str],
    long: pd.DataFrame,
) -> list[dict[str, Any]]:
    """Which indicator exists in which table/year: present (with the key), absent as expected
    (outside ``since``/``until`` in the registry: "n.v.t."), or absent although expected ("ontbreekt")."""
    out = []
    years = sorted(long["year"].unique().tolist()) if year is None else [year]
    for ind, rule in spec["indicators"].items():
        rule = rule if isinstance(rule, dict) else {}
        row = {"indicator": ind, "table_id": table_id, "key": found.get(ind), "years": years}
        if ind in found:
            has = sorted(long.loc[long["indicator"] == ind, "year"].unique().tolist())
            out.append({**row, "status": "aanwezig", "years": has})
            continue
        since, until = rule.get("since"), rule.get("until")
        if year is not None and since is not None and year < int(since):
            status = f"n.v.t. (pas vanaf {since})"
        elif year is not None and until is not None and year > int(until):
            status = f"n.v.t. (tot en met {until})"
        else:
            status = "ontbreekt"
        out.append({**row, "status": status})
    return out


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
    for key, candidates, year in table_plan(registry, years):
        spec = registry[key]
        catalog = spec.get("catalog", "opendata.cbs.nl")
        if not reachable[catalog]:
            results.append(TableResult(key, candidates[0], year, "offline"))
            continue
        if deadline.remaining() <= 0:
            results.append(TableResult(key, candidates[0], year, "budget", error="tijdsbudget op"))
            continue
        for i, table_id in enumerate(candidates):
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
            except (SourceUnavailable, InputError) as exc:
                res = TableResult(key, table_id, year, "failed", error=str(exc))
            results.append(res)
            break
    return _summarise(results, sel, reachable, hosts, cache_dir, started, log)


def _summarise(
    results: list[TableResult],
    sel: Any,
    reachable: dict[str, bool],
    hosts: dict[str, str],
    cache_dir: Path,
    started: float,
    log,
) -> dict[str, Any]:
    last = {r.group: r for r in results}  # a not-found edition with a fallback after it is no failure
    failed = [r for r in results if r.status == "failed" or (r.status == "not_found" and last[r.group] is r)]
    for r in results:
        if any(r is f for f in failed):
            log(f"CBS {r.table_id}: {r.error}")
        if r.missing_regions:
            log(f"CBS {r.table_id}: gevraagde regio's niet in het antwoord: {', '.join(r.missing_regions)}")
        gone = [a["indicator"] for a in r.availability if a["status"] == "ontbreekt"]
        if gone:
            log(f"CBS {r.table_id}: verwachte indicatoren niet in de tabel: {', '.join(gone)}")
    budget = [r.table_id for r in results if r.status == "budget"]
    if budget:
        log(
            f"CBS: tijdsbudget op; niet (volledig) opgehaald: {', '.join(budget)} "
            "(reeds opgehaalde pagina's bewaard)"
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
        "missing_regions": {r.table_id: r.missing_regions for r in results if r.missing_regions},
        "tables": [asdict(r) for r in results],
        "availability": [a for r in results for a in r.availability],
        "seconds": round(time.monotonic() - started, 2),
    }
    if summary["pulled"] or summary["failed"] or budget:
        cache_dir.mkdir(parents=True, exist_ok=True)
        path = cache_dir / f"fetch_summary.{sel.key}.json"
        summary["summary_path"] = str(path)
        _write_json(path, summary)
    return summary
