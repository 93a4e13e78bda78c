"""Content of one fact sheet. All computation lives here; the notebook template only calls it.

A :class:`Sheet` selects every row it will show when it is created, so the synthetic banner, the
badges and the "Bronnen en methode" section all follow from the same selection.
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

from analysis.config import Paths, default_paths, indicator_catalog, programma_gemeente
from analysis.errors import InputError
from analysis.factsheets.fmt import (
    SYNTH_BADGE,
    badge,
    csv_download,
    dutch_date,
    esc,
    figure_html,
    fmt_value,
    nl_number,
    origin_nl,
    plain,
)
from analysis.figures import SYNTHETIC_STAMP, source_entries, sources_of

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
STATUS_KIND = {
    "op koers": "groen",
    "risico": "oranje",
    "niet op koers": "rood",
    "onvoldoende data": "grijs",
    "niet meetbaar": "grijs",
}


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


_CACHE: dict[tuple, Context] = {}


def _signature(paths: Paths) -> tuple:
    files = [
        paths.indicators,
        paths.regions,
        paths.outputs / "resilience" / "scores.parquet",
        paths.outputs / "goals" / "status.parquet",
    ]
    return tuple((str(f), f.stat().st_mtime_ns if f.exists() else None) for f in files)


def load_context(paths: Paths | None = None) -> Context:
    """Read the inputs; cached by file path and modification time so a reused kernel stays correct."""
    paths = paths or default_paths()
    key = _signature(paths)
    if key in _CACHE:
        return _CACHE[key]
    from analysis.processed.build import load_indicators, load_manifest, load_regions

    def opt(p: Path) -> pd.DataFrame | None:
        return pd.read_parquet(p) if p.exists() else None

    res, goals = paths.outputs / "resilience", paths.outputs / "goals"
    ctx = Context(
        indicators=load_indicators(paths),
        regions=load_regions(paths),
        scores=opt(res / "scores.parquet"),
        sensitivity=opt(res / "gevoeligheid.parquet"),
        goals=opt(goals / "status.parquet"),
        forecasts=opt(goals / "prognoses.parquet"),
        manifest=load_manifest(paths),
        paths=paths,
        national=opt(res / "nationaal_lbm2_niveau.parquet"),
    )
    _CACHE.clear()
    _CACHE[key] = ctx
    return ctx


MAP_SIZE, MAP_DPI = (6, 4.2), 96
_BASEMAP: dict[tuple, tuple] = {}


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


class Sheet:
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
        self.compare = [c for c in (code, self.wijk, self.gemeente, "NL00") if c]
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
        near = ind[ind["region_code"].isin(self.compare) & (ind["year"] <= self.year)]
        latest = (
            near[near["indicator"].isin(KEY_INDICATORS)]
            .sort_values("year")
            .groupby(["indicator", "region_code"])
            .tail(1)
            .set_index(["indicator", "region_code"], drop=False)
        )
        self.key = {
            (i, c): latest.loc[(i, c)] if (i, c) in latest.index else None
            for i in KEY_INDICATORS
            for c in self.compare
        }
        rows = [r for r in self.key.values() if r is not None]
        self.series_codes = [c for c in self.compare if c != "NL00"]
        self.series = near[
            near["region_code"].isin(self.series_codes) & near["indicator"].isin(SERIES_INDICATORS)
        ]
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
        self.goal_regions = self._goal_regions()
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

    def _goal_regions(self) -> list[str]:
        if self.level == "focusgebied":
            return [self.code]
        if self.level == "gemeente":
            return [self.code, "FG00"]
        if self.focus:
            return [self.focus]
        return ["FG00"]

    def name_of(self, code: str) -> str:
        return "Nederland" if code == "NL00" else str(self.reg.loc[code, "name"])

    # --- sections ----------------------------------------------------------------------------

    def kop(self) -> str:
        lvl = LEVEL_NL.get(self.level, self.level)
        parent = ""
        if self.level == "buurt":
            parent = f" in wijk {esc(self.reg.loc[self.wijk, 'name'])}"
        banner = ""
        if self.has_synthetic:
            banner = (
                f'<div class="banner-synthetic" role="alert"><strong>{esc(SYNTHETIC_STAMP)}.</strong> '
                "Deze pagina bevat synthetische waarden (gemarkeerd met "
                f"{SYNTH_BADGE}): echte buurtcijfers voor deze indicatoren waren offline niet "
                "beschikbaar. Gebruik ze niet voor beleid.</div>"
            )
        return (
            f'{banner}<header><p class="eyebrow">Factsheet Veerkrachtige Buurten {esc(self.gemeente_naam)} · '
            f"{esc(lvl)}{parent} · peiljaar {self.year}</p><h1>{esc(self.name)}</h1>"
            f'<p class="code">Gebiedscode {esc(self.code)}</p></header>{self.samenvatting()}'
        )

    def samenvatting(self) -> str:
        inw = self.key.get(("inwoners", self.code))
        hh = self.key.get(("huishoudens", self.code))
        parts = []
        if inw is not None:
            hh_txt = f" in {nl_number(hh['value'])} huishoudens" if hh is not None else ""
            parts.append(
                f"In {esc(self.name)} woonden in {int(inw['year'])} {nl_number(inw['value'])} mensen{hh_txt}."
            )
        if self.score is not None and isinstance(self.score.get("signaal"), str):
            reden = self.score.get("signaal_reden") or ""
            parts.append(
                f"Veerkrachtsignaal (t.o.v. de gemeente): <strong>{esc(self.score['signaal'])}</strong>"
                + (f" ({esc(reden)})" if reden else "")
                + "."
            )
        elif self.score is not None and isinstance(self.score.get("samenstelling"), str):
            parts.append(f"Samenstelling naar veerkrachtsignaal: {esc(self.score['samenstelling'])}.")
        elif self.score is not None:
            parts.append("Voor dit gebied is geen veerkrachtsignaal berekend (onvoldoende gegevens).")
        if self.level == "focusgebied":
            parts.append("Dit is een focusgebied van het programma.")
        elif self.focus:
            parts.append(f"Deze buurt hoort bij focusgebied {esc(self.reg.loc[self.focus, 'name'])}.")
        if self.goal_rows is not None and len(self.goal_rows):
            parts.append(self._goal_counts())
        synth = f" {SYNTH_BADGE}" if self.has_synthetic else ""
        return f'<p class="summary">{" ".join(parts)}{synth}</p>'

    def _goal_counts(self) -> str:
        """Goal statuses counted with real and synthetic series apart (never one mixed total)."""
        g = self.goal_rows
        g = g[~g["status"].isin(["niet meetbaar", "onvoldoende data"])]
        synth = g["synthetic"].fillna(False).astype(bool)
        out = []
        for label, part in (("echte", g[~synth]), ("synthetische", g[synth])):
            if len(part):
                on = int((part["status"] == "op koers").sum())
                out.append(f"{len(part)} op {label} reeksen, waarvan {on} op koers")
        if not out:
            return "Voor dit gebied heeft geen doel genoeg gegevens voor een prognose."
        return "Doelen met een prognose voor dit gebied: " + "; ".join(out) + "."

    def kerncijfers(self) -> str:
        names = {c: self.name_of(c) for c in self.compare}
        head = "".join(f"<th scope='col'>{esc(names[c])}</th>" for c in self.compare)
        body, records = [], []
        for i in KEY_INDICATORS:
            spec = self.catalog[i]
            cells = []
            for c in self.compare:
                r = self.key[(i, c)]
                if r is None:
                    cells.append("<td class='na'>n.b.</td>")
                    continue
                records.append(
                    {
                        "indicator": spec["label"],
                        "eenheid": spec["unit"],
                        "gebiedscode": c,
                        "gebied": names[c],
                        "jaar": int(r["year"]),
                        "waarde": float(r["value"]),
                        "voorlopig": "ja" if r["provisional"] else "nee",
                        "herkomst": "synthetisch" if r["origin"] == "synthetic" else "echt",
                        "bron": str(r["source_table"]),
                    }
                )
                extra = f"<sup>{int(r['year'])}</sup>" if int(r["year"]) != self.year else ""
                mark = SYNTH_BADGE if r["origin"] == "synthetic" else ""
                prov = " <abbr title='voorlopig cijfer'>*</abbr>" if r["provisional"] else ""
                cells.append(f"<td>{fmt_value(r['value'], spec['unit'])}{extra}{prov} {mark}</td>")
            body.append(f"<tr><th scope='row'>{esc(spec['label'])}</th>{''.join(cells)}</tr>")
        return (
            "<section><h2>Kerncijfers</h2><div class='scroll'><table class='kern'>"
            f"<thead><tr><th scope='col'>Indicator</th>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>"
            "<p class='note'>Superscript: jaar van het cijfer als dat afwijkt van het peiljaar. "
            "* voorlopig. Bronnen per cijfer: zie Bronnen en methode. "
            + csv_download(
                pd.DataFrame(records),
                f"kerncijfers-{self.code.lower()}.csv",
                "Download deze cijfers als CSV",
            )
            + "</p></section>"
        )

    def tijdreeksen(self) -> str:
        d = self.series
        if d.empty:
            return "<section><h2>Ontwikkeling</h2><p>Geen tijdreeksen beschikbaar.</p></section>"
        fig, axes = plt.subplots(2, 2, figsize=(9, 5.6), sharex=True)
        styles = {
            self.code: dict(color="#08519c", linewidth=2.4),
            self.gemeente: dict(color="#636363", linewidth=1.4, linestyle="--"),
        }
        if self.wijk:
            styles[self.wijk] = dict(color="#6baed6", linewidth=1.4)
        for ax, ind in zip(axes.flat, SERIES_INDICATORS, strict=True):
            for c in self.series_codes:
                s = d[(d["region_code"] == c) & (d["indicator"] == ind)].sort_values("year")
                if len(s):
                    ax.plot(s["year"], s["value"], label=self.name_of(c), **styles.get(c, {}))
            ax.set_title(self.catalog[ind]["label"], fontsize=9)
            ax.tick_params(labelsize=8)
        axes.flat[0].legend(fontsize=7)
        if self.has_synthetic:
            fig.text(
                0.5,
                0.995,
                SYNTHETIC_STAMP,
                ha="center",
                va="top",
                fontsize=8,
                color="white",
                weight="bold",
                bbox={"facecolor": "#b03a2e", "edgecolor": "none", "pad": 2},
            )
        # fixed margins: tight_layout would render the figure twice
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.06, top=0.88, hspace=0.3, wspace=0.18)
        first, last = int(d["year"].min()), int(d["year"].max())
        alt = (
            f"Vier lijngrafieken {first}-{last} voor {self.name} vergeleken met "
            f"{'de wijk en ' if self.wijk else ''}de gemeente: "
            + ", ".join(self._trend_phrase(i) for i in SERIES_INDICATORS)
            + "."
        )
        cap = "Bron: " + plain(sources_of(d))
        return f"<section><h2>Ontwikkeling</h2>{figure_html(fig, alt, cap)}</section>"

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

    def veerkracht(self) -> str:
        if self.score is None:
            return (
                "<section><h2>Veerkracht</h2><p>Nog geen veerkrachtanalyse beschikbaar "
                "(draai <code>veerkracht resilience</code>).</p></section>"
            )
        s = self.score
        mark = SYNTH_BADGE if s["synthetic_inputs"] else ""
        sig = s.get("signaal") if isinstance(s.get("signaal"), str) else None
        lines = []
        if sig is not None:
            lines.append(
                f"<p class='klasse klasse-{esc(sig).replace(' ', '-')}'>Signaal (t.o.v. gemeente): "
                f"<strong>{esc(sig)}</strong> {mark}</p>"
            )
        elif isinstance(s.get("samenstelling"), str):
            lines.append(
                f"<p>Samenstelling naar signaal van de buurten: {esc(s['samenstelling'])} {mark}</p>"
            )
        rows = []
        for axis, naam in (
            ("A", "A: concentratie lage zelfredzaamheid (hoger = meer)"),
            ("B", "B: uitkomst leefbaarheid en veiligheid (hoger = beter)"),
        ):
            cells = []
            for ref in ("gemeente", "nederland"):
                lv, tr = s.get(f"{axis}_niveau_{ref}"), s.get(f"{axis}_trend_{ref}")
                cells.append(
                    f"<td>{nl_number(lv, 2)} ({esc(s.get(f'{axis}_niveauklasse_{ref}', 'n.b.'))})</td>"
                    f"<td>{nl_number(tr, 2)} ({esc(s.get(f'{axis}_trendklasse_{ref}', 'n.b.'))})</td>"
                )
            if any(pd.notna(s.get(f"{axis}_niveau_{r}")) for r in ("gemeente", "nederland")):
                rows.append(f"<tr><th scope='row'>{esc(naam)}</th>{''.join(cells)}</tr>")
        ref_note = (
            "t.o.v. de buurten van de gemeente"
            if self.level == "buurt"
            else "t.o.v. gebieden van hetzelfde niveau (geen verdunde buurtschaal)"
        )
        if rows:
            lines.append(
                "<table><thead><tr><th>As</th><th>Niveau t.o.v. gemeente</th>"
                "<th>Verandering t.o.v. gemeente</th>"
                "<th>Niveau t.o.v. Nederland</th><th>Verandering t.o.v. Nederland</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>"
                f"<p class='note'>Standaarddeviaties {esc(ref_note)}; peiljaar {int(s['year'])}, "
                f"verandering over {esc(s.get('jaren', ''))}. Signaal = A hoog én (A stijgend of B laag of "
                "B dalend). Corporatiebezit, WOZ en leeftijdsopbouw tellen niet mee (alleen context).</p>"
            )
        lines.append("<ul>")
        nat = self.ctx.national
        if nat is not None and self.level in ("wijk", "gemeente"):
            k = nat[(nat["region_code"] == self.code) & (nat["maat"] == "klasse (1-9)")].sort_values("year")
            if len(k):
                first, last = k.iloc[0], k.iloc[-1]
                what = "wijken" if self.level == "wijk" else "gemeenten"
                lines.append(
                    f"<li>Leefbaarometer 2.0 (echte cijfers, Ministerie van BZK, meting 2016): klasse "
                    f"{int(last['value'])} in {int(last['year'])}, percentiel "
                    f"{nl_number(last['percentiel_nl'], 0)} onder alle Nederlandse {what} (hoger = beter; "
                    f"{int(first['year'])}: klasse {int(first['value'])}, percentiel "
                    f"{nl_number(first['percentiel_nl'], 0)})</li>"
                )
        if self.sens is not None:
            lines.append(
                f"<li>Kans op een signaal bij andere gewichten, indicatorsets, drempels (± een stap) en "
                f"binnen betrouwbaarheidsgrenzen: <strong>{nl_number(100 * self.sens['p_signaal'], 0)}%"
                f"</strong> ({esc(self.sens['robuustheid'])})</li>"
            )
        if self.level == "buurt" and self.programme:
            if self.focus:
                fg = self.reg.loc[self.focus]
                how = "exact" if fg["mapping"] == "exact" else "benaderd (door de gemeente te bevestigen)"
                lines.append(
                    f"<li>Focusbuurt van het programma: ja, {esc(fg['name'])} (koppeling {how})</li>"
                )
            else:
                lines.append("<li>Focusbuurt van het programma: nee</li>")
        if self.level == "wijk" and self.programme:
            fb = self.reg[
                (self.reg["level"] == "buurt")
                & (self.reg["wijk_code"] == self.code)
                & self.reg["focusgebied"].notna()
            ]
            names = ", ".join(esc(n) for n in fb["name"]) or "geen"
            lines.append(f"<li>Focusbuurten in deze wijk: {names}</li>")
        lines.append("</ul>")
        if s["synthetic_inputs"]:
            lines.append(
                "<p class='note'>Het signaal is berekend op synthetische invoer: een "
                "methodedemonstratie, geen bevinding over dit gebied.</p>"
            )
        return "<section><h2>Veerkracht</h2>" + "".join(lines) + "</section>"

    def doelen(self) -> str:
        if not self.programme:
            return (
                "<section><h2>Programmadoelen</h2><p>Geen focusgebieden/programmadoelen voor deze "
                f"gemeente: het programma Veerkrachtige Buurten en zijn doelen gelden alleen voor "
                f"{esc(programma_naam())}.</p></section>"
            )
        from analysis.goals.forecast import TREND_LABEL

        if self.goal_rows is None:
            return (
                "<section><h2>Programmadoelen</h2><p>Nog geen doelanalyse beschikbaar "
                "(draai <code>veerkracht goals</code>).</p></section>"
            )
        g = self.goal_rows[self.goal_rows["status"] != "niet meetbaar"]
        where = ", ".join(esc(self.reg.loc[c, "name"]) for c in self.goal_regions if c in self.reg.index)
        if self.level == "gemeente":
            note = f"<p class='note'>Doelen voor {where}.</p>"
        elif self.level == "focusgebied" or self.focus:
            note = ""
        else:
            note = (
                f"<p class='note'>Dit gebied is geen focusgebied; getoond worden de doelen voor {where}.</p>"
            )
        rows = []
        for r in g.itertuples():
            band = getattr(r, "kans_band", None)
            p = "n.b." if band is None or pd.isna(band) else esc(band)
            unit = self.catalog[r.indicator]["unit"] if r.indicator in self.catalog else ""
            if pd.notna(r.prognose) and pd.notna(r.lo80):
                ext = " <em>extrapolatie</em>" if getattr(r, "interval_soort", None) == "extrapolatie" else ""
                prog = (
                    f"{fmt_value(r.prognose, unit)} ({fmt_value(r.lo80, unit)} tot "
                    f"{fmt_value(r.hi80, unit)}){ext}"
                )
            elif pd.notna(r.prognose):
                prog = f"{fmt_value(r.prognose, unit)} (waargenomen)"
            else:
                prog = "n.b."
            target = "n.b." if pd.isna(r.doelwaarde_berekend) else fmt_value(r.doelwaarde_berekend, unit)
            if r.doeltype == "pariteit":
                target = "verschil 0 met gemeente"
            mark = SYNTH_BADGE if r.synthetic else ""
            rows.append(
                f"<tr><td>{esc(r.doel_id)}</td><td>{esc(r.tekst)}</td><td>{esc(r.gebied)}</td>"
                f"<td>{badge(r.status, STATUS_KIND.get(r.status, 'grijs'))} {mark}</td><td>{p}</td>"
                f"<td>{prog}</td><td>{target}</td><td>{self._pace_cell(r, unit)}</td></tr>"
            )
        table = (
            "<div class='scroll'><table class='doelen'><thead><tr><th>Doel</th><th>Tekst</th>"
            "<th>Gebied</th><th>Status</th><th>Kans gehaald*</th><th>Prognose doeljaar (80%)</th>"
            f"<th>Doelwaarde</th><th>Tempo per jaar: nodig / gezien</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>"
            f"<p class='note'>* {esc(TREND_LABEL)}; alleen in banden (&lt; 5%, 5–30%, 30–70%, &gt; 70%). "
            "<em>extrapolatie</em>: het doeljaar ligt verder weg dan de 6 jaar waarop de intervallen "
            "getoetst zijn; lees dan de scenario's. "
            "<a href='methode/methode_prognoses.html'>Methode prognoses</a>. "
            + csv_download(
                self._goal_records(g), f"doelen-{self.code.lower()}.csv", "Download de doelen als CSV"
            )
            + "</p>"
        )
        return f"<section><h2>Programmadoelen</h2>{note}{table}{self._scenarios(g)}{self._fan()}</section>"

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
        return out

    @staticmethod
    def _pace_cell(r, unit: str) -> str:
        need, seen = getattr(r, "benodigd_tempo_pct", None), getattr(r, "waargenomen_tempo_pct", None)
        if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
            return f"{nl_number(need, 1)}% / {nl_number(seen, 1)}%"
        need, seen = getattr(r, "benodigd_tempo", None), getattr(r, "waargenomen_tempo", None)
        if need is not None and pd.notna(need) and seen is not None and pd.notna(seen):
            return f"{nl_number(need, 2)} / {nl_number(seen, 2)}"
        return "n.b."

    def _scenarios(self, g: pd.DataFrame) -> str:
        """Pace and scenario sentences for the real-data goals with a horizon beyond the tested one."""
        if "scenario_trend_zet_door" not in g:
            return ""
        items = []
        for r in g[g["scenario_trend_zet_door"].notna()].itertuples():
            if r.synthetic:
                continue
            unit = self.catalog[r.indicator]["unit"] if r.indicator in self.catalog else ""
            pace = ""
            if pd.notna(r.benodigd_tempo_pct) and pd.notna(r.snelste_paneltempo_pct):
                pace = (
                    f"Nodig is {nl_number(r.benodigd_tempo_pct, 2)}% per jaar tot {int(r.doeljaar)}; "
                    f"waargenomen {nl_number(r.waargenomen_tempo_pct, 2)}% per jaar; de snelste "
                    f"aanhoudende verandering in het paneel was {nl_number(r.snelste_paneltempo_pct, 2)}% "
                    f"per jaar ({esc(r.paneltempo_bron)}). "
                )
            items.append(
                f"<li><strong>{esc(r.doel_id)} {esc(r.gebied)}</strong>: {pace}Scenario's voor "
                f"{int(r.doeljaar)}: trend zet door {fmt_value(r.scenario_trend_zet_door, unit)}, trend "
                f"halveert {fmt_value(r.scenario_trend_halveert, unit)}, snelste verbetering in het paneel "
                f"{fmt_value(r.scenario_beste_in_paneel, unit)}; doel "
                f"{fmt_value(r.doelwaarde_berekend, unit)} "
                f"(gehaald in scenario: {esc(r.scenarios_gehaald)}).</li>"
            )
        if not items:
            return ""
        return "<h3>Tempo en scenario's (echte reeksen)</h3><ul>" + "".join(items) + "</ul>"

    def _fan(self) -> str:
        if self.ctx.forecasts is None:
            return ""
        goal_id, region = (
            ("P2-03-GEM", self.code) if self.level == "gemeente" else ("P2-03", self.goal_regions[0])
        )
        fc = self.ctx.forecasts
        fc = fc[(fc["doel_id"] == goal_id) & (fc["region_code"] == region)]
        row = self.ctx.goals
        row = row[(row["doel_id"] == goal_id) & (row["region_code"] == region)]
        if fc.empty or row.empty:
            return ""
        from analysis.goals.figures import fan_chart

        goal = _goal_catalog()[goal_id]
        r = row.iloc[0].to_dict()
        fig = fan_chart(
            goal,
            region,
            str(self.reg.loc[region, "name"]),
            r,
            fc,
            headline=goal_id == "P2-03-GEM",
            tight=False,
        )
        alt = (
            f"Waaiergrafiek voor doel {goal_id} in {self.reg.loc[region, 'name']}: waarnemingen "
            f"{int(r['eerste_jaar'])}-{int(r['laatste_jaar'])}, prognose tot {goal.doeljaar} met 80%- en "
            f"95%-intervallen ({r['interval_soort']}), scenario's en het doel; status {r['status']}, kans "
            f"gehaald {r['kans_band']} ({r['kans_betekenis']})."
        )
        return figure_html(fig, alt, "Bron: " + plain(r["bron"]))

    def kaart(self) -> str:
        if self.ctx.regions.geometry.is_empty.all():  # national scope: no polygons held offline
            return (
                '<section class="ligging"><h2>Ligging</h2><p>Geen kaart: voor deze gemeente zijn geen '
                "gebiedsgrenzen beschikbaar (landelijke gegevens zonder kaartbestand).</p></section>"
            )
        fig, ax, pin = _locator_axes(self.ctx)
        reg = self.ctx.regions
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
        return f'<section class="ligging"><h2>Ligging</h2>{figure_html(fig, alt, cap, fmt="png")}</section>'

    def bronnen(self) -> str:
        """Plain Dutch colophon; table ids and origins in a collapsed 'Technische verantwoording'."""
        items = []
        for table, span, origin in source_entries(self.used):
            mark = f" {SYNTH_BADGE}" if origin == "synthetic" else ""
            items.append(f"<li>{esc(plain(table))}: {esc(span)} ({esc(origin_nl(origin))}){mark}</li>")
        if self.score is not None:
            items.append(
                f"<li>Veerkrachtsignaal {int(self.score['year'])}: berekend uit indicatoren "
                f"({esc(origin_nl(self.score['input_origins']))})</li>"
            )
        if self.goal_rows is not None:
            for bron in sorted(set(self.goal_rows["bron"].dropna()) - {""}):
                items.append(f"<li>Doelprognoses: {esc(plain(bron))}</li>")
        built = dutch_date(self.ctx.manifest.get("built_at", ""))
        return (
            "<section class='bronnen'><h2>Bronnen en methode</h2>"
            "<p>Cijfers van het Centraal Bureau voor de Statistiek (CBS), CC BY 4.0, en de Leefbaarometer "
            "(ministerie van BZK). Een echt cijfer komt uit een meegeleverde echte publicatie; "
            "waar wij geen echt cijfer hebben staat een synthetische invulling, met het label "
            f"{SYNTH_BADGE}: dat is geen echt cijfer. "
            "Methode: <a href='methode/methode_veerkracht.html'>veerkrachtsignaal</a>, "
            "<a href='methode/methode_prognoses.html'>prognoses en doelstatus</a>, "
            "<a href='methode/data_log.html'>datalog</a>. "
            f"Gegevens bijgewerkt op {esc(built)}.</p>"
            "<details><summary>Technische verantwoording</summary>"
            "<p>Per bron: CBS-tabelnummer of naam van de publicatie, de jaren en de herkomst.</p>"
            "<ul>" + "".join(items) + "</ul></details></section>"
        )

    SECTIONS = ("kop", "kerncijfers", "tijdreeksen", "veerkracht", "doelen", "kaart", "bronnen")

    def display(self, section: str) -> None:
        from IPython.display import HTML, display

        display(HTML(getattr(self, section)()))

    def render_all(self) -> str:
        """Every section in order: the plain-Python path (benchmark floor, no papermill)."""
        return "\n".join(getattr(self, s)() for s in self.SECTIONS)
