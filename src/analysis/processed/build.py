"""Build data/processed/regions.gpkg and indicators.parquet from all sources.

Order of precedence for one region, year and indicator: cbs > snapshot > local > synthetic, and at
equal origin a directly published value beats one aggregated from buurten.

Aggregates (wijk, gemeente and focus areas from buurten; Nederland ``NL00`` from all gemeenten;
Drechtsteden ``DS00`` from its gemeenten, or for 2023 from their buurten) carry their coverage and
are written only at coverage >= 0.95 (:mod:`analysis.processed.aggregate`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from analysis.config import Paths, cbs_registry, programma_gemeente, settings, vergelijking
from analysis.errors import InputError
from analysis.io import atomic_path, read_gpkg, read_parquet, verify_cbs_cache, write_json
from analysis.processed import partner_build
from analysis.processed.aggregate import OUT_COLUMNS, aggregate_candidates, coverage_gate
from analysis.processed.schemas import indicators_schema, regions_schema, validate
from analysis.records import COLUMNS, ORIGIN_PRIORITY
from analysis.sources import cbs, local, pdok, snapshot, synthetic

SYNTHETIC_INDICATORS = sorted(
    set(synthetic.RECIPES) | set(synthetic.EXTRA_RECIPES) | {"ses_woa", "lbm_score"}
)


@dataclass(frozen=True)
class BuildResult:
    regions: gpd.GeoDataFrame
    indicators: pd.DataFrame
    truth: pd.DataFrame
    synthetic_indicators: list[str]
    dropped_aggregates: int = 0  # aggregates below the coverage gate, not written
    # partner cells not published (disclosure control, delivered suppressed): never their value
    suppressed: pd.DataFrame | None = None
    notices: tuple[str, ...] = ()  # absent/undeclared partner files, unmatched Leefbaarometer codes


# the columns of regions.gpkg besides the geometry (the national set has gemeente_code instead)
REGION_ATTRIBUTES = [
    "region_code",
    "level",
    "name",
    "parent_code",
    "wijk_code",
    "focusgebied",
    "inwoners",
    "mapping",
]


def _wijk_names(snap: Path) -> dict[str, str]:
    """Wijk names from KWB 2017 (the 2023 buurt polygons carry none), for the Drechtsteden. A 2023
    wijk code that did not exist in 2017 (recoded wijken) keeps its code as its name."""
    folder = snap / "kwb_2017_wijk"
    path = folder / "wijk_2017_drechtsteden.csv"
    df = snapshot._read_csv(
        path if path.exists() else folder / "wijk_2017_zwijndrecht.csv", ["WK_CODE", "WK_NAAM"], dtype=str
    ).dropna(subset=["WK_CODE", "WK_NAAM"])
    # "Wijk 01 Walburg" -> "Walburg"; a bare "Wijk 00" stays as it is
    return {
        r.WK_CODE: (r.WK_NAAM.split(" ", 2)[-1] if r.WK_NAAM.count(" ") >= 2 else r.WK_NAAM)
        for r in df.itertuples()
    }


def own_codes(code: str) -> str:
    """Regex for the region codes of one municipality; wijk/buurt codes may be alphanumeric."""
    num = code[2:]
    return rf"^(GM{num}|WK{num}[0-9A-Z]{{2}}|BU{num}[0-9A-Z]{{4}})$"


@dataclass(frozen=True)
class BuurtSource:
    buurten: gpd.GeoDataFrame  # all buurten of this municipality
    all_codes: set[str]  # every buurt code in the polygon file(s) (other municipalities too)
    rows: pd.DataFrame  # the 2023 buurt figures in long format
    path: Path


def load_buurten(paths: Paths) -> BuurtSource:
    """Buurt polygons + KWB 2023 figures of ``paths.gemeente``: a PDOK pull in data/raw/pdok/<GM>/
    wins; otherwise the bundled Drechtsteden file. Neither holding the municipality is an error."""
    code = paths.gemeente
    bundled = paths.snapshot / snapshot.BUURTEN_2023_FILE
    pulled = pdok.cached_buurten(paths.pdok_cache)
    if pulled is not None:
        gdf = snapshot.read_buurten_file(pulled.path)
        ours = gdf[gdf["gemeentecode"] == code].copy()
        if ours.empty:
            raise InputError(f"{pulled.path}: no buurten with gemeentecode {code} (column gemeentecode)")
        rows = snapshot.buurt_2023_indicators(ours, source_table=pulled.source_table, origin="cbs")
        return BuurtSource(ours, set(gdf["buurtcode"]), rows, pulled.path)
    gdf = snapshot.read_buurten_2023(paths.snapshot)
    ours = gdf[gdf["gemeentecode"] == code].copy()
    if ours.empty:
        raise InputError(
            f"gemeente {code}: no buurt polygons held (not in {bundled}, column gemeentecode; "
            f"no PDOK pull in {paths.pdok_cache}); run `veerkracht --gemeente {code} kaart` online"
        )
    return BuurtSource(ours, set(gdf["buurtcode"]), snapshot.buurt_2023_indicators(ours), bundled)


def programme_focus(paths: Paths, buurten: BuurtSource) -> pd.DataFrame:
    """Focus areas of this municipality: rows of focusgebieden.csv for its buurten, and only for the
    programme's municipality (settings.yaml `programma.gemeente`). Others get an empty frame."""
    if paths.gemeente != programma_gemeente():
        return pd.DataFrame(columns=local.FOCUS_COLUMNS)
    # buurten of other municipalities in the polygon file are known but not ours: dropped below
    focus = local.read_focusgebieden(paths.local, buurten.all_codes | set(buurten.buurten["buurtcode"]))
    return focus[focus["buurtcode"].isin(set(buurten.buurten["buurtcode"]))].reset_index(drop=True)


def build_regions(
    buurten: gpd.GeoDataFrame,
    focus: pd.DataFrame,
    gemeente: gpd.GeoDataFrame,
    code: str,
    wijk_names: dict[str, str],
) -> gpd.GeoDataFrame:
    fg_of = dict(zip(focus["buurtcode"], focus["focusgebied_code"], strict=True))
    b = gpd.GeoDataFrame(
        {
            "region_code": buurten["buurtcode"],
            "level": "buurt",
            "name": buurten["buurtnaam"],
            "parent_code": buurten["wijkcode"],
            "wijk_code": buurten["wijkcode"],
            "focusgebied": buurten["buurtcode"].map(fg_of),
            "inwoners": buurten["aantalInwoners"].astype(float),
            "mapping": None,
        },
        geometry=buurten.geometry,
        crs=buurten.crs,
    )
    w = b.dissolve(by="wijk_code", aggfunc={"inwoners": "sum"}).reset_index()
    w = w.assign(
        region_code=w["wijk_code"],
        level="wijk",
        name=w["wijk_code"].map(wijk_names).fillna(w["wijk_code"]),
        parent_code=code,
        focusgebied=None,
        mapping=None,
    )
    fb = b[b["focusgebied"].notna()]
    f = _focus_regions(b, fb, focus, code) if len(fb) else None
    g_geom = gemeente.loc[gemeente["gemeentecode"] == code, "geometry"]
    g = gpd.GeoDataFrame(
        {
            "region_code": [code],
            "level": ["gemeente"],
            "name": [str(buurten["gemeentenaam"].iloc[0])],
            "parent_code": ["NL00"],
            "wijk_code": [None],
            "focusgebied": [None],
            "inwoners": [float(b["inwoners"].sum())],
            "mapping": [None],
        },
        geometry=[g_geom.iloc[0] if len(g_geom) else b.union_all()],
        crs=b.crs,
    )
    cols = [*REGION_ATTRIBUTES, "geometry"]
    parts = [g[cols], w[cols]] + ([f[cols]] if f is not None else []) + [b[cols]]
    out = pd.concat(parts, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=b.crs)


def _focus_regions(
    b: gpd.GeoDataFrame, fb: gpd.GeoDataFrame, focus: pd.DataFrame, code: str
) -> gpd.GeoDataFrame:
    fmeta = focus.groupby("focusgebied_code").agg(
        name=("focusgebied_naam", "first"),
        mapping=("mapping", lambda s: "approximate" if (s == "approximate").any() else "exact"),
    )
    f = fb.dissolve(by="focusgebied", aggfunc={"inwoners": "sum"}).reset_index()
    # FG00: all focus buurten together (the programme's goals are mostly set for them jointly)
    f_all = gpd.GeoDataFrame(
        {"focusgebied": ["FG00"], "inwoners": [fb["inwoners"].sum()]},
        geometry=[fb.union_all()],
        crs=b.crs,
    )
    f = pd.concat([f_all, f], ignore_index=True)
    fmeta.loc["FG00"] = [
        "Alle focusbuurten samen",
        "approximate" if (fmeta["mapping"] == "approximate").any() else "exact",
    ]
    f = f.assign(
        region_code=f["focusgebied"],
        level="focusgebied",
        name=f["focusgebied"].map(fmeta["name"]),
        parent_code=code,
        wijk_code=None,
        mapping=f["focusgebied"].map(fmeta["mapping"]),
        focusgebied=f["focusgebied"],
    )
    return f


def derived_counts(long: pd.DataFrame) -> pd.DataFrame:
    """Households at or around the social minimum per buurt: share x households.

    Households are the real 2023 count carried to other years (the only real buurt count
    offline); the result inherits the origin of the share (synthetic when the share is).
    """
    b = long[long["level"] == "buurt"]
    share = b[b["indicator"] == "sociaal_minimum_pct"]
    hh = b[(b["indicator"] == "huishoudens")].sort_values("year").groupby("region_code")["value"].last()
    out = share.assign(
        value=share["value"] / 100 * share["region_code"].map(hh),
        indicator="hh_sociaal_minimum",
        unit="aantal",
        source_table=share["source_table"] + " x huishoudens 2023 (85618NED)",
    ).dropna(subset=["value"])
    return out[COLUMNS]


def one_origin_per_series(rows: pd.DataFrame) -> pd.DataFrame:
    """Drop every synthetic row of a (region, indicator) series that has any real row.

    A real series (CBS pull, snapshot, local file) replaces the synthetic one for *all* years;
    years the real source does not cover stay missing instead of being filled synthetically.
    """
    real = rows.loc[rows["origin"] != "synthetic", ["region_code", "indicator"]].drop_duplicates()
    key = pd.MultiIndex.from_frame(rows[["region_code", "indicator"]])
    has_real = key.isin(pd.MultiIndex.from_frame(real))
    return rows[~(has_real & (rows["origin"] == "synthetic").to_numpy())]


def resolve(long: pd.DataFrame, aggregated: pd.DataFrame) -> pd.DataFrame:
    """One row per region, year and indicator, by origin precedence; direct before aggregated.
    A series never mixes real and synthetic years (see :func:`one_origin_per_series`).
    Rows of ``long`` without a coverage are figures published for the area itself (coverage NaN)."""
    parts = [f if "coverage" in f.columns else f.assign(coverage=np.nan) for f in (long, aggregated)]
    both = pd.concat(
        [parts[0][OUT_COLUMNS].assign(_agg=0), parts[1][OUT_COLUMNS].assign(_agg=1)], ignore_index=True
    )
    both["coverage"] = both["coverage"].astype(float)
    both = one_origin_per_series(both)
    both["_rank"] = both["origin"].map(ORIGIN_PRIORITY)
    both = both.sort_values(["region_code", "year", "indicator", "_rank", "_agg"])
    out = both.drop_duplicates(["region_code", "year", "indicator"], keep="first")
    return out[OUT_COLUMNS].reset_index(drop=True)


def _stamp(snap: Path) -> tuple:
    """Size and mtime of the national files, so the cache below notices a rebuilt snapshot."""
    folder = snap / snapshot.NATIONAL_DIR
    return tuple(
        (f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in sorted(folder.glob("kwb_*.csv.gz"))
    )


@cache
def _national_parts(snap: Path, stamp: tuple) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All NL gemeente figures and the NL00 aggregates (the same for every municipality's build, so
    computed once per process)."""
    gem = snapshot.national_gemeente_indicators(snap)
    frames = []
    for _year, rows in gem.groupby("year"):
        members = pd.DataFrame({"area_code": "NL00", "part_code": sorted(rows["region_code"].unique())})
        frames.append(
            aggregate_candidates(rows, members, "land", part_level="gemeente", parts_name="gemeenten")
        )
    return gem, pd.concat(frames, ignore_index=True)


def comparison_regions(snap: Path, code: str) -> pd.DataFrame:
    """Real Nederland (NL00) and, for a Drechtsteden municipality, Drechtsteden (DS00) aggregates
    with their coverage, before the coverage gate.

    NL00: per year over the gemeenten of that year's file (KWB 2016: 390, 2017: 388, 2024: 342 —
    all gemeenten of that year), counts summed, shares weighted (see aggregate.py). DS00: over the
    gemeenten of settings.yaml `vergelijking.drechtsteden` (2016, 2017, 2024; a member missing in a
    year keeps its weight from the nearest year, so it lowers the coverage) and, for 2023, over all
    their buurten in the bundled 2023 buurt file. None of our files holds a Nederland figure as
    published by CBS for these indicators; a CBS pull with an NL00 row wins over these aggregates.
    """
    gem, nl = _national_parts(snap, _stamp(snap))
    frames = [nl.copy()]
    regio = list((settings().get("vergelijking") or {}).get("drechtsteden") or [])
    if code in regio:
        members = pd.DataFrame({"area_code": "DS00", "part_code": regio})
        frames.append(
            aggregate_candidates(
                gem[gem["region_code"].isin(regio)],
                members,
                "regio",
                part_level="gemeente",
                parts_name="gemeenten",
            )
        )
        buurten = snapshot.read_buurten_2023(snap)
        buurten = buurten[buurten["gemeentecode"].isin(regio)]
        b_rows = snapshot.buurt_2023_indicators(buurten)
        members = pd.DataFrame({"area_code": "DS00", "part_code": sorted(buurten["buurtcode"])})
        frames.append(aggregate_candidates(b_rows, members, "regio"))
    return pd.concat([f for f in frames if len(f)], ignore_index=True)


def _check_codes(
    df: pd.DataFrame, known: set[str], code: str, what: str, others: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Keep rows of this municipality, NL00 and the comparison municipalities; an unknown code of
    this municipality is an error."""
    ours = df["region_code"].str.match(own_codes(code))
    df = df[ours | df["region_code"].isin(["NL00", *others])]
    unknown = sorted(set(df["region_code"]) - known - {"NL00", *others})
    if unknown:
        raise InputError(f"{what}: unknown region code(s) for {code}: {unknown[:5]}")
    return df


def build(paths: Paths, *, use_cache: bool = True) -> BuildResult:
    """Processed tables for ``paths.gemeente`` (any municipality we hold buurt polygons for)."""
    cfg = settings()
    code = paths.gemeente
    snap = paths.snapshot
    # inputs that need nothing else are checked first: a bad file fails before the slower reads
    if use_cache:
        verify_cbs_cache(paths.cbs_cache, set(cbs_registry()))  # binary / manifest-less / edited -> fout
    claimed = partner_build.declared_files(paths.local)  # partner files are never read as Leefbaarometer
    lbm_files = local.leefbaarometer3_files(paths.local, claimed)
    lbm_missing: list[tuple[str, str]] = []  # empty/NA cells: no synthetic filler for those series
    local_raw = local.local_indicators(paths.local, code, claimed, lbm_missing)
    source = load_buurten(paths)
    buurten = source.buurten
    focus = programme_focus(paths, source)
    gemeente = snapshot.read_gemeente_2023(snap, code)
    regions = build_regions(buurten, focus, gemeente, code, _wijk_names(snap))
    known = set(regions["region_code"])
    others = vergelijking(code)

    # the snapshot files cover Zwijndrecht or the Drechtsteden: keep this municipality's rows
    # (a wijk only in another year's classification cannot be placed and is left out) and NL00
    snap_rows = snapshot.all_indicators(snap, code, buurten, buurt_rows=source.rows)
    snap_rows = snap_rows[snap_rows["region_code"].isin(known | {"NL00"})]
    notices: list[str] = []  # said after the build is written (partner_build.say)
    local_long = partner_build.lbm_rows_of(local_raw, known, code, notices)
    partner_data = partner_build.load(paths, regions, source.all_codes, lbm_files, notices)
    real = [snap_rows, local_long]
    if use_cache:
        national = (cfg.get("vergelijking") or {}).get("nederland", "NL00")
        cached = cbs.cached_indicators(paths.cbs_cache, cbs_registry(), cbs.Selection(code, national, others))
        real.append(_check_codes(cached, known, code, f"{paths.cbs_cache}", others))
    real_long = pd.concat([r for r in real if len(r)], ignore_index=True)

    syn_cfg = cfg["synthetic"]
    b_pop = buurten[["buurtcode"]].assign(inwoners=buurten["aantalInwoners"].astype(float))
    syn = synthetic.generate(
        b_pop,
        seed=int(syn_cfg["seed"]),
        first_year=int(syn_cfg["eerste_jaar"]),
        last_year=int(syn_cfg["laatste_jaar"]),
        n_planted=int(syn_cfg["n_planted"]),
        min_inwoners=int(cfg["min_inwoners"]),
    )
    syn_rows = partner_build.without_series(syn.indicators, lbm_missing)
    base = resolve(pd.concat([real_long, syn_rows], ignore_index=True), real_long.iloc[0:0])
    base = partner_build.add_to_base(base, partner_data)  # partner series replace any other origin
    base = pd.concat([base, derived_counts(base).assign(coverage=np.nan)], ignore_index=True)

    membership = pd.concat(
        [
            regions.loc[regions["level"] == "buurt", ["wijk_code", "region_code"]]
            .set_axis(["area_code", "part_code"], axis=1)
            .assign(level="wijk"),
            focus[["focusgebied_code", "buurtcode"]]
            .set_axis(["area_code", "part_code"], axis=1)
            .assign(level="focusgebied"),
            focus[["buurtcode"]]
            .rename(columns={"buurtcode": "part_code"})
            .assign(area_code="FG00", level="focusgebied"),
            regions.loc[regions["level"] == "buurt", ["region_code"]]
            .rename(columns={"region_code": "part_code"})
            .assign(area_code=code, level="gemeente"),
        ],
        ignore_index=True,
    )
    candidates = [
        aggregate_candidates(base, membership[membership["level"] == lvl], lvl)
        for lvl in ("wijk", "focusgebied", "gemeente")
        if (membership["level"] == lvl).any()  # no focus areas outside the programme's municipality
    ]
    candidates.append(comparison_regions(snap, code))
    aggs, dropped = coverage_gate(pd.concat([c for c in candidates if len(c)], ignore_index=True))
    indicators = resolve(base, aggs)
    indicators, suppressed = partner_build.disclose(indicators, partner_data, membership, regions)
    indicators = indicators.sort_values(["level", "region_code", "indicator", "year"]).reset_index(drop=True)

    indicators = validate(indicators, indicators_schema(built=True), "indicators.parquet")
    regions = validate(regions, regions_schema(), "regions.gpkg")
    synthetic_used = sorted(indicators.loc[indicators["origin"] == "synthetic", "indicator"].unique())
    return BuildResult(
        regions=regions,
        indicators=indicators,
        truth=syn.truth,
        synthetic_indicators=synthetic_used,
        dropped_aggregates=dropped,
        suppressed=suppressed,
        notices=tuple(notices),
    )


def write(result: BuildResult, paths: Paths) -> dict:
    """Write all processed tables; each file is swapped in only after it was written in full."""
    paths.processed.mkdir(parents=True, exist_ok=True)
    with (
        atomic_path(paths.regions) as tmp_regions,
        atomic_path(paths.indicators) as tmp_ind,
        atomic_path(paths.processed / "synthetic_truth.parquet") as tmp_truth,
        atomic_path(paths.processed / partner_build.SUPPRESSED_FILE) as tmp_supp,
    ):
        # GDAL wants a .gpkg suffix to pick the driver; write there, then move into the temp name
        gpkg_tmp = tmp_regions.with_name(tmp_regions.name + ".gpkg")  # removed with the temp on failure
        try:
            result.regions.to_file(gpkg_tmp, layer="regions", driver="GPKG")
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001 - GDAL write errors (disk full, ...) are not OSErrors
            raise InputError(f"{paths.regions}: cannot write ({str(exc).splitlines()[0][:200]})") from exc
        os.replace(gpkg_tmp, tmp_regions)
        result.indicators.to_parquet(tmp_ind, index=False)
        result.truth.to_parquet(tmp_truth, index=False)
        partner_build.suppressed_or_empty(result.suppressed).to_parquet(tmp_supp, index=False)
    g = result.regions[result.regions["level"] == "gemeente"]
    manifest = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "gemeente": paths.gemeente,
        "gemeentenaam": str(g["name"].iloc[0]) if len(g) else None,
        "focusgebieden": int((result.regions["level"] == "focusgebied").sum()),
        "rows": len(result.indicators),
        "regions": len(result.regions),
        "synthetic_indicators": result.synthetic_indicators,
        "aggregaten_onder_dekking": result.dropped_aggregates,
        "origins": result.indicators["origin"].value_counts().to_dict(),
        "niet_gepubliceerd": len(partner_build.suppressed_or_empty(result.suppressed)),
    }
    write_json(paths.processed / "build_manifest.json", manifest)
    partner_build.say(result.notices)
    return manifest


def load_indicators(paths: Paths) -> pd.DataFrame:
    if not paths.indicators.exists():
        raise InputError(f"{paths.indicators}: missing; run `veerkracht build` first")
    return read_parquet(paths.indicators)


def load_regions(paths: Paths) -> gpd.GeoDataFrame:
    if not paths.regions.exists():
        raise InputError(f"{paths.regions}: missing; run `veerkracht build` first")
    return read_gpkg(paths.regions, "regions")


def load_manifest(paths: Paths) -> dict:
    p = paths.processed / "build_manifest.json"
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: not valid JSON; run `veerkracht build` again") from exc
