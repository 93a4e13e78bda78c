"""One processed set for the whole country, from the real all-NL data we bundle.

Real (origin ``snapshot``), all from ``data/raw/snapshot/national/``:

* CBS 85984NED (KWB 2024): the area list (342 gemeenten, 3,393 wijken, alphanumeric codes such as
  ``WK0363AA`` included) and ``inwoners`` 2024;
* CBS 83487NED / 83765NED (KWB 2016 / 2017): names, ``inwoners``, ``huishoudens``, age and
  household shares for every wijk and gemeente code that still exists in 2024 (CBS keeps a code
  for the same area; a code that was re-used for a redrawn wijk is a known limit, see the docs);
* Nederland (``NL00``): per year the sums (counts) and weighted means (rates) over the gemeenten of
  that year's own file (KWB 2016: 390, 2017: 389, 2024: 342), with coverage
  (:mod:`analysis.national.nederland`).

Everything else a sheet shows (income, bijstand, SES-WOA, Leefbaarometer 3.0, crime, ...) has no
real national source offline; it is the seeded synthetic fill of :mod:`analysis.sources.synthetic`,
generated over the real wijk list (origin ``synthetic``, labelled on every sheet). A series never
mixes origins (:func:`analysis.processed.build.one_origin_per_series`).

No buurt level offline: no national buurt list is bundled. After ``veerkracht fetch --scope nederland
--niveau buurt`` the set goes down to buurten (:func:`buurt_regions`): the pull's buurt list and
inhabitants, its real values first (origin ``cbs``), the labelled synthetic fill for the rest. Names:
the region titles the live pull saved win over KWB 2016/2017 (``mapping`` says where a name is from).

Layout (``<processed>/nederland/``, :mod:`analysis.national.store`):

* ``indicators.parquet`` — the indicators.parquet schema plus ``gemeente``, sorted, one row group per
  municipality (``NL00`` its own), read by filter;
* ``regions.parquet`` — the regions table without geometry (no national polygons offline);
* ``build_manifest.json``;
* ``gemeenten/<GM>/`` — a small view per municipality (its rows + ``NL00``) in the processed
  layout the fact-sheet engine reads (:mod:`analysis.national.views`); regions there carry empty
  geometries, so sheets have no map.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.config import indicator_catalog, settings
from analysis.national.nederland import check_against_published, classification, nederland_rows
from analysis.national.store import (
    NATIONAL,
    OUT_COLUMNS,
    gemeente_of,
    load_regions,
    national_root,
    read_partitioned,
    write_national,
)
from analysis.processed.build import REGION_ATTRIBUTES
from analysis.records import COLUMNS, to_long
from analysis.sources.snapshot import KWB_2024_TABLE, national_gemeente_indicators

# imported from here by callers written before the store and the views had modules of their own
__all__ = ["NATIONAL", "load_regions", "national_root", "read_partitioned", "write_national"]

REGION_COLUMNS = [*REGION_ATTRIBUTES, "gemeente_code"]  # no geometry: no national polygons offline


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
    """Real rows for the 2024 areas: KWB 2024 inwoners, KWB 2016/2017 attributes, and NL00 from the
    gemeenten of each year's own file (:mod:`analysis.national.nederland`)."""
    from analysis.sources.snapshot import WIJK_KWB_COLUMNS, kwb_national, national_gemeente_indicators

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
    # NL00 from every gemeente of each year's own file (not only the codes still in use in 2024)
    gem = national_gemeente_indicators(snapshot)
    gem = gem[gem["indicator"].isin(set(real["indicator"]))].dropna(subset=["value"])
    return pd.concat([real, nederland_rows(gem)], ignore_index=True)


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
    fetched: Path, regions: pd.DataFrame, live: pd.DataFrame | None = None, snapshot: Path | None = None
) -> pd.DataFrame:
    """Real rows from the national live pull (``veerkracht fetch --scope nederland``, origin ``cbs``,
    source_table = the CBS table id) for the areas of the national set and ``NL00``; empty when
    nothing was fetched. ``NL00`` as CBS publishes it; where CBS has no NL row (85984NED's answer has
    none) it is the sum / weighted mean over every gemeente the pull holds for that year (that year's
    own classification, merged municipalities included), as for the snapshot. Buurt rows of a
    ``--niveau buurt`` pull come along for the buurten in ``regions`` (:func:`buurt_regions`). Series
    of codes not in the area list (earlier indelingen) are left out, as for KWB 2016/2017.
    ``live``: :func:`live_rows`, read here when not given."""
    live = live_rows(fetched) if live is None else live
    if live.empty:
        return live.assign(coverage=np.nan)[OUT_COLUMNS]
    live = live.copy()
    # NL00 from every gemeente of each year's own classification in the pull, before the rows are
    # narrowed to the 2024 area list; where CBS publishes NL00 itself, the published figure wins
    published = set(map(tuple, live.loc[live["region_code"] == "NL00", ["indicator", "year"]].to_numpy()))
    gm_live = live[live["level"] == "gemeente"].dropna(subset=["value"])
    known = [gm_live] + ([national_gemeente_indicators(snapshot)] if snapshot is not None else [])
    nl = nederland_rows(gm_live, classification(*known))
    nl = nl[[(i, y) not in published for i, y in zip(nl["indicator"], nl["year"], strict=True)]]
    keep = set(regions["region_code"]) | {"NL00"}
    live = live[live["region_code"].isin(keep)].assign(coverage=np.nan)
    return pd.concat([live[OUT_COLUMNS], nl], ignore_index=True)


def nederland_check(fetched: Path | None, live: pd.DataFrame | None = None) -> list[dict]:
    """The national live pull's published NL00 figures against the sums over that year's gemeenten
    (:func:`analysis.national.nederland.check_against_published`); empty without a pull."""
    live = live_rows(fetched) if live is None and fetched is not None else live
    if live is None or live.empty:
        return []
    live = live.assign(value=live["value"].astype(float))
    summed = nederland_rows(live[live["level"] == "gemeente"].dropna(subset=["value"]))  # published rows only
    return check_against_published(summed, live)


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
    live = fetched_indicators(fetched, regions, live_all, snapshot) if fetched is not None else None
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
