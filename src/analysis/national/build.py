"""One processed set for the whole country, from the real all-NL data we bundle.

Real (origin ``snapshot``), all from ``data/raw/snapshot/national/``:

* CBS 85984NED (KWB 2024): the area list (342 gemeenten, 3,393 wijken, alphanumeric codes such as
  ``WK0363AA`` included) and ``inwoners`` 2024;
* CBS 83487NED / 83765NED (KWB 2016 / 2017): names, ``inwoners``, ``huishoudens``, age and
  household shares for every wijk and gemeente code that still exists in 2024 (CBS keeps a code
  for the same area; a code that was re-used for a redrawn wijk is a known limit, see the docs);
* Nederland (``NL00``): sums (counts) and weighted means (rates) of the 342 gemeenten' real rows.

Everything else a sheet shows (income, bijstand, SES-WOA, Leefbaarometer 3.0, crime, ...) has no
real national source offline; it is the seeded synthetic fill of :mod:`analysis.sources.synthetic`,
generated over the real wijk list (origin ``synthetic``, labelled on every sheet). A series never
mixes origins (:func:`analysis.processed.build.one_origin_per_series`).

No buurt level offline: no national buurt list is bundled. After ``veerkracht fetch --scope nederland
--niveau buurt`` the set goes down to buurten (:func:`buurt_regions`): the pull's buurt list and
inhabitants, its real values first (origin ``cbs``), the labelled synthetic fill for the rest. Names:
the region titles the live pull saved win over KWB 2016/2017 (``mapping`` says where a name is from).

Layout (``<processed>/nederland/``):

* ``indicators/year=YYYY/gemeente=GMxxxx/*.parquet`` — the indicators.parquet schema, partitioned
  by year and municipality (``NL00`` rows under ``gemeente=NL00``);
* ``regions.parquet`` — the regions table without geometry (no national polygons offline);
* ``build_manifest.json``;
* ``gemeenten/<GM>/`` — a small view per municipality (its rows + ``NL00``) in the processed
  layout the fact-sheet engine reads; regions there carry empty geometries, so sheets have no map.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from shapely.geometry import Polygon

from analysis.config import Paths, indicator_catalog, settings
from analysis.errors import InputError
from analysis.io import write_json, write_parquet
from analysis.processed.build import REGION_ATTRIBUTES
from analysis.records import COLUMNS, to_long
from analysis.sources.snapshot import KWB_2024_TABLE

# the built indicators.parquet columns: + coverage (NaN = published for the area itself; 1.0 = an
# aggregate over all its parts, e.g. NL00 from all 342 gemeenten)
OUT_COLUMNS = [*COLUMNS, "coverage"]

NATIONAL = "nederland"
REGION_COLUMNS = [*REGION_ATTRIBUTES, "gemeente_code"]  # no geometry: no national polygons offline


def gemeente_of(codes: pd.Series) -> pd.Series:
    """Municipality of a GM/WK/BU code (``NL00`` stays ``NL00``); works for alphanumeric codes."""
    codes = codes.astype(str)
    return codes.where(codes.str[:2] == "NL", "GM" + codes.str[2:6])


# --- real data -----------------------------------------------------------------------------------


def read_kwb_2024(snapshot: Path) -> pd.DataFrame:
    """Code and inwoners of every gemeente and wijk in CBS 85984NED (KWB 2024), from the bundled
    all-NL extract (``snapshot/national/kwb_2024_gemeente_wijk_nl.csv.gz``, PROVENANCE §10)."""
    from analysis.sources.snapshot import kwb_2024_national

    long = kwb_2024_national(snapshot)
    inw = long[(long["indicator"] == "inwoners") & long["region_code"].str[:2].isin(["GM", "WK"])]
    return pd.DataFrame(
        {"code": inw["region_code"].to_numpy(), "AantalInwoners": inw["value"].to_numpy()}
    ).sort_values("code", ignore_index=True)


BUURT_CODE = r"^BU\d{4}[0-9A-Z]{4}$"  # alphanumeric buurt codes (BU0363AA01) included


def national_regions(
    snapshot: Path, fetched: Path | None = None, live: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Gemeenten and wijken of 2024, and buurten when a national buurt pull is stored.

    Names: the region titles the live national pull saved (CBS dimension endpoint, ``fetched``), else
    KWB 2017, else 2016, else the CBS code itself; ``mapping`` says which. ``live``: the rows of the national
    pull (:func:`live_rows`), read here when not given; buurten come only from there (no national
    buurt list is bundled)."""
    from analysis.sources.snapshot import kwb_national

    k24 = read_kwb_2024(snapshot)
    old = kwb_national(snapshot).sort_values("year")  # 2017 last: it wins below
    names = old.groupby("region_code")["name"].last()
    r = pd.DataFrame({"region_code": k24["code"].to_numpy()})
    r["level"] = np.where(r["region_code"].str.startswith("GM"), "gemeente", "wijk")
    r["gemeente_code"] = gemeente_of(r["region_code"])
    r["name"] = r["region_code"].map(names)
    r["mapping"] = np.where(
        r["name"].notna(), "naam uit KWB 2016/2017", "geen naam in de meegeleverde bestanden"
    )
    titles = _live_titles(fetched)
    if len(titles):  # the live pull's names win over KWB 2016/2017
        r = _apply_titles(r, titles)
    # no name in the data we hold: the CBS code itself (the sheet says so once), never a made-up
    # label such as "Wijk AA (Amsterdam)"
    r["name"] = r["name"].fillna(r["region_code"])
    r["name"] = r["name"].astype(str).str.strip()
    r["parent_code"] = np.where(r["level"] == "wijk", r["gemeente_code"], "NL00")
    r["wijk_code"] = None
    r["focusgebied"] = None
    r["inwoners"] = pd.to_numeric(k24["AantalInwoners"], errors="coerce").astype(float).to_numpy()
    r = r[REGION_COLUMNS]
    if fetched is not None:
        live = live_rows(fetched) if live is None else live
        b = buurt_regions(live, r, titles)
        if len(b):
            r = pd.concat([r, b[REGION_COLUMNS]], ignore_index=True)
    return r.sort_values(["level", "region_code"]).reset_index(drop=True)


def live_rows(fetched: Path | None) -> pd.DataFrame:
    """All rows of the national live pull (COLUMNS), every level; empty without one."""
    from analysis.config import cbs_registry
    from analysis.sources.cbs_national import national_indicators

    if fetched is None:
        return pd.DataFrame(columns=COLUMNS)
    return national_indicators(fetched, cbs_registry())


def _live_titles(fetched: Path | None) -> pd.DataFrame:
    from analysis.sources.cbs_national import store_titles

    if fetched is None:
        return pd.DataFrame(columns=["code", "name", "table_id", "fetched_at"])
    return store_titles(fetched)


def _title_source(t: pd.DataFrame) -> pd.Series:
    return "naam uit CBS " + t["table_id"] + " (landelijke pull van " + t["fetched_at"].str[:10] + ")"


def _apply_titles(r: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    t = titles.set_index("code")
    has = r["region_code"].isin(t.index)
    r = r.copy()
    r.loc[has, "name"] = r.loc[has, "region_code"].map(t["name"])
    r.loc[has, "mapping"] = r.loc[has, "region_code"].map(_title_source(t))
    return r


def buurt_regions(live: pd.DataFrame, regions: pd.DataFrame, titles: pd.DataFrame) -> pd.DataFrame:
    """Buurten of the national live pull (``fetch --scope nederland --niveau buurt``).

    The buurt list is the buurten with rows in the NEWEST year the pull holds at buurt level (the
    current indeling; older editions' codes of redrawn buurten are left out), and only those whose wijk
    (``WK`` + code[2:8]) is in the national wijk list; gemeente = ``GM`` + code[2:6]. Alphanumeric
    codes (``BU0363AA01``) work. Inwoners: the pull's AantalInwoners (indicator ``inwoners``) of that
    year, else of the latest year held for the buurt; without one the buurt keeps no inhabitants
    (NaN: no synthetic fill, no score, no sheet) and ``mapping`` says so. Names: the pull's region
    titles, else the CBS code itself. Empty without buurt rows."""
    b = live[(live["level"] == "buurt") & live["region_code"].astype(str).str.match(BUURT_CODE)]
    if b.empty:
        return pd.DataFrame(columns=REGION_COLUMNS)
    newest = int(b["year"].max())
    codes = pd.Series(sorted(set(b.loc[b["year"] == newest, "region_code"])), dtype=str)
    wijk = "WK" + codes.str[2:8]
    wijken = regions.loc[regions["level"] == "wijk"].set_index("region_code")["name"]
    codes, wijk = codes[wijk.isin(wijken.index)], wijk[wijk.isin(wijken.index)]
    out = pd.DataFrame({"region_code": codes.to_numpy(), "level": "buurt", "wijk_code": wijk.to_numpy()})
    out["parent_code"] = out["wijk_code"]
    out["gemeente_code"] = gemeente_of(out["region_code"])
    out["focusgebied"] = None
    inw = b[(b["indicator"] == "inwoners") & b["value"].notna()].sort_values("year")
    inw = inw.assign(pref=inw["year"] == newest).sort_values(["pref", "year"])
    last = inw.drop_duplicates("region_code", keep="last").set_index("region_code")
    out["inwoners"] = out["region_code"].map(last["value"]).astype(float)
    t = titles.set_index("code") if len(titles) else None
    named = out["region_code"].isin(t.index) if t is not None else pd.Series(False, index=out.index)
    out["name"] = out["region_code"]  # no title in the pull: the CBS code itself, not a made-up label
    out["mapping"] = "geen naam in de landelijke CBS-pull"
    if t is not None:
        out.loc[named, "name"] = out.loc[named, "region_code"].map(t["name"])
        out.loc[named, "mapping"] = out.loc[named, "region_code"].map(_title_source(t))
    src = (
        out["region_code"].map(last["source_table"])
        + " "
        + out["region_code"].map(last["year"]).astype("Int64").astype(str)
    )
    out["mapping"] = out["mapping"] + np.where(
        out["inwoners"].notna(),
        "; inwoners uit CBS " + src.fillna(""),
        "; inwoners niet in de landelijke CBS-pull",
    )
    out["name"] = out["name"].astype(str).str.strip()
    return out[REGION_COLUMNS]


def real_indicators(snapshot: Path, regions: pd.DataFrame) -> pd.DataFrame:
    """Real rows for the 2024 areas: KWB 2024 inwoners, KWB 2016/2017 attributes, NL00 from gemeenten."""
    from analysis.sources.snapshot import WIJK_KWB_COLUMNS, kwb_national

    k24 = read_kwb_2024(snapshot)
    frames = [
        to_long(
            k24.assign(AantalInwoners=pd.to_numeric(k24["AantalInwoners"], errors="coerce")),
            region_col="code",
            year=2024,
            columns={"AantalInwoners": "inwoners"},
            source_table=KWB_2024_TABLE,
            origin="snapshot",
        )
    ]
    old = kwb_national(snapshot)
    old = old[old["region_code"].isin(set(regions["region_code"]))]
    inds = list(WIJK_KWB_COLUMNS.values())
    long = old.melt(
        id_vars=["region_code", "level", "year", "source_table"], value_vars=inds, var_name="indicator"
    )
    catalog = indicator_catalog()
    long["unit"] = long["indicator"].map(lambda i: catalog[i].get("unit", ""))
    long["origin"] = "snapshot"
    long["provisional"] = False
    frames.append(long[COLUMNS])
    real = pd.concat(frames, ignore_index=True).dropna(subset=["value"]).assign(coverage=np.nan)
    real["value"] = real["value"].astype(float)
    return pd.concat(
        [real, national_rows(real, "som/gewogen gemiddelde van de gemeenten: ")], ignore_index=True
    )


def national_rows(rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """``NL00`` from the gemeente rows: counts summed, rates/scores/means weighted by the catalogue
    weight of the same year. Only years in which every gemeente of that year has a value."""
    catalog = indicator_catalog()
    g = rows[rows["level"] == "gemeente"]
    out = []
    for (ind, year), d in g.groupby(["indicator", "year"]):
        kind = catalog.get(ind, {}).get("kind")
        if kind == "count":
            value = d["value"].sum()
        elif kind in ("rate", "score", "mean"):
            wname = catalog[ind].get("weight")
            w = g[(g["indicator"] == wname) & (g["year"] == year)].set_index("region_code")["value"]
            w = d["region_code"].map(w)
            if w.isna().any() or w.sum() <= 0:
                continue
            value = float((d["value"].to_numpy() * w.to_numpy()).sum() / w.sum())
        else:
            continue
        first = d.iloc[0]
        out.append(
            {
                "region_code": "NL00",
                "level": "land",
                "year": int(year),
                "indicator": ind,
                "value": float(value),
                "unit": first["unit"],
                "source_table": prefix + "; ".join(sorted(set(d["source_table"]))),
                "origin": "synthetic" if (d["origin"] == "synthetic").any() else first["origin"],
                "provisional": bool(d["provisional"].any()),
                "coverage": 1.0,
            }
        )
    return pd.DataFrame(out, columns=OUT_COLUMNS)


BUURT_SEED_OFFSET = 1  # buurten: the same generator with seed + 1, a stream of their own


def synthetic_fill(regions: pd.DataFrame, seed: int, first_year: int, last_year: int) -> pd.DataFrame:
    """Seeded synthetic series for every inhabited wijk, the gemeenten as inhabitant-weighted means
    of their wijken, and the generator's national reference row. Origin ``synthetic``.

    Buurten (only when a national buurt pull is stored): the same generator over the inhabited
    buurten with ``seed + BUURT_SEED_OFFSET``, its own seeded stream, so the wijk and gemeente series
    are the same with or without buurten; its national row is not used (the wijk run's is). Buurten
    without inhabitants from the pull get no values."""
    from analysis.sources import synthetic

    out = _synthetic_wijken(regions, seed, first_year, last_year)
    buurten = regions[(regions["level"] == "buurt") & (regions["inwoners"].fillna(0) > 0)]
    if buurten.empty:
        return out
    syn = synthetic.generate(
        buurten[["region_code", "inwoners"]].rename(columns={"region_code": "buurtcode"}),
        seed=seed + BUURT_SEED_OFFSET,
        first_year=first_year,
        last_year=last_year,
        n_planted=max(1, len(buurten) // 25),
        min_inwoners=int(settings()["min_inwoners"]),
    )
    b = syn.indicators[syn.indicators["level"] == "buurt"].assign(coverage=np.nan)
    return pd.concat([out, b[OUT_COLUMNS]], ignore_index=True)


def _synthetic_wijken(regions: pd.DataFrame, seed: int, first_year: int, last_year: int) -> pd.DataFrame:
    from analysis.sources import synthetic

    wijken = regions[regions["level"] == "wijk"]
    syn = synthetic.generate(
        wijken[["region_code", "inwoners"]].rename(columns={"region_code": "buurtcode"}),
        seed=seed,
        first_year=first_year,
        last_year=last_year,
        n_planted=max(1, len(wijken) // 25),
        min_inwoners=int(settings()["min_inwoners"]),
    )
    rows = syn.indicators
    w = rows[rows["level"] == "wijk"].merge(
        wijken[["region_code", "inwoners"]].rename(columns={"inwoners": "w"}), on="region_code"
    )
    w = w[w["w"] > 0]
    w["gemeente"] = gemeente_of(w["region_code"])
    w["wx"] = w["w"] * w["value"]
    g = w.groupby(["gemeente", "year", "indicator"], as_index=False).agg(
        ws=("w", "sum"), wxs=("wx", "sum"), unit=("unit", "first"), source_table=("source_table", "first")
    )
    g = g.assign(
        region_code=g["gemeente"],
        level="gemeente",
        value=g["wxs"] / g["ws"],
        origin="synthetic",
        provisional=False,
    )
    g["source_table"] = "gewogen gemiddelde van de wijken: " + g["source_table"]
    g["coverage"] = 1.0  # every inhabited wijk of the municipality has a synthetic value
    return pd.concat([rows.assign(coverage=np.nan), g[OUT_COLUMNS]], ignore_index=True)


def fetched_indicators(
    fetched: Path, regions: pd.DataFrame, live: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Real rows from the national live pull (``veerkracht fetch --scope nederland``, origin ``cbs``,
    source_table = the CBS table id) for the areas of the national set and ``NL00``; empty when
    nothing was fetched. ``NL00`` as CBS publishes it; where CBS has no NL row (85984NED's answer has
    none) it is the sum / weighted mean of the fetched gemeente rows of that year, as for the
    snapshot. Buurt rows of a ``--niveau buurt`` pull come along for the buurten in ``regions``
    (:func:`buurt_regions`). Codes not in the area list (earlier indelingen) are left out, as for
    KWB 2016/2017. ``live``: :func:`live_rows`, read here when not given."""
    live = live_rows(fetched) if live is None else live
    if live.empty:
        return live.assign(coverage=np.nan)[OUT_COLUMNS]
    keep = set(regions["region_code"]) | {"NL00"}
    live = live[live["region_code"].isin(keep)].assign(coverage=np.nan)
    live["value"] = live["value"].astype(float)
    published = set(map(tuple, live.loc[live["region_code"] == "NL00", ["indicator", "year"]].to_numpy()))
    # NL00 only from a complete set: every gemeente of the national set has a value that year
    gm_all = set(regions.loc[regions["level"] == "gemeente", "region_code"])
    gm = live[live["level"] == "gemeente"]
    complete = gm.groupby(["indicator", "year"])["region_code"].agg(lambda c: gm_all <= set(c))
    parts = pd.MultiIndex.from_frame(gm[["indicator", "year"]]).map(complete.to_dict().get)
    nl = national_rows(gm[parts.to_numpy(bool)], "som/gewogen gemiddelde van de gemeenten: ")
    nl = nl[[(i, y) not in published for i, y in zip(nl["indicator"], nl["year"], strict=True)]]
    return pd.concat([live[OUT_COLUMNS], nl], ignore_index=True)


def build_national(snapshot: Path, fetched: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(regions, indicators) for the whole country; real first, the synthetic fill only for the rest.

    ``fetched``: the national live pull (``<raw>/cbs/nederland``). Its rows come first, then the
    bundled real data, then the synthetic fill; a (region, indicator) series with any real row has
    no synthetic row at all (:func:`analysis.processed.build.one_origin_per_series`), and per region,
    year and indicator the first real row wins (a CBS pull before the bundled snapshot).
    """
    from analysis.processed.build import one_origin_per_series
    from analysis.processed.schemas import indicators_schema, regions_schema, validate

    live_all = live_rows(fetched) if fetched is not None else None
    regions = national_regions(snapshot, fetched, live_all)
    real = real_indicators(snapshot, regions)
    live = fetched_indicators(fetched, regions, live_all) if fetched is not None else None
    from analysis.config import indicator_catalog
    from analysis.processed.checks import check_plausible

    where = {"snapshot": snapshot, "cbs": fetched}  # every real value plausible, as in the municipal build
    check_plausible(pd.concat([p for p in (live, real) if p is not None]), indicator_catalog(), where)
    cfg = settings()["synthetic"]
    syn = synthetic_fill(regions, int(cfg["seed"]), int(cfg["eerste_jaar"]), int(cfg["laatste_jaar"]))
    parts = [real, syn] if live is None or live.empty else [live, real, syn]
    rows = pd.concat(parts, ignore_index=True)
    rows = one_origin_per_series(rows)
    rows = rows.drop_duplicates(["region_code", "year", "indicator"], keep="first")
    rows = rows.sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)
    rows["coverage"] = rows["coverage"].astype(float)
    rows = validate(rows[OUT_COLUMNS], indicators_schema(built=True), "nederland/indicators")
    validate(regions.drop(columns="gemeente_code"), regions_schema(), "nederland/regions.parquet")
    return regions, rows


# --- storage -------------------------------------------------------------------------------------


def national_root(processed_root: Path) -> Path:
    return Path(processed_root) / NATIONAL


def write_partitioned(df: pd.DataFrame, target: Path) -> None:
    """Hive-partitioned Parquet (``year=…/gemeente=…``), swapped in as a whole: a killed write leaves
    the previous dataset intact."""
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    table = pa.Table.from_pandas(df.assign(gemeente=gemeente_of(df["region_code"])), preserve_index=False)
    ds.write_dataset(
        table,
        tmp,
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([("year", pa.int64()), ("gemeente", pa.string())]), flavor="hive"
        ),
        basename_template="part-{i}.parquet",
        max_partitions=100_000,  # 12 years x 343 municipalities
    )
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def read_partitioned(target: Path, gemeenten: list[str] | None = None) -> pd.DataFrame:
    """Rows of ``gemeenten`` (all when None) from the partitioned store, in the indicators schema."""
    if not target.exists():
        raise InputError(f"{target}: missing; run `veerkracht report --scope nederland` (or build) first")
    part = ds.partitioning(pa.schema([("year", pa.int64()), ("gemeente", pa.string())]), flavor="hive")
    d = ds.dataset(target, format="parquet", partitioning=part)
    flt = ds.field("gemeente").isin(gemeenten) if gemeenten is not None else None
    df = d.to_table(filter=flt).to_pandas()
    df["year"] = df["year"].astype(int)
    return df[OUT_COLUMNS].sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)


def write_national(
    root: Path, regions: pd.DataFrame, indicators: pd.DataFrame, fetched: list[dict] | None = None
) -> dict:
    """``fetched``: the national live pulls the build read (table id, niveau, fetched_at, CBS Modified)."""
    root.mkdir(parents=True, exist_ok=True)
    write_partitioned(indicators, root / "indicators")
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
    write_json(root / "build_manifest.json", manifest)
    return manifest


def load_regions(root: Path) -> pd.DataFrame:
    from analysis.io import read_parquet

    return read_parquet(root / "regions.parquet")


# --- per-municipality views for the sheet engine -------------------------------------------------


def view_paths(root: Path, outputs_root: Path, gemeente: str, raw: Path) -> Paths:
    return Paths(
        raw=raw, processed=root / "gemeenten" / gemeente, outputs=outputs_root / gemeente, gemeente=gemeente
    )


def write_views(
    root: Path,
    outputs_root: Path,
    raw: Path,
    regions: pd.DataFrame,
    indicators: pd.DataFrame,
    scores: pd.DataFrame | None,
    gemeenten: list[str],
    built_at: str,
) -> list[Paths]:
    """One processed folder per municipality: its regions (empty geometries), its rows plus NL00,
    and its resilience scores in ``outputs/<GM>/resilience``. Rewritten only when changed, so an
    unchanged municipality keeps its files (and its sheets are skipped on the next run)."""
    from analysis.io import write_table
    from analysis.processed.build import BuildResult, write

    nl = indicators[indicators["region_code"] == "NL00"]
    by_gm = dict(tuple(indicators.groupby(gemeente_of(indicators["region_code"]))))
    reg_gm = dict(tuple(regions.groupby("gemeente_code")))
    sc_gm = dict(tuple(scores.groupby(gemeente_of(scores["region_code"])))) if scores is not None else {}
    out = []
    for gm in gemeenten:
        p = view_paths(root, outputs_root, gm, raw)
        r = reg_gm[gm].drop(columns="gemeente_code").reset_index(drop=True)
        ind = pd.concat([by_gm.get(gm, nl.iloc[0:0]), nl], ignore_index=True)
        ind = ind.sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)
        h = hashlib.sha256(pd.util.hash_pandas_object(ind, index=False).to_numpy().tobytes())
        h.update(pd.util.hash_pandas_object(r, index=False).to_numpy().tobytes())
        digest = h.hexdigest()
        stamp = p.processed / "view.json"
        prev = json.loads(stamp.read_text()) if stamp.exists() else {}
        if prev.get("digest") != str(digest) or not p.indicators.exists():
            geo = gpd.GeoDataFrame(r, geometry=[Polygon() for _ in range(len(r))], crs="EPSG:28992")
            synth = sorted(ind.loc[ind["origin"] == "synthetic", "indicator"].unique())
            write(BuildResult(geo, ind, pd.DataFrame({"buurtcode": []}), synth), p)
            m = json.loads((p.processed / "build_manifest.json").read_text(encoding="utf-8"))
            write_json(p.processed / "build_manifest.json", {**m, "built_at": built_at, "scope": NATIONAL})
            write_json(stamp, {"digest": str(digest)})
        if gm in sc_gm:
            s = sc_gm[gm].reset_index(drop=True)
            target = p.outputs / "resilience" / "scores.parquet"
            old = pd.read_parquet(target) if target.exists() else None
            if old is None or not old.equals(s):
                write_table(p.outputs / "resilience" / "scores", s)
        out.append(p)
    return out
