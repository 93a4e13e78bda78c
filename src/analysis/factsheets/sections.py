"""The content of a fact sheet as typed data: one frozen dataclass per section.

:class:`analysis.factsheets.sheet.Sheet` fills them (selection and computation); the Jinja2 templates in
``factsheets/templates/`` turn them into HTML (presentation). Values are plain data; the only HTML in
them is marked :class:`markupsafe.Markup` on purpose (figures, CSV links), everything else is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from analysis.factsheets.cijfers import Bevolking
from analysis.factsheets.explain import Explanation


@dataclass(frozen=True)
class Drempels:
    """Thresholds of the signal (from config/resilience.yaml), in standard deviations."""

    niveau: float
    verandering: float
    jaren: int


@dataclass(frozen=True)
class Signaal:
    woord: str  # signaal | aandacht | geen signaal
    kleur: str  # badge kind: rood | oranje | neutraal
    redenen: tuple[str, ...]  # the conditions met, in words
    vergeleken_met: str  # "de buurten van de gemeente" / "wijken van de gemeente"
    p_signaal: float | None  # share of sensitivity draws with a signal (buurten)
    robuustheid: str | None
    synthetisch: bool


@dataclass(frozen=True)
class Bijdrage:
    label: str
    as_naam: str
    richting: str  # ongunstig | gunstig
    waarde: float  # share of the axis level (SD units)


@dataclass(frozen=True)
class Focus:
    is_focus: bool
    naam: str | None = None
    koppeling: str | None = None  # exact | benaderd
    link: str | None = None
    tekst: str = ""


@dataclass(frozen=True)
class Kop:
    """Front page: what a wethouder reads in 30 seconds."""

    naam: str
    code: str
    niveau: str
    ouder: str | None  # "wijk Noord" for a buurt
    gemeente_naam: str
    peiljaar: int
    synthetisch: bool
    bevolking: Bevolking | None
    signaal: Signaal | None
    samenstelling: str | None
    aandeel_signaal: float | None  # aggregates: share of inhabitants in buurten with a signal
    geen_score: str | None  # why there is no signal
    drempels: Drempels
    bijdragen: tuple[Bijdrage, ...]
    bijdragen_synthetisch: bool
    focus: Focus | None
    doelen_tekst: str | None
    heeft_analyse: bool


@dataclass(frozen=True)
class Cel:
    waarde: str  # formatted, or "n.b."
    synthetisch: bool = False
    voorlopig: bool = False
    dekking: float | None = None  # < 1: an aggregate that covers part of the area


@dataclass(frozen=True)
class KernRij:
    indicator: str
    label: str
    jaar: int | None
    cellen: tuple[Cel, ...]
    synthetisch: bool  # one or more shown figures in this row are synthetic


@dataclass(frozen=True)
class Kerncijfers:
    gebieden: tuple[str, ...]
    echt: tuple[KernRij, ...]
    synthetisch: tuple[KernRij, ...]
    dekking_onder_100: bool
    echt_in_synthetisch: bool  # a real figure stands in a row with synthetic ones (marked "echt")
    csv: Markup
    uitleg: tuple[Explanation, ...] = ()  # per-indicator explanations (factsheets.explain)


@dataclass(frozen=True)
class Tijdreeksen:
    figuur: Markup | None  # a pre-rendered <figure> (today's chart, or charts.series_chart)


@dataclass(frozen=True)
class AsRij:
    naam: str
    cellen: tuple[tuple[str, str], ...]  # (level (class), change (class)) per reference


@dataclass(frozen=True)
class BuurtSignaal:
    naam: str
    code: str
    woord: str  # signaal | aandacht | geen signaal | niet gescoord
    kleur: str
    link: str | None  # its sheet, when it has one
    inwoners: float | None


@dataclass(frozen=True)
class Veerkracht:
    beschikbaar: bool
    signaal: Signaal | None
    samenstelling: str | None
    assen: tuple[AsRij, ...]
    vergelijking_noot: str
    peiljaar: int | None
    jaren: str
    lbm2: str | None
    p_signaal: float | None
    robuustheid: str | None
    focus: Focus | None
    focusbuurten: tuple[str, ...] | None  # wijk: names of its focus buurten
    buurten: tuple[BuurtSignaal, ...]  # wijk: its buurten with their signal
    synthetisch: bool
    drempels: Drempels


@dataclass(frozen=True)
class DoelRij:
    doel_id: str
    tekst: str
    gebied: str
    status: str
    synthetisch: bool
    kans: str
    prognose: str
    extrapolatie: bool  # target year beyond the horizon the intervals were tested on
    doelwaarde: str
    tempo: str


@dataclass(frozen=True)
class DoelGroep:
    kop: str
    uitleg: str
    rijen: tuple[DoelRij, ...]
    samen: bool  # measured on all focus buurten together, not on this area
    alle_synthetisch: bool = False  # every row with a forecast rests on synthetic series: one label


@dataclass(frozen=True)
class Scenario:
    doel_id: str
    gebied: str
    tempo: str
    doeljaar: int
    trend: str
    halveert: str
    beste: str
    doel: str
    gehaald: str


@dataclass(frozen=True)
class FocusLink:
    naam: str
    link: str | None
    koppeling: str


@dataclass(frozen=True)
class NietMeetbaar:
    """A goal no data measures yet: what is needed and who holds it (config/doelen.yaml)."""

    doel_id: str
    tekst: str
    nodig: str
    bij_wie: str


@dataclass(frozen=True)
class Doelen:
    programma: bool
    programma_naam: str
    beschikbaar: bool
    groepen: tuple[DoelGroep, ...] = ()
    geen_doelen: str | None = None  # why no goal applies to this area
    focusgebieden: tuple[FocusLink, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    trend_label: str = ""
    fan: Markup | None = None
    csv: Markup | None = None
    niet_meetbaar: tuple[NietMeetbaar, ...] = ()  # the programme's goals without data (issue 21)
    rapportage: str | None = None  # link to the voortgangsrapportage (all goals), when written


@dataclass(frozen=True)
class Kaart:
    figuur: Markup | None
    melding: str | None  # plain Dutch when there is no map (no geometry)


@dataclass(frozen=True)
class Bron:
    tabel: str
    jaren: str
    herkomst: str
    synthetisch: bool


@dataclass(frozen=True)
class Contact:
    organisatie: str
    afdeling: str | None
    email: str | None
    telefoon: str | None
    url: str | None
    ingevuld: bool


@dataclass(frozen=True)
class Colofon:
    gegevens_datum: str
    publicatie_datum: str
    versie: str
    contact: Contact
    bronnen: tuple[Bron, ...] = field(default_factory=tuple)
    extra: tuple[str, ...] = ()  # signal and goal sources, in words
