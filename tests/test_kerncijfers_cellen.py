"""Key-figure cells: nearest real value with its own year, third-party group, suppressed cells."""

from __future__ import annotations

import pandas as pd

from analysis.factsheets.cijfers import kern_rij, nearest_real
from analysis.factsheets.sectie_kerncijfers import _cell, _third_party


def _rows(spec):
    return pd.DataFrame(
        [
            {
                "region_code": c,
                "indicator": "inwoners",
                "year": y,
                "value": v,
                "origin": o,
                "provisional": False,
                "source_table": src,
            }
            for c, y, v, o, src in spec
        ]
    )


def test_comparison_cell_falls_back_to_nearest_real_year_not_synthetic_or_nb():
    rows = _rows(
        [
            ("GM1", 2023, 45030.0, "snapshot", "85618NED"),
            ("NL00", 2017, 17081507.0, "snapshot", "83765NED"),
            ("NL00", 2024, 17942942.0, "snapshot", "85984NED"),
            ("NL00", 2023, 99.0, "synthetic", "synthetisch"),
            ("XX", 2019, 1.0, "synthetic", "synthetisch"),
        ]
    )
    year, cells = kern_rij(rows, "inwoners", "GM1", ["GM1", "NL00", "XX", "YY"], 2024, 2023)
    assert year == 2023
    assert (
        cells["NL00"]["value"] == 17942942.0 and cells["NL00"]["year"] == 2024
    )  # real 2024 beats synthetic 2023
    assert cells["XX"] is None  # no real figure and no figure in the row's year
    assert cells["YY"] is None
    cell = _cell(cells["NL00"], "aantal", year)
    assert cell.waarde == "17.942.942" and cell.jaar == 2024 and not cell.synthetisch
    assert _cell(cells["GM1"], "aantal", year).jaar is None  # the row's own year is not repeated


def test_nearest_real_prefers_the_later_year_on_a_tie():
    rows = _rows([("NL00", 2021, 1.0, "snapshot", "a"), ("NL00", 2025, 2.0, "snapshot", "b")])
    assert nearest_real(rows, 2023)["year"] == 2025
    assert nearest_real(rows.assign(origin="synthetic"), 2023) is None


def test_third_party_rows_are_recognised_by_their_source():
    wijkwarm = _rows(
        [("GM1", 2025, 340.0, "snapshot", "86165NED (KWB 2025, via derden: wijkwarm; niet geverifieerd)")]
    )
    cbs = _rows([("GM1", 2023, 1.0, "snapshot", "85618NED")])
    assert _third_party([wijkwarm.iloc[0], None])
    assert not _third_party([cbs.iloc[0], None])
    assert not _third_party([wijkwarm.assign(origin="synthetic").iloc[0]])


def test_goal_row_states_what_is_measured():
    from analysis.factsheets.sectie_doelen import _gemeten

    assert (
        _gemeten("Huishoudens 25-64 jaar met lage welvaart", "Zwijndrecht", "GM0642")
        == "Gemeten: Huishoudens 25-64 jaar met lage welvaart, gemeente Zwijndrecht"
    )
    assert _gemeten("Netto arbeidsparticipatie", "Alle focusbuurten samen", "FG00").endswith(
        ", alle focusbuurten samen"
    )


def test_real_goal_findings_lead_and_skip_synthetic_and_unmeasurable():
    from analysis.factsheets.sectie_oordeel import real_goal_findings

    goals = pd.DataFrame(
        [
            ("P2-03-GEM", "GM1", "Zwijndrecht", "niet op koers", "< 5%", "hh", 2040.0, False),
            ("P2-01", "GM1", "Zwijndrecht", "op koers", "> 95%", "hh", 2040.0, True),
            ("P1-06", "GM1", "Zwijndrecht", "niet meetbaar", None, "hh", 2040.0, False),
            ("P2-03", "FG00", "Alle focusbuurten samen", "op koers", "> 95%", "hh", 2040.0, False),
        ],
        columns=[
            "doel_id",
            "region_code",
            "gebied",
            "status",
            "kans_band",
            "indicator",
            "doeljaar",
            "synthetic",
        ],
    )
    cat = {"hh": {"label": "Huishoudens 25-64 jaar met lage welvaart"}}
    assert real_goal_findings(goals, ["GM1"], cat) == (
        "Echte bevinding: doel P2-03-GEM (Huishoudens 25-64 jaar met lage welvaart, gemeente Zwijndrecht) "
        "is niet op koers (kans om het doel in 2040 te halen: < 5%).",
    )
