"""Kerncijfers: the key-figure table with its comparison areas and the CSV download."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from analysis.factsheets import sections as S
from analysis.factsheets.cijfers import coverage_of
from analysis.factsheets.fmt import csv_download, fmt_value, plain
from analysis.factsheets.gebied import Gebied, key_explanations
from analysis.factsheets.rivm import rivm_rows
from analysis.processed.disclosure import shown_instead


def _cell(r, unit: str, year: int | None = None) -> S.Cel:
    """One comparison cell: the value, with its own year when that differs from the row's year."""
    if r is None:
        return S.Cel("n.b.")
    own = int(r["year"]) if year is not None and int(r["year"]) != year else None
    cov = coverage_of(r)
    return S.Cel(
        waarde=fmt_value(r["value"], unit),
        synthetisch=r["origin"] == "synthetic",
        voorlopig=bool(r["provisional"]),
        dekking=cov if cov is not None and cov < 1 else None,
        jaar=own,
    )


THIRD_PARTY = ("via derden", "niet geverifieerd")


def _third_party(rows) -> bool:
    """A row whose real figures come (partly) from a third party that we have not verified."""
    return any(
        r is not None and r["origin"] != "synthetic" and any(m in str(r["source_table"]) for m in THIRD_PARTY)
        for r in rows
    )


def build(area: Gebied) -> S.Kerncijfers:
    names = [area.name_of(c) for c in area.compare]
    real, synth, third, records = [], [], [], []
    low_cov = False
    for i in area.key_indicators:
        spec = area.catalog[i]
        year, cells = area.key[i]
        # a partner cell not published in the row's year (processed/disclosure.py) shows "< 10" /
        # "geheim", never a nearest-year value in its place
        hidden = {
            c: shown_instead(area.ctx.suppressed, i, c, year)
            if cells[c] is None or int(cells[c]["year"]) != year
            else None
            for c in area.compare
        }
        cells = {c: None if hidden[c] else cells[c] for c in area.compare}
        shown = [S.Cel(hidden[c]) if hidden[c] else _cell(cells[c], spec["unit"], year) for c in area.compare]
        low_cov = low_cov or any(c.dekking is not None for c in shown)
        row = S.KernRij(
            indicator=i,
            label=spec["label"],
            jaar=year,
            cellen=tuple(shown),
            synthetisch=any(c.synthetisch for c in shown),
        )
        (synth if row.synthetisch else third if _third_party(cells.values()) else real).append(row)
        for c, name in zip(area.compare, names, strict=True):
            r = cells[c]
            if r is None and hidden[c]:  # a partner cell not published: what the page says, never a value
                records.append(
                    {
                        "indicator": spec["label"],
                        "eenheid": spec["unit"],
                        "gebiedscode": c,
                        "gebied": name,
                        "jaar": year,
                        "waarde": hidden[c],
                        "bron": plain(spec["source"]["supplier"]),
                    }
                )
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
        pd.DataFrame(records), f"kerncijfers-{area.code.lower()}.csv", "Download deze cijfers als CSV"
    )
    return S.Kerncijfers(
        gebieden=tuple(names),
        echt=tuple(real),
        synthetisch=tuple(synth),
        derden=tuple(third),
        dekking_onder_100=low_cov,
        echt_in_synthetisch=any(not c.synthetisch and c.waarde != "n.b." for r in synth for c in r.cellen),
        csv=Markup(csv),
        uitleg=key_explanations(),
        rivm=rivm_rows(area),
    )
