"""Content of one fact sheet: selection and computation. The notebook template only calls it.

A :class:`Sheet` is a :class:`~analysis.factsheets.gebied.Gebied` (the area and every row it
selects) that renders its sections. Each section is one module ``analysis.factsheets.sectie_<naam>``
whose ``build(area)`` returns a frozen dataclass (:mod:`analysis.factsheets.sections`) rendered by a
Jinja2 template (:mod:`analysis.factsheets.render`, ``factsheets/templates/``): ``Sheet.kop()`` etc.
return HTML, ``Sheet.data("kop")`` the data behind it.
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt

from analysis.config import Paths
from analysis.factsheets import sectie_bronnen as bronnen
from analysis.factsheets import sectie_doelen as doelen
from analysis.factsheets import sectie_kaart as kaart
from analysis.factsheets import sectie_kerncijfers as kerncijfers
from analysis.factsheets import sectie_kop as kop
from analysis.factsheets import sectie_tijdreeksen as tijdreeksen
from analysis.factsheets import sectie_veerkracht as veerkracht
from analysis.factsheets import sections as S
from analysis.factsheets.chart_base import store_at
from analysis.factsheets.context import Context, load_context
from analysis.factsheets.gebied import (
    COMPARE_REGIONS,
    KEY_INDICATORS,
    LEVEL_NL,
    SERIES_INDICATORS,
    Gebied,
    drempels,
    goal_catalog,
    key_explanations,
    package_version,
    programma_naam,
    sheet_slug,
)
from analysis.factsheets.render import render
from analysis.factsheets.sectie_kaart import _locator_axes, has_geometry
from analysis.theme import apply_theme

__all__ = [
    "COMPARE_REGIONS",
    "KEY_INDICATORS",
    "LEVEL_NL",
    "SERIES_INDICATORS",
    "Context",
    "Sheet",
    "drempels",
    "has_geometry",
    "key_explanations",
    "load_context",
    "package_version",
    "programma_naam",
    "reset_plotting",
    "sheet_slug",
    "warm_up",
]


def reset_plotting() -> None:
    """Same matplotlib state for every sheet, whichever sheet ran before in this kernel."""
    plt.close("all")
    matplotlib.rcdefaults()
    matplotlib.use("Agg")
    apply_theme()


def _paths(paden: dict[str, str] | None) -> Paths | None:
    """Paths handed over by the batch runner as notebook parameters (None: the defaults)."""
    if not paden:
        return None
    from analysis.factsheets.execution import paths_from_params

    return paths_from_params(paden)


def warm_up(paden: dict[str, str] | None = None) -> None:
    """Load tables, goal catalogue and base map once (a kernel runs this before its first sheet)."""
    reset_plotting()
    ctx = load_context(_paths(paden))
    if has_geometry(ctx.regions[ctx.regions["level"] == "buurt"]):
        _locator_axes(ctx)
    goal_catalog()
    import analysis.goals.figures  # noqa: F401  (fan charts)

    plt.close("all")


class Sheet(Gebied):
    reuse_charts = None  # outputs folder whose chart store this sheet uses (set by Sheet.load)
    SECTIONS = ("kop", "kerncijfers", "tijdreeksen", "veerkracht", "doelen", "kaart", "bronnen")
    TEMPLATES = {s: f"{s}.html.j2" for s in SECTIONS}

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
        sheet = cls(load_context(_paths(paden)), code, year)
        sheet.reuse_charts = sheet.ctx.paths.outputs  # charts drawn before with the same inputs
        return sheet

    # --- section data ------------------------------------------------------------------------

    def data_kop(self) -> S.Kop:
        return kop.build(self)

    def data_kerncijfers(self) -> S.Kerncijfers:
        return kerncijfers.build(self)

    def data_tijdreeksen(self) -> S.Tijdreeksen:
        return tijdreeksen.build(self)

    def data_veerkracht(self) -> S.Veerkracht:
        return veerkracht.build(self)

    def data_doelen(self) -> S.Doelen:
        return doelen.build(self)

    def data_kaart(self) -> S.Kaart:
        return kaart.build(self)

    def data_bronnen(self) -> S.Colofon:
        return bronnen.build(self)

    # --- rendering -----------------------------------------------------------------------------

    def data(self, section: str):
        """The typed content of ``section`` (one of :attr:`SECTIONS`)."""
        if section not in self.SECTIONS:
            raise ValueError(f"onbekende sectie {section!r}; kies uit {self.SECTIONS}")
        with store_at(self.reuse_charts):  # a sheet made by Sheet.load reuses its stored charts
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
