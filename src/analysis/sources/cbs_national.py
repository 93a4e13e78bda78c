"""The national CBS pull: every registered table ONCE for all regions of the chosen levels (issue 13).

``veerkracht fetch --scope nederland [--niveau gemeente|wijk|buurt]`` uses the municipal client of
:mod:`analysis.sources.cbs` unchanged (timeouts, bounded retries, budget, paging through
``odata.nextLink``, pages saved in ``.partial-<selection>/`` so an interrupted pull resumes at the page
that failed, one pull per table and selection at a time, the same :func:`~analysis.sources.cbs.harmonise`).
What differs:

* **Selection by level, not by municipality.** The ``$filter`` is ``startswith(<dim>,'GM') or
  startswith(<dim>,'WK') [or startswith(<dim>,'BU')] or (<dim> eq 'NL00      ')`` (+ ``NL01``, the
  national code of CBS's RegioS tables). ``startswith`` is an OData v3 canonical function; public code
  runs it against CBS's OData v3 service (e.g. ``startswith(WijkenEnBuurten,'GM0344')`` on 85984NED,
  ``startswith(RegioS,'GM')`` on 85755NED). ``substringof`` (used for one municipality) matches
  anywhere in the key; ``startswith`` says exactly "this level" (no 2024 code holds the letters of a
  level prefix after its own, but alphanumeric codes such as ``WK0363AA`` could).
* **Only the columns needed.** ``$select`` (comma-separated, as cbsodata 1.3.5 sends it) names the
  region, period and extra dimensions and the topics mapped for this edition (KWB has ~120 topics, the
  registry maps ~11), so a page of 10,000 rows stays small. A column asked for that is absent from the
  answer is one error naming table and column.
* **Stored as Parquet**, partitioned by year and municipality, in the long format of
  :mod:`analysis.records` plus ``fetched_at``: ``<cache>/nederland/<table>/NL-<niveau>/year=YYYY/
  gemeente=GMxxxx/part-0.parquet`` (``NL00`` under ``gemeente=NL00``) with ``manifest.json`` (table id,
  title, CBS ``Modified``, fetched_at, rows, regions, provisional years, filter, sha256 per file) and
  the table's ``TableInfos``/``DataProperties`` in ``meta/``; swapped in whole, so a failed write keeps
  the previous pull. Municipal caches (``<cache>/<table>/<GMxxxx>_<hash>/``) are never touched.
* **Region names kept.** The region dimension endpoint (``Key`` + ``Title``, already asked for with the
  level filter) is saved as ``meta/region_titles.json`` (keys stripped, sha256 in the manifest); the
  national build names its areas from it (:func:`store_titles`).

Size (expectations from the published area counts, not measurements): ~18,300 areas a year (342
gemeenten, 3,393 wijken, 14,574 buurten). ``--niveau wijk`` asks ~3,740 regions: one page per KWB year
and about 5 pages for SES-WOA (11 years) or 47018NED; ``--niveau buurt`` ~18,300 regions: 2 pages per
KWB year, ~20 for SES-WOA and ~25-30 for 47018NED. At CBS's usual pace of a few seconds per page that
is minutes for the wijk level and some tens of minutes for the buurt level; raise ``--budget`` for the
latter (a pull cut off by the budget resumes where it stopped).

The gemeente -> provincie table ("Gebieden in Nederland <jaar>") is pulled by :func:`fetch_gebieden`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis.errors import InputError, SourceUnavailable
from analysis.io import atomic_path, sha256_file, write_json
from analysis.records import COLUMNS
from analysis.sources.cbs import (
    DATA_PART,
    NATIONAL_ALIASES,
    NATIONAL_CACHE,
    BudgetExhausted,
    CbsClient,
    Deadline,
    NotFound,
    TablePull,
    _dataset,
    derive_rates,
    fetch_selection,
    period_dim_of,
    region_dim_of,
    resolve_topics,
)

NIVEAUS = ("gemeente", "wijk", "buurt")
LEVEL_PREFIX = {"gemeente": "GM", "wijk": "WK", "buurt": "BU"}
STORE_COLUMNS = [*COLUMNS, "fetched_at"]
TITLES_FILE = "meta/region_titles.json"  # the region dimension's Key -> Title of the answer
_PARTITIONING = pa.schema([("year", pa.int64()), ("gemeente", pa.string())])


def level_filter(region_dim: str, niveau: str = "wijk", national: str = "NL00") -> str:
    """OData v3 ``$filter``: every region of the levels down to ``niveau`` (gemeente < wijk < buurt)
    and the national row. CBS pads region keys to 10 characters; ``startswith`` does not mind."""
    if niveau not in NIVEAUS:
        raise InputError(f"--niveau {niveau}: expected one of {', '.join(NIVEAUS)}")
    prefixes = [LEVEL_PREFIX[n] for n in NIVEAUS[: NIVEAUS.index(niveau) + 1]]
    aliases = [a for a, code in NATIONAL_ALIASES.items() if code == national]
    parts = [f"startswith({region_dim},'{p}')" for p in prefixes]
    parts += [f"({region_dim} eq '{code.ljust(10)}')" for code in (national, *aliases) if code]
    return " or ".join(parts)


@dataclass(frozen=True)
class NationalSelection:
    """All regions of the levels down to ``niveau`` plus the national row; keyed ``NL-<niveau>``."""

    niveau: str = "wijk"
    national: str = "NL00"

    def __post_init__(self):
        if self.niveau not in NIVEAUS:
            raise InputError(f"--niveau {self.niveau}: expected one of {', '.join(NIVEAUS)}")

    @property
    def key(self) -> str:
        return f"NL-{self.niveau}" if self.national == "NL00" else f"NL-{self.niveau}-{self.national}"

    def filter(self, region_dim: str) -> str:
        return level_filter(region_dim, self.niveau, self.national)

    @property
    def expected(self) -> list[str]:
        return [self.national] if self.national else []


def gemeente_partition(codes: pd.Series) -> pd.Series:
    """Partition key: the municipality of a GM/WK/BU code (alphanumeric ones too), ``NL00`` itself."""
    codes = codes.astype(str)
    return codes.where(~codes.str[:2].isin(["GM", "WK", "BU"]), "GM" + codes.str[2:6])


class NationalTablePull(TablePull):
    """:class:`TablePull` with ``$select`` and a Parquet store partitioned by year and municipality."""

    def _columns(self, raw, table_id, spec, region_dim, select) -> str | None:
        found, _ = resolve_topics(raw, table_id, spec)
        cols = [region_dim, period_dim_of(raw, spec), *select, *found.values()]
        return ",".join(dict.fromkeys(c for c in cols if c))

    def _check_columns(self, raw, table_id, spec, columns) -> None:
        rows = _dataset(raw, table_id)
        if not rows or not columns:
            return  # an empty answer is harmonise's error
        present: set[str] = set()
        for r in rows:
            present.update(r)
        found, _ = resolve_topics(raw, table_id, spec)
        indicator = {k: i for i, k in found.items()}
        for col in columns.split(","):
            if col not in present:
                what = f" (indicator {indicator[col]})" if col in indicator else ""
                raise InputError(
                    f"CBS table {table_id}: expected column '{col}' missing from the answer{what}"
                )

    def _store(self, table_id: str, raw: dict[str, Any], long: pd.DataFrame, meta: dict[str, Any]) -> None:
        write_store(self.cache_dir, table_id, raw, long, meta, self.sel)


def fetch_national(
    client: CbsClient,
    registry: dict[str, Any],
    cache_dir: Path,
    years: range,
    niveau: str = "wijk",
    log=print,
    *,
    national: str = "NL00",
    budget_s: float | None = None,
) -> dict[str, Any]:
    """Pull every registered table once for all regions down to ``niveau`` into
    ``<cache_dir>/nederland/``; summary as :func:`analysis.sources.cbs.fetch_all` (also written to
    ``<cache_dir>/nederland/fetch_summary.NL-<niveau>.json``)."""
    sel = NationalSelection(niveau, national)
    return fetch_selection(
        client,
        registry,
        sel,
        Path(cache_dir) / NATIONAL_CACHE,
        years,
        log,
        budget_s=budget_s,
        pull=NationalTablePull,
    )


# --- the Parquet store ---------------------------------------------------------------------------


def write_store(
    root: Path,
    table_id: str,
    raw: dict[str, Any],
    long: pd.DataFrame,
    meta: dict[str, Any],
    sel: NationalSelection,
) -> Path:
    """``<root>/<table_id>/<sel.key>/``: written in a temporary folder beside it and swapped in whole."""
    table_dir = Path(root) / table_id
    table_dir.mkdir(parents=True, exist_ok=True)
    target = table_dir / sel.key
    tmp = Path(tempfile.mkdtemp(prefix=f".{sel.key}.", dir=table_dir))
    fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        df = long[COLUMNS].assign(fetched_at=fetched_at).reset_index(drop=True)
        df["value"] = df["value"].astype(float)
        df["provisional"] = df["provisional"].astype(bool)
        df["year"] = df["year"].astype("int64")
        # rows of one partition together and one thread: one file per partition, the same bytes for
        # the same answer (a buurt-level SES-WOA pull has ~3,800 partitions, more than open files)
        part = df.assign(gemeente=gemeente_partition(df["region_code"]))
        part = part.sort_values(["year", "gemeente", "region_code", "indicator"], kind="stable")
        ds.write_dataset(
            pa.Table.from_pandas(part, preserve_index=False),
            tmp,
            format="parquet",
            partitioning=ds.partitioning(_PARTITIONING, flavor="hive"),
            basename_template="part-{i}.parquet",
            existing_data_behavior="overwrite_or_ignore",
            max_partitions=1_000_000,
            use_threads=False,
        )
        (tmp / "meta").mkdir()
        for part in ("TableInfos", "DataProperties"):
            if part in raw:
                (tmp / "meta" / f"{part}.json").write_text(json.dumps(raw[part], ensure_ascii=False), "utf-8")
        titles = region_titles_of(raw)
        if titles is not None:
            (tmp / TITLES_FILE).write_text(json.dumps(titles, ensure_ascii=False), "utf-8")
        files = {str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*.parquet"))}
        info = (raw.get("TableInfos") or [{}])[0]
        manifest = {
            "table_id": table_id,
            "title": info.get("Title"),
            "modified": info.get("Modified"),
            "fetched_at": fetched_at,
            "rows": len(raw.get(DATA_PART, [])),
            "values": len(df),
            "regions": int(df["region_code"].nunique()),
            "years": sorted(int(y) for y in df["year"].unique()),
            "provisional_years": sorted(int(y) for y in df.loc[df["provisional"], "year"].unique()),
            "niveau": sel.niveau,
            "selection": asdict(sel),
            "selection_key": sel.key,
            "origin": "cbs",
            "files": files,
            **meta,
        }
        if titles is not None:  # the region dimension's names, checked like the data on reading
            manifest["region_titles"] = {
                "file": TITLES_FILE,
                "dimension": titles["dimension"],
                "regions": len(titles["titles"]),
                "sha256": sha256_file(tmp / TITLES_FILE),
            }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        old = None
        if target.exists():
            old = table_dir / f".{sel.key}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def region_titles_of(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The region dimension of one answer as ``{"dimension": name, "titles": {code: title}}``: the
    dimension endpoint (e.g. ``.../85984NED/WijkenEnBuurten``, filtered like the data) lists every
    region with ``Key`` (padded to 10 characters, e.g. ``'GM0642    '``) and ``Title`` (its name in
    that edition). Keys and titles are stripped; ``NL01`` is stored as ``NL00``; a title equal to its
    key is left out. None: the answer has no region dimension part (nothing is made up)."""
    dim = region_dim_of(raw, {})
    rows = raw.get(dim)
    if not isinstance(rows, list):
        return None
    titles: dict[str, str] = {}
    for r in rows:
        key = str(r.get("Key") or "").strip()
        title = str(r.get("Title") or "").strip()
        if key and title and title != key:  # a title that only repeats the code is no name
            titles[NATIONAL_ALIASES.get(key, key)] = title
    return {"dimension": dim, "titles": titles}


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            f"{path}: national CBS pull without a readable manifest ({type(exc).__name__})"
        ) from exc
    if not isinstance(m, dict):
        raise InputError(f"{path}: expected a JSON object")
    for key in ("table_id", "registry_key", "fetched_at", "files", "niveau"):
        if key not in m:
            raise InputError(f"{path}: field '{key}' missing")
    return m


def _pick(table_dir: Path) -> Path | None:
    """The pull to use for one table: the one covering the finest level, then the newest."""
    folders = [p for p in table_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for f in folders:
        if not (f / "manifest.json").exists():
            raise InputError(
                f"{f}: national CBS pull without manifest.json (not written by `veerkracht fetch --scope "
                "nederland`); remove the folder or fetch again"
            )
    if not folders:
        return None

    def rank(f: Path) -> tuple:
        m = _manifest(f)
        return (NIVEAUS.index(m["niveau"]) if m["niveau"] in NIVEAUS else -1, m["fetched_at"])

    return max(folders, key=rank)


def read_store(folder: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """(manifest, rows in STORE_COLUMNS) of one stored pull; every file checked against its sha256."""
    m = _manifest(folder)
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*.parquet")}
    if on_disk != set(m["files"]):
        extra = sorted(on_disk ^ set(m["files"]))[:3]
        raise InputError(
            f"{folder}: Parquet files differ from manifest.json ({', '.join(extra)}); fetch again"
        )
    for rel, digest in m["files"].items():
        if sha256_file(folder / rel) != digest:
            raise InputError(
                f"{folder / rel}: sha256 does not match manifest.json (edited or corrupt); fetch again"
            )
    stored = [c for c in STORE_COLUMNS if c != "year"]  # year (and gemeente) are the partition keys
    try:
        for rel in sorted(m["files"]):
            names = pq.read_schema(folder / rel).names
            missing = [c for c in stored if c not in names]
            if missing:
                raise InputError(
                    f"{folder / rel}: expected column '{missing[0]}' missing in the stored CBS pull "
                    f"{m['table_id']}; fetch again"
                )
        d = ds.dataset(
            [str(folder / rel) for rel in sorted(m["files"])],
            format="parquet",
            partitioning=ds.partitioning(_PARTITIONING, flavor="hive"),
            partition_base_dir=str(folder),
        )
        df = d.to_table().to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{folder}: national CBS pull unreadable ({str(exc).splitlines()[0][:160]})"
        ) from exc
    missing = [c for c in STORE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"{folder}: expected column '{missing[0]}' missing in the stored CBS pull {m['table_id']}"
        )
    df["year"] = df["year"].astype(int)
    return m, df[STORE_COLUMNS]


def national_indicators(root: Path, registry: dict[str, Any]) -> pd.DataFrame:
    """Long indicators (COLUMNS) from the national store ``<cache>/nederland``; empty when absent.

    Per registry group and year slot one table: for ``editions`` groups the first edition (in registry
    order) that was pulled, as :func:`analysis.sources.cbs.cached_indicators` does. Rates per 1,000 are
    derived from counts and inhabitants of the same table, region and year.
    """
    root = Path(root)
    if not root.is_dir():
        return pd.DataFrame(columns=COLUMNS)
    chosen: dict[tuple[str, Any], tuple[int, pd.DataFrame]] = {}
    for table_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        folder = _pick(table_dir)
        if folder is None:
            continue
        m, df = read_store(folder)
        key = m["registry_key"]
        if key not in registry:
            raise InputError(
                f"{folder / 'manifest.json'}: registry_key {key!r} is not in config/cbs_tables.yaml"
            )
        spec = registry[key]
        editions = list(spec.get("editions", []))
        rank = editions.index(m["table_id"]) if m["table_id"] in editions else 0
        slot = (key, m.get("year") if "years" in spec else None)
        if slot not in chosen or rank < chosen[slot][0]:
            chosen[slot] = (rank, df[COLUMNS])
    if not chosen:
        return pd.DataFrame(columns=COLUMNS)
    return derive_rates(pd.concat([f for _, f in chosen.values()], ignore_index=True))


def read_titles(folder: Path, m: dict[str, Any] | None = None) -> dict[str, str]:
    """``{code: title}`` saved with one stored pull; empty for a pull stored without them (before the
    titles were kept). An edited file is one error, as for the data."""
    m = m or _manifest(folder)
    info = m.get("region_titles")
    if not info:
        return {}
    path = folder / info["file"]
    if not path.exists() or sha256_file(path) != info["sha256"]:
        raise InputError(
            f"{path}: missing or sha256 does not match manifest.json (edited or corrupt); fetch again"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        titles = doc["titles"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: expected a JSON object with 'titles' ({type(exc).__name__})") from exc
    return {str(k): str(v) for k, v in titles.items()}


def store_titles(root: Path) -> pd.DataFrame:
    """Region names from the national store: code, name, table_id, fetched_at, one row per code.

    Each stored pull (the one :func:`national_indicators` reads per table) brings the titles of its
    region dimension. A code named by several tables takes the title of the pull with the newest data
    year (then the newest pull): CBS keeps a code for the same area, so the newest title is its
    current name. Empty without a store."""
    root = Path(root)
    cols = ["code", "name", "table_id", "fetched_at"]
    if not root.is_dir():
        return pd.DataFrame(columns=cols)
    frames = []
    for table_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        folder = _pick(table_dir)
        if folder is None:
            continue
        m = _manifest(folder)
        titles = read_titles(folder, m)
        if titles:
            newest = max([int(y) for y in m.get("years") or []] or [int(m.get("year") or 0)])
            frames.append(
                pd.DataFrame(
                    {
                        "code": list(titles),
                        "name": list(titles.values()),
                        "table_id": m["table_id"],
                        "fetched_at": m["fetched_at"],
                        "_year": newest,
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=cols)
    t = pd.concat(frames, ignore_index=True).sort_values(["_year", "fetched_at", "table_id"])
    return t.drop_duplicates("code", keep="last").sort_values("code")[cols].reset_index(drop=True)


def pulled_niveaus(root: Path) -> set[str]:
    """The levels of the national pulls stored under ``root`` (``<raw>/cbs/nederland``): one folder
    ``NL-<niveau>`` with a manifest per table and level. Empty without a store."""
    root = Path(root)
    if not root.is_dir():
        return set()
    found = set()
    for table_dir in (p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        for folder in table_dir.iterdir():
            if folder.is_dir() and not folder.name.startswith(".") and (folder / "manifest.json").exists():
                found.add(_manifest(folder)["niveau"])
    return found


def store_sources(root: Path) -> list[dict[str, Any]]:
    """(table id, niveau, fetched_at, CBS Modified) of every pull the build would read."""
    root = Path(root)
    out = []
    if not root.is_dir():
        return out
    for table_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        folder = _pick(table_dir)
        if folder is not None:
            m = _manifest(folder)
            out.append({k: m.get(k) for k in ("table_id", "niveau", "fetched_at", "modified", "year")})
    return out


# --- gemeente -> provincie -------------------------------------------------------------------------

# The gemeente -> provincie table ("Gebieden in Nederland <jaar>"): its table ids (85755NED, fallback
# 86059NED) and topic rule (Code_<n> below the TopicGroup 'Provincies') are the `gebieden` entry of
# config/cbs_tables.yaml, with the sources they were found in; not a table group (fetch skips it).


def gebieden_spec() -> dict[str, Any]:
    """``gebieden:`` of config/cbs_tables.yaml, validated (:class:`analysis.config_models.GebiedenTabel`)."""
    from analysis.config import cbs_gebieden

    return cbs_gebieden()


PROVINCIE_FILE = "gemeente_provincie.csv"  # columns GM_CODE, PV_CODE, PV_NAAM
_PV = re.compile(r"^PV\d{2}$")


def provincie_path(raw: Path) -> Path:
    """Where `veerkracht fetch --gebieden` writes the gemeente -> provincie table."""
    return Path(raw) / "cbs" / NATIONAL_CACHE / PROVINCIE_FILE


def gebieden_table(raw_parts: dict[str, Any], table_id: str) -> pd.DataFrame:
    """GM_CODE, PV_CODE, PV_NAAM from a downloaded Gebieden table; every problem one named error."""
    spec = gebieden_spec()
    found, _ = resolve_topics(raw_parts, table_id, {**spec, "required": []})
    if "PV_CODE" not in found:
        raise InputError(
            f"CBS table {table_id}: expected column 'Code_*' below TopicGroup 'Provincies' missing"
        )
    region_dim = region_dim_of(raw_parts, spec)
    rows = _dataset(raw_parts, table_id)
    if not rows:
        raise InputError(f"CBS table {table_id}: empty result for the gemeenten")
    df = pd.DataFrame(rows)
    for col in (region_dim, *found.values()):
        if col not in df.columns:
            raise InputError(f"CBS table {table_id}: expected column '{col}' missing from the answer")
    out = pd.DataFrame(
        {
            "GM_CODE": df[region_dim].astype(str).str.strip(),
            "PV_CODE": df[found["PV_CODE"]].astype(str).str.strip().str.upper(),
            "PV_NAAM": df[found["PV_NAAM"]].astype(str).str.strip() if "PV_NAAM" in found else "",
        }
    )
    out = out[out["GM_CODE"].str.startswith("GM")]
    bad = out[~out["PV_CODE"].str.match(_PV)]
    if len(bad):
        raise InputError(
            f"CBS table {table_id}: column '{found['PV_CODE']}' holds {len(bad)} value(s) that are not a "
            f"provincie code PVnn (e.g. {bad['PV_CODE'].iloc[0]!r} for {bad['GM_CODE'].iloc[0]})"
        )
    dup = out[out.duplicated("GM_CODE", keep=False)]
    if len(dup):
        raise InputError(f"CBS table {table_id}: gemeente {dup['GM_CODE'].iloc[0]} appears more than once")
    if out.empty:
        raise InputError(f"CBS table {table_id}: no gemeente rows (GMxxxx) in the answer")
    return out.sort_values("GM_CODE").reset_index(drop=True)


def fetch_gebieden(
    client: CbsClient,
    raw: Path,
    log=print,
    *,
    budget_s: float | None = None,
    editions: list[str] | None = None,
) -> dict[str, Any]:
    """Pull "Gebieden in Nederland" and write ``<raw>/cbs/nederland/gemeente_provincie.csv`` (+ ``.json``
    with table id, title, CBS Modified and fetched_at), atomically. Returns a summary with ``status``
    pulled | offline | failed | budget; one log line per problem; the earlier file is kept on failure."""
    spec = gebieden_spec()
    catalog = spec["catalog"]
    editions = list(editions or spec["editions"])
    target = provincie_path(raw)
    if not client.probe(catalog):
        log(f"CBS niet bereikbaar ({client.s.base(catalog)}): gemeente->provincie niet opgehaald")
        return {"status": "offline", "table_id": editions[0], "path": None}
    deadline = Deadline(client.s.budget_s if budget_s is None else budget_s)
    base = client.s.base(catalog)
    for i, tid in enumerate(editions):
        try:
            client.get(f"{base}/{tid}/", {"$format": "json"}, deadline)  # 404 here: next edition
            parts: dict[str, Any] = {
                n: client.get_all(base, f"{base}/{tid}/{n}", {"$format": "json"}, deadline)
                for n in ("TableInfos", "DataProperties")
            }
            found, _ = resolve_topics(parts, tid, {**spec, "required": []})
            region_dim = region_dim_of(parts, spec)
            params = {
                "$format": "json",
                "$filter": f"startswith({region_dim},'GM')",
                "$select": ",".join([region_dim, *found.values()]),
            }
            parts[DATA_PART] = client.get_all(base, f"{base}/{tid}/{DATA_PART}", params, deadline)
            table = gebieden_table(parts, tid)
        except NotFound as exc:
            if i + 1 < len(editions):
                log(f"CBS {tid}: niet gevonden; volgende editie {editions[i + 1]}")
                continue
            log(f"CBS {tid}: {exc}")
            return {"status": "failed", "table_id": tid, "error": str(exc), "path": None}
        except BudgetExhausted as exc:
            log(f"CBS {tid}: tijdsbudget op; gemeente->provincie niet opgehaald")
            return {"status": "budget", "table_id": tid, "error": str(exc), "path": None}
        except (SourceUnavailable, InputError) as exc:
            log(f"CBS {tid}: {exc}")
            return {"status": "failed", "table_id": tid, "error": str(exc), "path": None}
        info = (parts.get("TableInfos") or [{}])[0]
        with atomic_path(target) as tmp:
            table.to_csv(tmp, index=False)
        write_json(
            target.with_suffix(".json"),
            {
                "table_id": tid,
                "title": info.get("Title"),
                "modified": info.get("Modified"),
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "columns": {"PV_CODE": found["PV_CODE"], "PV_NAAM": found.get("PV_NAAM")},
                "gemeenten": len(table),
                "provincies": int(table["PV_CODE"].nunique()),
                "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            },
        )
        return {
            "status": "pulled",
            "table_id": tid,
            "path": str(target),
            "gemeenten": len(table),
            "provincies": int(table["PV_CODE"].nunique()),
        }
    raise AssertionError("unreachable")  # pragma: no cover
