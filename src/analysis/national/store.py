"""The national store (``<processed>/nederland/``): ONE sorted Parquet file of all indicator rows,
one row group per municipality (``NL00`` is a municipality of its own here), read by filter.

Reading one municipality touches only its row group (pyarrow skips the others by their min/max
statistics of ``gemeente``); the whole store is a single atomic file (written to a temporary name
and renamed, so a killed write leaves the previous store). The earlier hive-partitioned folder
(``indicators/year=…/gemeente=…``, thousands of small files) is removed when the store is written.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis.errors import InputError
from analysis.io import atomic_path, write_json, write_parquet
from analysis.records import COLUMNS
from analysis.sources.snapshot import KWB_2024_TABLE

# the built indicators.parquet columns: + coverage (NaN = published for the area itself; else the
# computed share of the area's weight in parts with a value, e.g. NL00 from that year's gemeenten)
OUT_COLUMNS = [*COLUMNS, "coverage"]
NATIONAL = "nederland"
STORE = "indicators.parquet"
SORT = ["gemeente", "level", "region_code", "indicator", "year"]


def gemeente_of(codes: pd.Series) -> pd.Series:
    """Municipality of a GM/WK/BU code (``NL00`` stays ``NL00``); works for alphanumeric codes."""
    codes = codes.astype(str)
    return codes.where(codes.str[:2] == "NL", "GM" + codes.str[2:6])


def national_root(processed_root: Path) -> Path:
    return Path(processed_root) / NATIONAL


def store_path(target: Path) -> Path:
    """The store file; ``<root>/indicators`` (the old folder name) means ``<root>/indicators.parquet``."""
    target = Path(target)
    return target if target.suffix == ".parquet" else target.with_name(STORE)


def write_store(df: pd.DataFrame, target: Path) -> Path:
    """All rows sorted by municipality, one row group per municipality, written atomically."""
    path = store_path(target)
    d = df[OUT_COLUMNS].assign(gemeente=gemeente_of(df["region_code"]))
    d = d.sort_values(SORT, kind="stable").reset_index(drop=True)
    schema = pa.Schema.from_pandas(d, preserve_index=False)
    table = pa.Table.from_pandas(d, schema=schema, preserve_index=False)
    # sorted by municipality: each one's rows are one slice of the table (zero-copy; taking the rows
    # of each group from the frame cost ~1 s for the country, the file is the same byte for byte)
    bounds = [*d["gemeente"].ne(d["gemeente"].shift()).to_numpy().nonzero()[0].tolist(), len(d)]
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as w:
            for a, b in zip(bounds, bounds[1:], strict=False):
                w.write_table(table.slice(a, b - a))
    legacy = path.with_suffix("")  # the hive-partitioned folder of earlier builds
    if legacy.is_dir():
        shutil.rmtree(legacy, ignore_errors=True)
    return path


def has_store(root: Path) -> bool:
    return (Path(root) / STORE).exists()


def read_partitioned(target: Path, gemeenten: list[str] | None = None) -> pd.DataFrame:
    """Rows of ``gemeenten`` (all when None) from the store, in the indicators schema."""
    path = store_path(target)
    if not path.exists():
        raise InputError(f"{path}: ontbreekt; draai eerst `veerkracht report --scope nederland` (of build)")
    flt = [("gemeente", "in", list(gemeenten))] if gemeenten is not None else None
    df = pq.read_table(path, filters=flt).to_pandas()
    df["year"] = df["year"].astype(int)
    return df[OUT_COLUMNS].sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)


def write_national(
    root: Path,
    regions: pd.DataFrame,
    indicators: pd.DataFrame,
    fetched: list[dict] | None = None,
    checks: list[dict] | None = None,
) -> dict:
    """``fetched``: the national live pulls the build read (table id, niveau, fetched_at, CBS Modified);
    ``checks``: published Nederland figures against the sums over the gemeenten (:func:`nederland_check`)."""
    root.mkdir(parents=True, exist_ok=True)
    write_store(indicators, root / STORE)
    write_parquet(root / "regions.parquet", regions)
    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scope": NATIONAL,
        "gemeenten": int((regions["level"] == "gemeente").sum()),
        "wijken": int((regions["level"] == "wijk").sum()),
        "rows": len(indicators),
        "origins": indicators["origin"].value_counts().to_dict(),
        "synthetic_indicators": sorted(
            indicators.loc[indicators["origin"] == "synthetic", "indicator"].unique()
        ),
        "bronnen": [KWB_2024_TABLE, "83487NED", "83765NED"],
    }
    n_buurten = int((regions["level"] == "buurt").sum())
    if n_buurten:  # only with a national buurt pull: the offline manifest keeps its keys
        manifest["buurten"] = n_buurten
        manifest["buurten_zonder_inwoners"] = int(
            ((regions["level"] == "buurt") & regions["inwoners"].isna()).sum()
        )
    used = sorted(set(indicators.loc[indicators["origin"] == "cbs", "source_table"]))
    if fetched and used:  # only with a live pull: the offline manifest keeps its keys
        manifest["live_cbs"] = [f for f in fetched if f["table_id"] in used]
        manifest["bronnen"] = sorted({*manifest["bronnen"], *(f["table_id"] for f in manifest["live_cbs"])})
    if checks:  # only with a live pull that publishes NL00 itself
        manifest["nederland_controle"] = checks
    write_json(root / "build_manifest.json", manifest)
    return manifest


def load_regions(root: Path) -> pd.DataFrame:
    from analysis.io import read_parquet

    return read_parquet(root / "regions.parquet")
