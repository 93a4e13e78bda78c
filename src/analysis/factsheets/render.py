"""Presentation of a fact sheet: Jinja2 templates (``factsheets/templates/``) over typed section data.

* one :class:`jinja2.Environment` per process (templates are compiled once, then cached);
* ``autoescape=True``: every value from the data (area names, source texts) is escaped; only
  fragments built by our own code as HTML (figures as ``<figure>``, CSV download links, the
  synthetic badge) are passed in as :class:`markupsafe.Markup`, on purpose and nowhere else;
* ``StrictUndefined``: a misspelt field in a template is an error, not an empty cell.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from analysis.factsheets.fmt import SYNTH_BADGE, fmt_value, nl_number, with_unit

# the badge colour of each resilience signal: words AND colour (never colour alone)
SIGNAAL_BADGE = {"signaal": "rood", "aandacht": "oranje", "geen signaal": "neutraal"}
STATUS_KIND = {
    "op koers": "groen",
    "risico": "oranje",
    "niet op koers": "rood",
    "onvoldoende data": "grijs",
    "niet meetbaar": "grijs",
}


def _pct(value: float | None, decimals: int = 0) -> str:
    """A share as a percentage; never '100%' or '0%' for a share that is not exactly 1 or 0
    (0,996 -> '99,6%'), and 'n.b.' without a unit when missing."""
    if value is None or value != value:
        return "n.b."
    v = 100 * float(value)
    while decimals < 3 and nl_number(v, decimals) in (
        "100",
        "0",
        "100," + "0" * decimals,
        "0," + "0" * decimals,
    ):
        if v in (0.0, 100.0):
            break
        decimals += 1
    return nl_number(v, decimals) + "%"


def _dekking(value: float) -> str:
    """A coverage below 100% never reads as '100%': 0,998 -> '99,8%', 0,97 -> '97%'."""
    return _pct(value, 1 if value >= 0.995 else 0)


def _code(text: str) -> Markup:
    """Plain text with `command` spans (also written so in terminal messages) as HTML: escaped,
    each back-quoted span as <code> (a page never shows the back quotes themselves)."""
    parts = str(Markup.escape(text)).split("`")
    if len(parts) % 2 == 0:  # an unpaired back quote: text as it is
        return Markup.escape(text)
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("analysis.factsheets", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        nl=nl_number, waarde=fmt_value, met_eenheid=with_unit, pct=_pct, dekking=_dekking, code=_code
    )
    from analysis.figures import SYNTHETIC_STAMP

    env.globals.update(
        stamp=SYNTHETIC_STAMP,
        SYNTH_BADGE=Markup(SYNTH_BADGE),
        SIGNAAL_BADGE=SIGNAAL_BADGE,
        STATUS_KIND=STATUS_KIND,
    )
    return env


def render(template: str, **data) -> str:
    """Render ``templates/<template>`` with the section data (Markup only where the caller made it)."""
    return environment().get_template(template).render(**data)
