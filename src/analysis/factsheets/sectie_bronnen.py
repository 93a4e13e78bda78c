"""Bronnen: the colophon (sources per table, data and publication date, version, contact)."""

from __future__ import annotations

from analysis.factsheets import echt as E
from analysis.factsheets import sections as S
from analysis.factsheets.fmt import dutch_date, origin_nl, plain
from analysis.factsheets.gebied import Gebied, package_version
from analysis.figures import source_entries


def build(area: Gebied) -> S.Colofon:
    from datetime import date

    from analysis.config import settings

    bronnen = tuple(
        S.Bron(
            tabel=plain(table),
            jaren=span,
            herkomst=origin_nl(origin),
            synthetisch=origin == "synthetic",
        )
        for table, span, origin in source_entries(area.used)
    )
    extra = []
    if area.score is not None and E.alleen_synthetisch(area):  # national: no signal shown
        jaar = int(area.score["year"])
        extra.append(f"Veerkrachtsignaal {jaar}: niet getoond, al zijn invoer is synthetisch")
    elif area.score is not None:
        extra.append(
            f"Veerkrachtsignaal {int(area.score['year'])}: berekend uit indicatoren "
            f"({origin_nl(area.score['input_origins'])})"
        )
    if area.goal_rows is not None:
        for bron in sorted(set(area.goal_rows["bron"].dropna()) - {""}):
            extra.append(f"Doelprognoses: {plain(bron)}")
    c = settings().get("colofon") or {}
    contact = S.Contact(
        organisatie=c.get("organisatie") or f"Gemeente {area.gemeente_naam}",
        afdeling=c.get("afdeling"),
        email=c.get("email"),
        telefoon=c.get("telefoon"),
        url=c.get("url"),
        ingevuld=bool(c.get("ingevuld")),
    )
    today = date.today()
    return S.Colofon(
        gegevens_datum=dutch_date(area.ctx.manifest.get("built_at", "")),
        publicatie_datum=dutch_date(today.isoformat()),
        versie=package_version(),
        contact=contact,
        bronnen=bronnen,
        extra=tuple(extra),
        gegevens_stand=data_stand(area.used),
    )


def data_stand(used) -> str:
    """'echte cijfers t/m 2025; synthetische invulling t/m 2024': the newest year of the figures this
    sheet shows (the data's date, not the build date)."""
    if used is None or not len(used):
        return "n.b."
    synth = used["origin"] == "synthetic"
    parts = []
    if (~synth).any():
        parts.append(f"echte cijfers t/m {int(used.loc[~synth, 'year'].max())}")
    if synth.any():
        parts.append(f"synthetische invulling t/m {int(used.loc[synth, 'year'].max())}")
    return "; ".join(parts)
