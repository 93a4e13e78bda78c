"""Content of one fact sheet: selection and computation. The notebook template only calls it.

A :class:`Sheet` selects every row it will show when it is created, so the synthetic banner, the
labels and the colophon all follow from the same selection. Each section is computed into a frozen
dataclass (:mod:`analysis.factsheets.sections`) and rendered by a Jinja2 template
(:mod:`analysis.factsheets.render`, ``factsheets/templates/``): ``Sheet.kop()`` etc. return HTML,
``Sheet.data("kop")`` the data behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geopandas as gpd
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from markupsafe import Markup

from analysis.config import Paths, default_paths, indicator_catalog, programma_gemeente
from analysis.errors import InputError
from analysis.factsheets import sections as S
from analysis.factsheets.cijfers import bevolking, coverage_of, kern_rij, regio_namen
from analysis.factsheets.fmt import (
    csv_download,
    dutch_date,
    figure_html,
    fmt_value,
    nl_number,
    origin_nl,
    plain,
    unit_words,
    with_unit,
)
from analysis.factsheets.render import SIGNAAL_BADGE, render
from analysis.figures import source_entries

KEY_INDICATORS = [
    "inwoners",
    "huishoudens",
    "pct_65_plus",
    "eenpersoons_hh_pct",
    "ses_woa",
    "laag_inkomen_pct",
    "sociaal_minimum_pct",
    "bijstand_per_1000",
    "corporatie_pct",
    "woz",
    "misdrijven_per_1000",
    "lbm_score",
]
SERIES_INDICATORS = ["ses_woa", "laag_inkomen_pct", "bijstand_per_1000", "lbm_score"]
LEVEL_NL = {"buurt": "buurt", "wijk": "wijk", "focusgebied": "focusgebied", "gemeente": "gemeente"}
COMPARE_REGIONS = ("DS00", "NL00")  # Drechtsteden and Nederland: a column when the data have them
REDEN_NL = {
    "A hoog": "hoge concentratie van lage zelfredzaamheid (as A)",
    "A stijgend": "die concentratie neemt toe (as A)",
    "B laag": "lage uitkomst op leefbaarheid en veiligheid (as B)",
    "B dalend": "die uitkomst gaat achteruit (as B)",
}
AS_NAAM = {"A": "zelfredzaamheid (A)", "B": "leefbaarheid en veiligheid (B)"}


@dataclass(frozen=True)
class Context:
    """Processed tables and analysis outputs, read once per process (read-only)."""

    indicators: pd.DataFrame
    regions: gpd.GeoDataFrame
    scores: pd.DataFrame | None
    sensitivity: pd.DataFrame | None
    goals: pd.DataFrame | None
    forecasts: pd.DataFrame | None
    manifest: dict
    paths: Paths
    national: pd.DataFrame | None = None  # Leefbaarometer 2.0 placement among all NL areas (real)
    contributions: pd.DataFrame | None = None  # resilience/bijdragen.parquet (buurten)


_CACHE: dict[tuple, Context] = {}


def _signature(paths: Paths) -> tuple:
    files = [
        paths.indicators,
        paths.regions,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "resilience" / "bijdragen.parquet",
        paths.outputs / "goals" / "status.parquet",
    ]
    return tuple((str(f), f.stat().st_mtime_ns if f.exists() else None) for f in files)


def _numpy_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain Python objects: a sheet makes some thousand small row selections, and
    taking rows from Arrow-backed strings costs ~5x more than from an object array (same values)."""
    cols = [c for c in df.columns if c != "geometry" and pd.api.types.is_string_dtype(df[c].dtype)]
    return df.astype(dict.fromkeys(cols, object)) if cols else df


def load_context(paths: Paths | None = None) -> Context:
    """Read the inputs; cached by file path and modification time so a reused kernel stays correct."""
    paths = paths or default_paths()
    key = _signature(paths)
    if key in _CACHE:
        return _CACHE[key]
    from analysis.processed.build import load_indicators, load_manifest, load_regions

    def opt(p: Path) -> pd.DataFrame | None:
        return _numpy_strings(pd.read_parquet(p)) if p.exists() else None

    res, goals = paths.outputs / "resilience", paths.outputs / "goals"
    ctx = Context(
        indicators=_numpy_strings(load_indicators(paths)),
        regions=load_regions(paths),
        scores=opt(res / "scores.parquet"),
        sensitivity=opt(res / "gevoeligheid.parquet"),
        goals=opt(goals / "status.parquet"),
        forecasts=opt(goals / "prognoses.parquet"),
        manifest=load_manifest(paths),
        paths=paths,
        national=opt(res / "nationaal_lbm2_niveau.parquet"),
        contributions=opt(res / "bijdragen.parquet"),
    )
    _CACHE.clear()
    _CACHE[key] = ctx
    return ctx


MAP_SIZE, MAP_DPI = (6, 4.2), 96
_BASEMAP: dict[tuple, tuple] = {}


def has_geometry(regions: gpd.GeoDataFrame, code: str | None = None) -> bool:
    """Whether the regions table has polygons (for ``code``; national runs may have none)."""
    if "geometry" not in regions or regions.geometry is None:
        return False
    g = regions.geometry if code is None else regions.loc[regions["region_code"] == code].geometry
    return bool(len(g)) and bool((g.notna() & ~g.is_empty).any())


def _locator_axes(ctx: Context):
    """A figure whose background is the pre-rendered municipal base map (drawn once per process).

    The base layers (all buurten, wijk borders, focus outlines) are identical on every sheet, so
    they are rasterised once and placed pixel-exact with ``figimage``; only the highlighted area is
    drawn per sheet, on axes with the same position and limits.
    """
    key = _signature(ctx.paths)
    if key not in _BASEMAP:
        reg = ctx.regions
        fig, ax = plt.subplots(figsize=MAP_SIZE, dpi=MAP_DPI)
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
        reg[reg["level"] == "buurt"].plot(ax=ax, color="#e5e5e5", edgecolor="white", linewidth=0.4)
        reg[reg["level"] == "wijk"].boundary.plot(ax=ax, color="#969696", linewidth=0.6)
        reg[(reg["level"] == "focusgebied") & (reg["region_code"] != "FG00")].boundary.plot(
            ax=ax, color="black", linewidth=0.8, linestyle="--"
        )
        ax.set_axis_off()
        fig.canvas.draw()
        _BASEMAP.clear()
        _BASEMAP[key] = (
            np.asarray(fig.canvas.buffer_rgba()).copy(),
            ax.get_xlim(),
            ax.get_ylim(),
            ax.get_position().bounds,
        )
        plt.close(fig)
    raster, xlim, ylim, pos = _BASEMAP[key]
    fig = plt.figure(figsize=MAP_SIZE, dpi=MAP_DPI)
    fig.figimage(raster, 0, 0, zorder=-1)
    ax = fig.add_axes(pos)
    ax.set_axis_off()

    def pin() -> None:  # geopandas sets an equal aspect and autoscales: restore the base map's frame
        ax.set_aspect("auto")
        ax.set_position(pos)
        ax.set_xlim(xlim)
        ax.set_ylim(ylim)

    return fig, ax, pin


def reset_plotting() -> None:
    """Same matplotlib state for every sheet, whichever sheet ran before in this kernel."""
    plt.close("all")
    matplotlib.rcdefaults()
    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")


def _paths(paden: dict[str, str] | None) -> Paths | None:
    """Paths handed over by the batch runner as notebook parameters (None: the defaults)."""
    if not paden:
        return None
    from analysis.factsheets.runner import paths_from_params

    return paths_from_params(paden)


def warm_up(paden: dict[str, str] | None = None) -> None:
    """Load tables, goal catalogue and base map once (a kernel runs this before its first sheet)."""
    reset_plotting()
    ctx = load_context(_paths(paden))
    if has_geometry(ctx.regions[ctx.regions["level"] == "buurt"]):
        _locator_axes(ctx)
    _goal_catalog()
    import analysis.goals.figures  # noqa: F401  (fan charts)

    plt.close("all")


_GOALS: dict = {}


@cache
def programma_naam() -> str:
    """The programme's municipality by name where the bundled data have it, else its code."""
    import json

    from analysis.config import SNAPSHOT_DIR
    from analysis.sources.snapshot import BUURTEN_2023_FILE

    code = programma_gemeente()
    try:
        with open(SNAPSHOT_DIR / BUURTEN_2023_FILE, encoding="utf-8") as fh:
            for f in json.load(fh)["features"]:
                if f["properties"].get("gemeentecode") == code:
                    return f"{f['properties']['gemeentenaam']} ({code})"
    except (OSError, ValueError, KeyError):
        pass
    return code


def _goal_catalog() -> dict:
    """Goals by id, parsed once per process (the YAML does not change during a batch)."""
    if not _GOALS:
        from analysis.goals.catalog import load_catalog

        _GOALS.update({g.id: g for g in load_catalog()[0]})
    return _GOALS


@cache
def _resilience_config():
    from analysis.resilience.config import load_config

    return load_config()


def drempels() -> S.Drempels:
    cfg = _resilience_config()
    return S.Drempels(
        niveau=float(cfg.thresholds.level), verandering=float(cfg.thresholds.change), jaren=cfg.change_years
    )


@cache
def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("veerkracht-zwijndrecht")
    except PackageNotFoundError:
        return "onbekend"


def sheet_slug(code: str, name: str) -> str:
    from analysis.factsheets.runner import slugify

    return f"{code.lower()}-{slugify(name)}.html"


@cache
def key_explanations() -> tuple:
    """The explanations of the key figures ("Wat betekenen deze cijfers?"), built once per process."""
    from analysis.factsheets.explain import explanations

    return tuple(explanations(KEY_INDICATORS))


def _signed(value: float, difference: bool) -> str:
    """A bare interval bound in Dutch notation (a sign for a gap: '+2,5', '−15,1')."""
    decimals = 0 if abs(value) >= 100 else (1 if abs(value) >= 1 else 2)
    txt = nl_number(value, decimals)
    if difference and value > 0:
        txt = "+" + txt
    return txt.replace("-", "\u2212", 1) if txt.startswith("-") else txt


class Sheet:
    SECTIONS = ("kop", "kerncijfers", "tijdreeksen", "veerkracht", "doelen", "kaart", "bronnen")
    TEMPLATES = {s: f"{s}.html.j2" for s in SECTIONS}

    def __init__(self, ctx: Context, code: str, year: int | None = None):
        reg = ctx.regions.set_index("region_code")
        if code not in reg.index:
            raise InputError(f"unknown area code {code!r} (not in {ctx.paths.regions})")
        self.ctx, self.code = ctx, code
        self.info = reg.loc[code]
        self.reg = reg
        self.gemeente = ctx.paths.gemeente
        self.gemeente_naam = (
            str(reg.loc[self.gemeente, "name"]) if self.gemeente in reg.index else self.gemeente
        )
        self.programme = bool((reg["level"] == "focusgebied").any())  # focus areas and goals exist
        self.level = str(self.info["level"])
        self.name = str(self.info["name"])
        ind = ctx.indicators
        self.year = int(year) if year is not None else self._default_year(ind, code)
        self.wijk = self.info["wijk_code"] if self.level == "buurt" else None
        fg = self.info["focusgebied"]
        self.focus = fg if isinstance(fg, str) else None
        if self.level == "focusgebied":
            self.focus = None  # a focus area is not "in" a focus area
        present = set(ind.loc[ind["region_code"].isin(COMPARE_REGIONS), "region_code"])
        self.compare = [c for c in (code, self.wijk, self.gemeente) if c]
        self.compare += [c for c in COMPARE_REGIONS if c in present]
        self.compare = list(dict.fromkeys(self.compare))
        self.catalog = indicator_catalog()
        self._select()

    @staticmethod
    def _default_year(ind: pd.DataFrame, code: str) -> int:
        """Latest year of the area's time-series indicators (a lone later figure, such as a
        third-party 2025 housing value, does not move the reference year)."""
        own = ind[ind["region_code"] == code]
        series = own[own["indicator"].isin(SERIES_INDICATORS)]
        return int((series if len(series) else own)["year"].max())

    @classmethod
    def load(
        cls,
        code: str,
        year: int | None = None,
        forceer_fout: bool = False,
        paden: dict[str, str] | None = None,
    ) -> Sheet:
        if forceer_fout:  # test hook: `veerkracht factsheets` uses it to prove a failing sheet is contained
            raise RuntimeError(f"geforceerde fout voor {code} (test)")
        reset_plotting()
        return cls(load_context(_paths(paden)), code, year)

    # --- selection -------------------------------------------------------------------------

    def _select(self) -> None:
        ind = self.ctx.indicators
        mine = ind[ind["region_code"].isin(self.compare)]
        self.population = bevolking(ind, self.code)
        pop_year = self.population.jaar if self.population else None
        self.key: dict[str, tuple[int | None, dict]] = {}
        rows = []
        for i in KEY_INDICATORS:
            year, cells = kern_rij(mine, i, self.code, self.compare, self.year, pop_year)
            self.key[i] = (year, cells)
            rows += [r for r in cells.values() if r is not None]
        near = mine[mine["year"] <= self.year]
        # the chart draws the area and every comparison area it has data for (wijk, gemeente,
        # Drechtsteden, Nederland): all of them count for the sources and the synthetic banner
        self.series = near[near["indicator"].isin(SERIES_INDICATORS)]
        used = pd.DataFrame(rows)
        self.used = pd.concat([used, self.series], ignore_index=True)
        self.score = None
        if self.ctx.scores is not None:
            s = self.ctx.scores[self.ctx.scores["region_code"] == self.code]
            self.score = None if s.empty else s.iloc[0]
        self.sens = None
        if self.ctx.sensitivity is not None:
            s = self.ctx.sensitivity[self.ctx.sensitivity["region_code"] == self.code]
            self.sens = None if s.empty else s.iloc[0]
        self.goal_groups = self._goal_groups()
        self.goal_regions = [r for _, r, _ in self.goal_groups]
        self.goal_rows = None
        if self.ctx.goals is not None:
            g = self.ctx.goals
            self.goal_rows = g[g["region_code"].isin(self.goal_regions)]
        synth = (self.used["origin"] == "synthetic").any() if len(self.used) else False
        if self.score is not None:
            synth = synth or bool(self.score["synthetic_inputs"])
        if self.goal_rows is not None and len(self.goal_rows):
            synth = synth or bool(self.goal_rows["synthetic"].fillna(False).astype(bool).any())
        self.has_synthetic = bool(synth)

    def _goal_groups(self) -> list[tuple[str, str, bool]]:
        """(heading, goal region, measured on all focus buurten together) for the goals that apply.

        A buurt or wijk outside the programme's focus areas gets none: goals measured on all focus
        buurten together are not about that area."""
        if not self.programme:
            return []
        samen = "Programmadoel voor alle focusbuurten samen"
        if self.level == "gemeente":
            return [
                (f"Doelen voor de gemeente {self.gemeente_naam}", self.code, False),
                (samen, "FG00", True),
            ]
        if self.level == "focusgebied":
            if self.code == "FG00":
                return [(samen, "FG00", True)]
            return [(f"Doelen voor focusgebied {self.name}", self.code, False)]
        if self.level == "buurt" and self.focus:
            naam = self.reg.loc[self.focus, "name"]
            return [(f"Doelen voor focusgebied {naam}, waar deze buurt bij hoort", self.focus, False)]
        return []

    def name_of(self, code: str) -> str:
        names = regio_namen()
        if code in names:
            return names[code]
        return str(self.reg.loc[code, "name"]) if code in self.reg.index else code

    def _has_sheet(self, code: str) -> bool:
        from analysis.config import settings

        inw = self.reg.loc[code, "inwoners"] if code in self.reg.index else None
        return inw is not None and pd.notna(inw) and float(inw) >= float(settings()["min_inwoners"])

    def link_to(self, code: str) -> str | None:
        return sheet_slug(code, str(self.reg.loc[code, "name"])) if self._has_sheet(code) else None

    # --- section data ------------------------------------------------------------------------

    def _signaal(self) -> S.Signaal | None:
        s = self.score
        if s is None:
            return None
        if isinstance(s.get("signaal"), str):
            word, reason = s["signaal"], s.get("signaal_reden")
            against = "de buurten van de gemeente"
        elif isinstance(s.get("signaal_eigen_niveau"), str):
            word, reason = s["signaal_eigen_niveau"], s.get("signaal_reden_eigen_niveau")
            against = f"de andere {'wijken' if self.level == 'wijk' else 'focusgebieden'} van de gemeente"
        else:
            return None
        if word not in SIGNAAL_BADGE:  # 'onvoldoende data'
            return None
        reasons = tuple(REDEN_NL.get(r.strip(), r.strip()) for r in str(reason or "").split(";") if r.strip())
        p = None if self.sens is None else float(self.sens["p_signaal"])
        rob = None if self.sens is None else str(self.sens["robuustheid"])
        return S.Signaal(
            woord=word,
            kleur=SIGNAAL_BADGE[word],
            redenen=reasons,
            vergeleken_met=against,
            p_signaal=p,
            robuustheid=rob,
            synthetisch=bool(s["synthetic_inputs"]),
        )

    def _bijdragen(self, n: int = 3) -> tuple[S.Bijdrage, ...]:
        """The indicators that weigh most in this buurt's axis levels (unfavourable first)."""
        b = self.ctx.contributions
        if b is None:
            return ()
        b = b[(b["region_code"] == self.code) & b["bijdrage"].notna()]
        if b.empty:
            return ()
        # axis A: higher = more concentration (unfavourable); axis B: higher = better
        adverse = np.where(b["as"] == "A", b["bijdrage"], -b["bijdrage"])
        b = b.rename(columns={"as": "axis"}).assign(adv=adverse).sort_values("adv", ascending=False)
        out = []
        for r in b.head(n).itertuples():
            label = self.catalog.get(r.indicator, {}).get("label", r.indicator)
            out.append(
                S.Bijdrage(
                    label=label,
                    as_naam=AS_NAAM.get(r.axis, r.axis),
                    richting="ongunstig" if r.adv > 0 else "gunstig",
                    waarde=float(r.bijdrage),
                )
            )
        return tuple(out)

    def _focus_areas_text(self, codes) -> str:
        """'Schildersbuurt (exact), Koninginneweg (benaderd)' for focus-area codes."""
        parts = []
        for fg in codes:
            if fg in self.reg.index:
                how = "exact" if self.reg.loc[fg, "mapping"] == "exact" else "benaderd"
                parts.append(f"{self.reg.loc[fg, 'name']} (koppeling {how})")
        return ", ".join(parts)

    def _focus(self) -> S.Focus | None:
        if not self.programme:
            return None
        fgs = self.reg[(self.reg["level"] == "focusgebied") & (self.reg.index != "FG00")]
        approx = fgs[fgs["mapping"] != "exact"]
        if self.level == "gemeente" or self.code == "FG00":
            text = f"Het programma heeft {len(fgs)} focusgebieden"
            if len(approx):
                text += (
                    f"; bij {len(approx)} valt de grens niet samen met CBS-buurtgrenzen (koppeling benaderd, "
                    f"door de gemeente te bevestigen): {', '.join(approx['name'])}"
                )
            return S.Focus(self.code == "FG00", None, None, None, text + ".")
        if self.level == "focusgebied":
            how = "exact" if self.info["mapping"] == "exact" else "benaderd"
            return S.Focus(True, self.name, how, None, self._mapping_text(how))
        if self.level == "buurt":
            if not self.focus:
                return S.Focus(False, tekst="Deze buurt is geen focusbuurt van het programma.")
            fg = self.reg.loc[self.focus]
            how = "exact" if fg["mapping"] == "exact" else "benaderd"
            return S.Focus(True, str(fg["name"]), how, self.link_to(self.focus), self._mapping_text(how))
        if self.level == "wijk":
            b = self.reg[(self.reg["level"] == "buurt") & (self.reg["wijk_code"] == self.code)]
            codes = list(dict.fromkeys(b["focusgebied"].dropna()))
            if not codes:
                return S.Focus(False, tekst="Geen focusgebied van het programma in deze wijk.")
            return S.Focus(False, tekst="Focusgebieden in deze wijk: " + self._focus_areas_text(codes) + ".")
        return None

    @staticmethod
    def _mapping_text(how: str) -> str:
        if how == "exact":
            return "De grens van het focusgebied valt samen met CBS-buurtgrenzen (koppeling exact)."
        return (
            "Let op: de grens van het focusgebied valt niet samen met CBS-buurtgrenzen; de cijfers gelden "
            "voor de buurt(en) die het gebied het best benaderen (koppeling benaderd, door de gemeente "
            "te bevestigen)."
        )

    def _goal_counts(self) -> str | None:
        """Goal statuses per applicable group, real and synthetic series apart (never one mixed total)."""
        if not self.programme or self.goal_rows is None:
            return None
        if not self.goal_groups:
            return (
                "Voor dit gebied gelden geen eigen programmadoelen: de doelen gaan over de focusgebieden "
                "en over alle focusbuurten samen."
            )
        parts = []
        for _head, region, together in self.goal_groups:
            g = self.goal_rows[self.goal_rows["region_code"] == region]
            g = g[~g["status"].isin(["niet meetbaar", "onvoldoende data"])]
            synth = g["synthetic"].fillna(False).astype(bool)
            out = []
            for label, part in (("echte", g[~synth]), ("synthetische", g[synth])):
                if len(part):
                    on = int((part["status"] == "op koers").sum())
                    out.append(f"{len(part)} op {label} reeksen, waarvan {on} op koers")
            if out:
                who = "alle focusbuurten samen" if together else str(self.reg.loc[region, "name"])
                parts.append(f"{who}: " + "; ".join(out))
        if not parts:
            return "Geen van de doelen voor dit gebied heeft genoeg gegevens voor een prognose."
        return "Doelen met een prognose — " + " · ".join(parts) + "."

    def data_kop(self) -> S.Kop:
        parent = None
        if self.level == "buurt" and self.wijk in self.reg.index:
            parent = f"wijk {self.reg.loc[self.wijk, 'name']}"
        s = self.score
        sig = self._signaal()
        samenstelling = None
        share = None
        geen = None
        if s is not None and isinstance(s.get("samenstelling"), str):
            samenstelling = str(s["samenstelling"])
            share = (
                None if pd.isna(s.get("aandeel_inwoners_signaal")) else float(s["aandeel_inwoners_signaal"])
            )
        if s is not None and sig is None and samenstelling is None:
            geen = "Voor dit gebied is geen veerkrachtsignaal berekend (te weinig inwoners of gegevens)."
        if s is None and self.ctx.scores is not None:
            geen = "Voor dit gebied is geen veerkrachtsignaal berekend (te weinig inwoners of gegevens)."
        bijdragen = self._bijdragen()
        return S.Kop(
            naam=self.name,
            code=self.code,
            niveau=LEVEL_NL.get(self.level, self.level),
            ouder=parent,
            gemeente_naam=self.gemeente_naam,
            peiljaar=self.year,
            synthetisch=self.has_synthetic,
            bevolking=self.population,
            signaal=sig,
            samenstelling=samenstelling,
            aandeel_signaal=share,
            geen_score=geen,
            drempels=drempels(),
            bijdragen=bijdragen,
            bijdragen_synthetisch=bool(s is not None and s["synthetic_inputs"]) and bool(bijdragen),
            focus=self._focus(),
            doelen_tekst=self._goal_counts(),
            heeft_analyse=self.ctx.scores is not None,
        )

    def _cell(self, r, unit: str) -> S.Cel:
        if r is None:
            return S.Cel("n.b.")
        cov = coverage_of(r)
        return S.Cel(
            waarde=fmt_value(r["value"], unit),
            synthetisch=r["origin"] == "synthetic",
            voorlopig=bool(r["provisional"]),
            dekking=cov if cov is not None and cov < 1 else None,
        )

    def data_kerncijfers(self) -> S.Kerncijfers:
        names = [self.name_of(c) for c in self.compare]
        real, synth, records = [], [], []
        low_cov = False
        for i in KEY_INDICATORS:
            spec = self.catalog[i]
            year, cells = self.key[i]
            shown = [self._cell(cells[c], spec["unit"]) for c in self.compare]
            low_cov = low_cov or any(c.dekking is not None for c in shown)
            row = S.KernRij(
                indicator=i,
                label=spec["label"],
                jaar=year,
                cellen=tuple(shown),
                synthetisch=any(c.synthetisch for c in shown),
            )
            (synth if row.synthetisch else real).append(row)
            for c, name in zip(self.compare, names, strict=True):
                r = cells[c]
                if r is None:
                    continue
                records.append(
                    {
                        "indicator": spec["label"],
                        "eenheid": spec["unit"],
                        "gebiedscode": c,
                        "gebied": name,
                        "jaar": int(r["year"]),
                        "waarde": float(r["value"]),
                        "voorlopig": "ja" if r["provisional"] else "nee",
                        "herkomst": "synthetisch" if r["origin"] == "synthetic" else "echt",
                        "dekking": coverage_of(r),
                        "bron": plain(str(r["source_table"])),
                    }
                )
        csv = csv_download(
            pd.DataFrame(records), f"kerncijfers-{self.code.lower()}.csv", "Download deze cijfers als CSV"
        )
        return S.Kerncijfers(
            gebieden=tuple(names),
            echt=tuple(real),
            synthetisch=tuple(synth),
            dekking_onder_100=low_cov,
            echt_in_synthetisch=any(
                not c.synthetisch and c.waarde != "n.b." for r in synth for c in r.cellen
            ),
            csv=Markup(csv),
            uitleg=key_explanations(),
        )

    def data_tijdreeksen(self) -> S.Tijdreeksen:
        return S.Tijdreeksen(figuur=self._series_figure())

    def _series_figure(self) -> Markup | None:
        """The "Ontwikkeling" chart (analysis.factsheets.charts.series_chart) with its table."""
        from analysis.factsheets.charts import series_chart

        if self.series[self.series["region_code"] == self.code].empty:
            return None
        areas = {
            "gebied": self.code,
            "wijk": self.wijk,
            "gemeente": self.gemeente if self.gemeente != self.code else None,
            "regio": "DS00" if "DS00" in self.compare else None,
            "nederland": "NL00" if "NL00" in self.compare else None,
        }
        codes = [c for c in areas.values() if c]
        chart = series_chart(
            self.series[self.series["region_code"].isin(codes)],
            areas,
            {c: self.name_of(c) for c in codes},
            SERIES_INDICATORS,
            self.catalog,
        )
        return Markup(chart.html)

    def _trend_phrase(self, ind: str) -> str:
        s = self.series[(self.series["region_code"] == self.code) & (self.series["indicator"] == ind)]
        s = s.sort_values("year")
        if len(s) < 2:
            return f"{self.catalog[ind]['label']}: geen reeks"
        unit = self.catalog[ind]["unit"]
        return (
            f"{self.catalog[ind]['label']} van {fmt_value(s['value'].iloc[0], unit)} "
            f"naar {fmt_value(s['value'].iloc[-1], unit)}"
        )

    def _buurten(self) -> tuple[S.BuurtSignaal, ...]:
        """A wijk's buurten with their signal (word + colour + link to the buurt's sheet)."""
        if self.level != "wijk":
            return ()
        b = self.reg[(self.reg["level"] == "buurt") & (self.reg["wijk_code"] == self.code)]
        scores = None if self.ctx.scores is None else self.ctx.scores.set_index("region_code")
        out = []
        for code, r in b.sort_values("name").iterrows():
            word = "niet gescoord"
            if scores is not None and code in scores.index and isinstance(scores.loc[code, "signaal"], str):
                word = scores.loc[code, "signaal"]
            out.append(
                S.BuurtSignaal(
                    naam=str(r["name"]),
                    code=str(code),
                    woord=word if word in SIGNAAL_BADGE else "niet gescoord",
                    kleur=SIGNAAL_BADGE.get(word, "grijs"),
                    link=self.link_to(code),
                    inwoners=None if pd.isna(r["inwoners"]) else float(r["inwoners"]),
                )
            )
        return tuple(out)

    def data_veerkracht(self) -> S.Veerkracht:
        s = self.score
        focus = self._focus()
        fb = None
        if self.level == "wijk" and self.programme:
            rows = self.reg[
                (self.reg["level"] == "buurt")
                & (self.reg["wijk_code"] == self.code)
                & self.reg["focusgebied"].notna()
            ]
            fb = tuple(str(n) for n in rows["name"])
        if s is None:
            return S.Veerkracht(
                beschikbaar=False,
                signaal=None,
                samenstelling=None,
                assen=(),
                vergelijking_noot="",
                peiljaar=None,
                jaren="",
                lbm2=None,
                p_signaal=None,
                robuustheid=None,
                focus=focus,
                focusbuurten=fb,
                buurten=self._buurten(),
                synthetisch=False,
                drempels=drempels(),
            )
        assen = []
        for axis, naam in (
            ("A", "A: concentratie lage zelfredzaamheid (hoger = meer)"),
            ("B", "B: uitkomst leefbaarheid en veiligheid (hoger = beter)"),
        ):
            if not any(pd.notna(s.get(f"{axis}_niveau_{r}")) for r in ("gemeente", "nederland")):
                continue
            cells = []
            for ref in ("gemeente", "nederland"):
                lv, tr = s.get(f"{axis}_niveau_{ref}"), s.get(f"{axis}_trend_{ref}")
                lk, tk = s.get(f"{axis}_niveauklasse_{ref}"), s.get(f"{axis}_trendklasse_{ref}")
                cells.append(
                    (
                        f"{nl_number(lv, 2)} ({lk if isinstance(lk, str) else 'n.b.'})",
                        f"{nl_number(tr, 2)} ({tk if isinstance(tk, str) else 'n.b.'})",
                    )
                )
            assen.append(S.AsRij(naam=naam, cellen=tuple(cells)))
        note = (
            "t.o.v. de buurten van de gemeente"
            if self.level == "buurt"
            else "t.o.v. gebieden van hetzelfde niveau (geen verdunde buurtschaal)"
        )
        lbm2 = None
        nat = self.ctx.national
        if nat is not None and self.level in ("wijk", "gemeente"):
            k = nat[(nat["region_code"] == self.code) & (nat["maat"] == "klasse (1-9)")].sort_values("year")
            if len(k):
                first, last = k.iloc[0], k.iloc[-1]
                what = "wijken" if self.level == "wijk" else "gemeenten"
                lbm2 = (
                    f"Leefbaarometer 2.0 (echte cijfers, Ministerie van BZK, meting 2016): klasse "
                    f"{int(last['value'])} in {int(last['year'])}, percentiel "
                    f"{nl_number(last['percentiel_nl'], 0)} onder alle Nederlandse {what} (hoger = beter; "
                    f"{int(first['year'])}: klasse {int(first['value'])}, percentiel "
                    f"{nl_number(first['percentiel_nl'], 0)})"
                )
        return S.Veerkracht(
            beschikbaar=True,
            signaal=self._signaal(),
            samenstelling=str(s["samenstelling"]) if isinstance(s.get("samenstelling"), str) else None,
            assen=tuple(assen),
            vergelijking_noot=note,
            peiljaar=int(s["year"]),
            jaren=str(s.get("jaren", "") or ""),
            lbm2=lbm2,
            p_signaal=None if self.sens is None else float(self.sens["p_signaal"]),
            robuustheid=None if self.sens is None else str(self.sens["robuustheid"]),
            focus=focus,
            focusbuurten=fb,
            buurten=self._buurten(),
            synthetisch=bool(s["synthetic_inputs"]),
            drempels=drempels(),
        )

    def _unit(self, indicator: str) -> tuple[str, str]:
        spec = self.catalog.get(indicator, {})
        return spec.get("unit", ""), spec.get("label", indicator)

    def _goal_row(self, r) -> S.DoelRij:
        unit, label = self._unit(r.indicator)
        gap = r.doeltype == "pariteit"
        band = getattr(r, "kans_band", None)
        kans = "n.b." if band is None or pd.isna(band) else str(band)
        if pd.notna(r.prognose) and pd.notna(r.lo80):
            # the unit once, on the point forecast: "6,4 per 1.000 inwoners (80%-interval 0,9 tot 42,6)"
            bounds = [
                with_unit(v, unit, "", gap) if unit in ("%", "x 1.000 euro") else _signed(v, gap)
                for v in (r.lo80, r.hi80)
            ]
            prog = f"{with_unit(r.prognose, unit, label, gap)}"
            if gap:
                prog += " t.o.v. de gemeente"
            prog += f" (80%-interval {bounds[0]} tot {bounds[1]})"
        elif pd.notna(r.prognose):
            prog = f"{with_unit(r.prognose, unit, label, gap)} (waargenomen)"
        else:
            prog = "n.b."
        if gap:
            target = "verschil 0 met gemeente"
        elif pd.isna(r.doelwaarde_berekend):
            target = "n.b."
        else:
            target = with_unit(r.doelwaarde_berekend, unit, label)
        return S.DoelRij(
            doel_id=str(r.doel_id),
            tekst=str(r.tekst),
            gebied=str(r.gebied),
            status=str(r.status),
            synthetisch=bool(r.synthetic),
            kans=kans,
            prognose=prog,
            extrapolatie=getattr(r, "interval_soort", None) == "extrapolatie" and prog != "n.b.",
            doelwaarde=target,
            tempo=self._pace_cell(r, unit, label),
        )

    @staticmethod
    def _pace_cell(r, unit: str, label: str) -> str:
        need, seen = getattr(r, "benodigd_tempo_pct", None), getattr(r, "waargenomen_tempo_pct", None)
        if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
            return f"{nl_number(need, 1)}% / {nl_number(seen, 1)}%"
        need, seen = getattr(r, "benodigd_tempo", None), getattr(r, "waargenomen_tempo", None)
        if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
            w = unit_words(label, unit)
            words = f" {w}" if w else (" procentpunt" if unit == "%" else "")
            return f"{nl_number(need, 2)} / {nl_number(seen, 2)}{words}"
        return "n.b."

    def data_doelen(self) -> S.Doelen:
        if not self.programme:
            return S.Doelen(programma=False, programma_naam=programma_naam(), beschikbaar=False)
        from analysis.goals.forecast import TREND_LABEL

        if self.goal_rows is None:
            return S.Doelen(programma=True, programma_naam=programma_naam(), beschikbaar=False)
        if not self.goal_groups:
            links = []
            if self.level == "wijk":
                fb = self.reg[
                    (self.reg["level"] == "buurt")
                    & (self.reg["wijk_code"] == self.code)
                    & self.reg["focusgebied"].notna()
                ]
                for fg in dict.fromkeys(fb["focusgebied"]):
                    if fg in self.reg.index:
                        how = "exact" if self.reg.loc[fg, "mapping"] == "exact" else "benaderd"
                        links.append(S.FocusLink(str(self.reg.loc[fg, "name"]), self.link_to(fg), how))
            what = "wijk" if self.level == "wijk" else "buurt"
            reason = (
                f"Voor deze {what} gelden geen eigen programmadoelen. De doelen van het programma gaan "
                "over de focusgebieden en over alle focusbuurten samen; ze staan op de factsheets van "
                "die gebieden en van de gemeente."
            )
            return S.Doelen(
                programma=True,
                programma_naam=programma_naam(),
                beschikbaar=True,
                geen_doelen=reason,
                focusgebieden=tuple(links),
                trend_label=TREND_LABEL,
            )
        g = self.goal_rows[self.goal_rows["status"] != "niet meetbaar"]
        groups = []
        for head, region, together in self.goal_groups:
            part = g[g["region_code"] == region]
            if together:
                uitleg = (
                    "Deze doelen zijn gemeten op alle focusbuurten samen, niet op dit gebied apart."
                    if self.level != "focusgebied" or self.code != "FG00"
                    else "Gemeten op alle focusbuurten van het programma samen."
                )
            else:
                uitleg = ""
            rijen = tuple(self._goal_row(r) for r in part.itertuples())
            with_data = [r for r in rijen if r.prognose != "n.b."]
            groups.append(
                S.DoelGroep(
                    kop=head,
                    uitleg=uitleg,
                    rijen=rijen,
                    samen=together,
                    alle_synthetisch=bool(with_data) and all(r.synthetisch for r in with_data),
                )
            )
        csv = csv_download(
            self._goal_records(g), f"doelen-{self.code.lower()}.csv", "Download de doelen als CSV"
        )
        return S.Doelen(
            programma=True,
            programma_naam=programma_naam(),
            beschikbaar=True,
            groepen=tuple(groups),
            scenarios=self._scenarios(g),
            trend_label=TREND_LABEL,
            fan=self._fan(),
            csv=Markup(csv),
        )

    @staticmethod
    def _goal_records(g: pd.DataFrame) -> pd.DataFrame:
        """The goal table as shown, for the CSV download (P(met) only as its band, with its meaning)."""
        cols = {
            "doel_id": "doel",
            "gebied": "gebied",
            "status": "status",
            "kans_band": "kans_gehaald",
            "kans_betekenis": "betekenis_kans",
            "doeljaar": "doeljaar",
            "prognose": "prognose",
            "lo80": "interval80_laag",
            "hi80": "interval80_hoog",
            "interval_soort": "interval",
            "doelwaarde_berekend": "doelwaarde",
            "benodigd_tempo_pct": "benodigd_tempo_pct_per_jaar",
            "waargenomen_tempo_pct": "waargenomen_tempo_pct_per_jaar",
            "bron": "bron",
        }
        out = g[[c for c in cols if c in g]].rename(columns=cols)
        out.insert(3, "herkomst", np.where(g["synthetic"].fillna(False).astype(bool), "synthetisch", "echt"))
        if "bron" in out:
            out["bron"] = out["bron"].map(lambda b: plain(b) if isinstance(b, str) else b)
        return out

    def _scenarios(self, g: pd.DataFrame) -> tuple[S.Scenario, ...]:
        """Pace and scenarios for the real-data goals with a horizon beyond the tested one."""
        if "scenario_trend_zet_door" not in g:
            return ()
        out = []
        for r in g[g["scenario_trend_zet_door"].notna()].itertuples():
            if r.synthetic:
                continue
            unit, label = self._unit(r.indicator)
            pace = ""
            if pd.notna(r.benodigd_tempo_pct) and pd.notna(r.snelste_paneltempo_pct):
                pace = (
                    f"Nodig is {nl_number(r.benodigd_tempo_pct, 2)}% per jaar tot {int(r.doeljaar)}; "
                    f"waargenomen {nl_number(r.waargenomen_tempo_pct, 2)}% per jaar; de snelste "
                    f"aanhoudende verandering in het paneel was {nl_number(r.snelste_paneltempo_pct, 2)}% "
                    f"per jaar ({plain(r.paneltempo_bron)}). "
                )
            out.append(
                S.Scenario(
                    doel_id=str(r.doel_id),
                    gebied=str(r.gebied),
                    tempo=pace,
                    doeljaar=int(r.doeljaar),
                    trend=with_unit(r.scenario_trend_zet_door, unit, label),
                    halveert=with_unit(r.scenario_trend_halveert, unit, label),
                    beste=with_unit(r.scenario_beste_in_paneel, unit, label),
                    doel=with_unit(r.doelwaarde_berekend, unit, label),
                    gehaald=str(r.scenarios_gehaald),
                )
            )
        return tuple(out)

    def _fan(self) -> Markup | None:
        """The headline goal's fan chart (analysis.factsheets.charts.fan_chart_html) with its table."""
        if self.ctx.forecasts is None or not self.goal_groups:
            return None
        goal_id, region = (
            ("P2-03-GEM", self.code) if self.level == "gemeente" else ("P2-03", self.goal_regions[0])
        )
        fc = self.ctx.forecasts
        fc = fc[(fc["doel_id"] == goal_id) & (fc["region_code"] == region)]
        row = self.ctx.goals
        row = row[(row["doel_id"] == goal_id) & (row["region_code"] == region)]
        if fc.empty or row.empty:
            return None
        from analysis.factsheets.charts import fan_chart_html

        chart = fan_chart_html(
            _goal_catalog()[goal_id],
            region,
            str(self.reg.loc[region, "name"]),
            row.iloc[0].to_dict(),
            fc,
            self.catalog,
            headline=goal_id == "P2-03-GEM",
        )
        return Markup(chart.html)

    def data_kaart(self) -> S.Kaart:
        reg = self.ctx.regions
        if not has_geometry(reg[reg["level"] == "buurt"]) or not has_geometry(reg, self.code):
            return S.Kaart(
                figuur=None,
                melding=(
                    "Voor dit gebied is geen kaart beschikbaar: de gegevens bevatten geen gebiedsgrenzen "
                    "voor dit gebied."
                ),
            )
        fig, ax, pin = _locator_axes(self.ctx)
        me = reg[reg["region_code"] == self.code]
        if self.level != "gemeente":
            me.plot(ax=ax, color="#08519c", alpha=0.85)
        else:
            me.boundary.plot(ax=ax, color="#08519c", linewidth=2)
        pin()
        alt = (
            f"Kaart van de gemeente {self.gemeente_naam} met {self.name} in donkerblauw gemarkeerd; "
            "wijkgrenzen in grijs"
            + (", focusgebieden met een zwarte stippellijn." if self.programme else ".")
        )
        cap = "Bron: CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK), CC BY 4.0" + (
            "; focusgebieden: afbakening van het programma door de gemeente" if self.programme else ""
        )
        return S.Kaart(figuur=Markup(figure_html(fig, alt, cap, fmt="png")), melding=None)

    def data_bronnen(self) -> S.Colofon:
        from datetime import date

        from analysis.config import settings

        bronnen = tuple(
            S.Bron(
                tabel=plain(table),
                jaren=span,
                herkomst=origin_nl(origin),
                synthetisch=origin == "synthetic",
            )
            for table, span, origin in source_entries(self.used)
        )
        extra = []
        if self.score is not None:
            extra.append(
                f"Veerkrachtsignaal {int(self.score['year'])}: berekend uit indicatoren "
                f"({origin_nl(self.score['input_origins'])})"
            )
        if self.goal_rows is not None:
            for bron in sorted(set(self.goal_rows["bron"].dropna()) - {""}):
                extra.append(f"Doelprognoses: {plain(bron)}")
        c = settings().get("colofon") or {}
        contact = S.Contact(
            organisatie=c.get("organisatie") or f"Gemeente {self.gemeente_naam}",
            afdeling=c.get("afdeling"),
            email=c.get("email"),
            telefoon=c.get("telefoon"),
            url=c.get("url"),
            ingevuld=bool(c.get("ingevuld")),
        )
        today = date.today()
        return S.Colofon(
            gegevens_datum=dutch_date(self.ctx.manifest.get("built_at", "")),
            publicatie_datum=dutch_date(today.isoformat()),
            versie=package_version(),
            contact=contact,
            bronnen=bronnen,
            extra=tuple(extra),
        )

    # --- rendering -----------------------------------------------------------------------------

    def data(self, section: str):
        """The typed content of ``section`` (one of :attr:`SECTIONS`)."""
        if section not in self.SECTIONS:
            raise ValueError(f"unknown section {section!r}; one of {self.SECTIONS}")
        return getattr(self, f"data_{section}")()

    def html(self, section: str) -> str:
        return render(self.TEMPLATES[section], d=self.data(section), sheet=self._meta())

    def _meta(self) -> dict:
        return {"code": self.code, "naam": self.name, "niveau": self.level, "synthetisch": self.has_synthetic}

    def kop(self) -> str:
        return self.html("kop")

    def samenvatting(self) -> str:
        """The front page's summary block alone (text a test or a reader can check)."""
        return render("samenvatting.html.j2", d=self.data_kop(), sheet=self._meta())

    def kerncijfers(self) -> str:
        return self.html("kerncijfers")

    def tijdreeksen(self) -> str:
        return self.html("tijdreeksen")

    def veerkracht(self) -> str:
        return self.html("veerkracht")

    def doelen(self) -> str:
        return self.html("doelen")

    def kaart(self) -> str:
        return self.html("kaart")

    def bronnen(self) -> str:
        return self.html("bronnen")

    def display(self, section: str) -> None:
        from IPython.display import HTML, display

        display(HTML(self.html(section)))

    def render_all(self) -> str:
        """Every section in order: the plain-Python path (benchmark floor, no papermill)."""
        return "\n".join(self.html(s) for s in self.SECTIONS)
