"""Kerncijfers: the key-figure table with its comparison areas and the CSV download."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from analysis.factsheets import sections as S
from analysis.factsheets.cijfers import coverage_of
from analysis.factsheets.fmt import csv_download, fmt_value, plain
from analysis.factsheets.gebied import KEY_INDICATORS, Gebied, key_explanations


def _cell(r, unit: str) -> S.Cel:
    if r is None:
        return S.Cel("n.b.")
    cov = coverage_of(r)
    return S.Cel(
        waarde=fmt_value(r["value"], unit),
        synthetisch=r["origin"] == "synthetic",
        voorlopig=bool(r["provisional"]),
        dekking=cov if cov is not None and cov < 1 else None,
    )


def build(area: Gebied) -> S.Kerncijfers:
    names = [area.name_of(c) for c in area.compare]
    real, synth, records = [], [], []
    low_cov = False
    for i in KEY_INDICATORS:
        spec = area.catalog[i]
        year, cells = area.key[i]
        shown = [_cell(cells[c], spec["unit"]) for c in area.compare]
        low_cov = low_cov or any(c.dekking is not None for c in shown)
        row = S.KernRij(
            indicator=i,
            label=spec["label"],
            jaar=year,
            cellen=tuple(shown),
            synthetisch=any(c.synthetisch for c in shown),
        )
        (synth if row.synthetisch else real).append(row)
        for c, name in zip(area.compare, names, strict=True):
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
        pd.DataFrame(records), f"kerncijfers-{area.code.lower()}.csv", "Download deze cijfers als CSV"
    )
    return S.Kerncijfers(
        gebieden=tuple(names),
        echt=tuple(real),
        synthetisch=tuple(synth),
        dekking_onder_100=low_cov,
        echt_in_synthetisch=any(not c.synthetisch and c.waarde != "n.b." for r in synth for c in r.cellen),
        csv=Markup(csv),
        uitleg=key_explanations(),
    )
