"""The area a fact sheet is about and everything it selects for its sections.

A :class:`Gebied` selects every row it will show when it is created, so the synthetic banner, the
labels and the colophon all follow from the same selection. The sections
(the ``sectie_*`` modules) each turn it into a typed record.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from analysis.config import indicator_catalog, programma_gemeente
from analysis.errors import InputError
from analysis.factsheets import sections as S
from analysis.factsheets.cijfers import bevolking, kern_rij, regio_namen
from analysis.factsheets.context import Context
from analysis.factsheets.rivm import rivm_key_indicators
from analysis.processed.disclosure import hidden_year, partner_key_indicators

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


def goal_catalog() -> dict:
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
    """The project's version: one source, ``analysis.__version__`` (pyproject reads it too), so it
    does not depend on which distribution name an older install left in the environment."""
    from analysis import __version__

    return __version__


def sheet_slug(code: str, name: str) -> str:
    from analysis.factsheets.runner import slugify

    return f"{code.lower()}-{slugify(name)}.html"


@cache
def key_explanations() -> tuple:
    """The explanations of the key figures ("Wat betekenen deze cijfers?"), built once per process."""
    from analysis.factsheets.explain import explanations

    return tuple(explanations(KEY_INDICATORS))


class Gebied:
    """One area (buurt, wijk, focusgebied or gemeente) with its comparison areas and selected rows."""

    def __init__(self, ctx: Context, code: str, year: int | None = None):
        reg = ctx.regions.set_index("region_code")
        if code not in reg.index:
            raise InputError(f"onbekende gebiedscode {code!r} (niet in {ctx.paths.regions})")
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
        # the unit the signal rule compares: buurten, or wijken in a run without buurten (national)
        self.eenheid = "buurt" if (reg["level"] == "buurt").any() else "wijk"
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

    # --- selection -------------------------------------------------------------------------

    def _select(self) -> None:
        ind = self.ctx.indicators
        mine = ind[ind["region_code"].isin(self.compare)]
        self.population = bevolking(ind, self.code)
        self.key: dict[str, tuple[int | None, dict]] = {}
        rows = []
        # partner indicators (config/indicators.yaml `source:`) follow the fixed key figures
        self.key_indicators = KEY_INDICATORS + partner_key_indicators(self.catalog, ind, self.ctx.suppressed)
        self.rivm_indicators = rivm_key_indicators(ind, self.code, self.catalog)  # when the data hold them
        self.key_indicators += self.rivm_indicators
        for i in self.key_indicators:
            pop_year = self.population.jaar_van(i) if self.population else None
            year, cells = kern_rij(mine, i, self.code, self.compare, self.year, pop_year)
            later = hidden_year(self.ctx.suppressed, i, self.code, year) if i not in KEY_INDICATORS else None
            if later is not None:  # the area's latest cell is hidden: show that year ("< 10")
                at = mine[(mine["indicator"] == i) & (mine["year"] == later)]
                year = later
                cells = {
                    c: (at[at["region_code"] == c].iloc[-1] if (at["region_code"] == c).any() else None)
                    for c in self.compare
                }
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

    def unit(self, indicator: str) -> tuple[str, str]:
        spec = self.catalog.get(indicator, {})
        return spec.get("unit", ""), spec.get("label", indicator)
