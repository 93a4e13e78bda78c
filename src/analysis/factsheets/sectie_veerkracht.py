"""Veerkracht: the resilience signal, its two axes and the buurten of a wijk."""

from __future__ import annotations

import pandas as pd

from analysis.factsheets import echt as E
from analysis.factsheets import sections as S
from analysis.factsheets.fmt import samenstelling_nl
from analysis.factsheets.gebied import Gebied, drempels
from analysis.factsheets.oordeel import klasse_getal
from analysis.factsheets.render import SIGNAAL_BADGE
from analysis.factsheets.sectie_kop import focus_of, signal_of


def buurten_of(area: Gebied) -> tuple[S.BuurtSignaal, ...]:
    """A wijk's buurten with their signal (word + colour + link to the buurt's sheet)."""
    if area.level != "wijk":
        return ()
    b = area.reg[(area.reg["level"] == "buurt") & (area.reg["wijk_code"] == area.code)]
    scores = None if area.ctx.scores is None else area.ctx.scores.set_index("region_code")
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
                link=area.link_to(code),
                inwoners=None if pd.isna(r["inwoners"]) else float(r["inwoners"]),
            )
        )
    return tuple(out)


def build(area: Gebied) -> S.Veerkracht:
    s = area.score
    focus = focus_of(area)
    fb = None
    if area.level == "wijk" and area.programme:
        rows = area.reg[
            (area.reg["level"] == "buurt")
            & (area.reg["wijk_code"] == area.code)
            & area.reg["focusgebied"].notna()
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
            buurten=buurten_of(area),
            synthetisch=False,
            drempels=drempels(),
            eenheid=area.eenheid,
        )
    vraagt = E.vraagt_echte_cijfers(area)  # all inputs synthetic (national): no finding shown
    assen = []
    for axis, naam in (
        ("A", "A: concentratie lage zelfredzaamheid (hoger = meer)"),
        ("B", "B: uitkomst leefbaarheid en veiligheid (hoger = beter)"),
    ):
        if vraagt or not any(pd.notna(s.get(f"{axis}_niveau_{r}")) for r in ("gemeente", "nederland")):
            continue
        cells = []
        for ref in ("gemeente", "nederland"):
            lv, tr = s.get(f"{axis}_niveau_{ref}"), s.get(f"{axis}_trend_{ref}")
            lk, tk = s.get(f"{axis}_niveauklasse_{ref}"), s.get(f"{axis}_trendklasse_{ref}")
            t = drempels()
            lk, tk = (k if isinstance(k, str) else None for k in (lk, tk))
            cells.append(
                (
                    f"{klasse_getal(lv, lk, t.niveau)} ({lk or 'n.b.'})",
                    f"{klasse_getal(tr, tk, t.verandering, trend=True)} ({tk or 'n.b.'})",
                )
            )
        assen.append(S.AsRij(naam=naam, cellen=tuple(cells)))
    note = (
        f"t.o.v. de {area.eenheid}en van de gemeente"
        if area.level == area.eenheid
        else "t.o.v. gebieden van hetzelfde niveau (geen verdunde buurtschaal)"
    )
    return S.Veerkracht(
        beschikbaar=True,
        signaal=signal_of(area),
        samenstelling=samenstelling_nl(str(s["samenstelling"]))
        if isinstance(s.get("samenstelling"), str) and not vraagt
        else None,
        assen=tuple(assen),
        vergelijking_noot=note,
        peiljaar=int(s["year"]),
        jaren=str(s.get("jaren", "") or ""),
        lbm2=E.lbm2_zin(area),
        p_signaal=None if area.sens is None else float(area.sens["p_signaal"]),
        robuustheid=None if area.sens is None else str(area.sens["robuustheid"]),
        focus=focus,
        focusbuurten=fb,
        buurten=buurten_of(area),
        synthetisch=bool(s["synthetic_inputs"]) and vraagt is None,
        drempels=drempels(),
        eenheid=area.eenheid,
        vraagt=vraagt,
    )
