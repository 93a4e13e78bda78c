"""The national CBS store (issue 13): Parquet partitioned by year and municipality under
``<cache>/nederland/<table>/NL-<niveau>/``, its manifest and region titles; writing and reading it.
See :mod:`analysis.sources.cbs_national` for the pull that fills it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from analysis.errors import InputError, technisch
from analysis.io import sha256_file
from analysis.records import COLUMNS
from analysis.sources.cbs import (
    DATA_PART,
    NATIONAL_ALIASES,
    derive_rates,
    region_dim_of,
)

if TYPE_CHECKING:  # annotation only: no import at run time
    from analysis.sources.cbs_national import NationalSelection

NIVEAUS = ("gemeente", "wijk", "buurt")
LEVEL_PREFIX = {"gemeente": "GM", "wijk": "WK", "buurt": "BU"}
STORE_COLUMNS = [*COLUMNS, "fetched_at"]
TITLES_FILE = "meta/region_titles.json"  # the region dimension's Key -> Title of the answer
_PARTITIONING = pa.schema([("year", pa.int64()), ("gemeente", pa.string())])


def gemeente_partition(codes: pd.Series) -> pd.Series:
    """Partition key: the municipality of a GM/WK/BU code (alphanumeric ones too), ``NL00`` itself."""
    codes = codes.astype(str)
    return codes.where(~codes.str[:2].isin(["GM", "WK", "BU"]), "GM" + codes.str[2:6])


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
            f"{path}: landelijke CBS-download zonder leesbaar manifest ({technisch(type(exc).__name__)})"
        ) from exc
    if not isinstance(m, dict):
        raise InputError(f"{path}: verwacht een JSON-object")
    for key in ("table_id", "registry_key", "fetched_at", "files", "niveau"):
        if key not in m:
            raise InputError(f"{path}: veld '{key}' ontbreekt")
    return m


def _pick(table_dir: Path) -> Path | None:
    """The pull to use for one table: the one covering the finest level, then the newest."""
    folders = [p for p in table_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for f in folders:
        if not (f / "manifest.json").exists():
            raise InputError(
                f"{f}: landelijke CBS-download zonder manifest.json (niet geschreven door `veerkracht fetch "
                "--scope nederland`); verwijder de map of haal opnieuw op"
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
            f"{folder}: Parquet-bestanden wijken af van manifest.json ({', '.join(extra)}); haal opnieuw op"
        )
    for rel, digest in m["files"].items():
        if sha256_file(folder / rel) != digest:
            raise InputError(
                f"{folder / rel}: sha256 klopt niet met manifest.json (bewerkt of beschadigd); "
                "haal opnieuw op"
            )
    stored = [c for c in STORE_COLUMNS if c != "year"]  # year (and gemeente) are the partition keys
    try:
        for rel in sorted(m["files"]):
            names = pq.read_schema(folder / rel).names
            missing = [c for c in stored if c not in names]
            if missing:
                raise InputError(
                    f"{folder / rel}: verwachte kolom '{missing[0]}' ontbreekt in de opgeslagen CBS-download "
                    f"{m['table_id']}; haal opnieuw op"
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
            f"{folder}: landelijke CBS-download onleesbaar ({technisch(str(exc).splitlines()[0], 160)})"
        ) from exc
    missing = [c for c in STORE_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"{folder}: verwachte kolom '{missing[0]}' ontbreekt in de opgeslagen CBS-download "
            f"{m['table_id']}"
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
                f"{folder / 'manifest.json'}: registry_key {key!r} staat niet in config/cbs_tables.yaml"
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
            f"{path}: ontbreekt of sha256 klopt niet met manifest.json (bewerkt of beschadigd); "
            "haal opnieuw op"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        titles = doc["titles"]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(
            f"{path}: verwacht een JSON-object met 'titles' ({technisch(type(exc).__name__)})"
        ) from exc
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
