"""The national overview page: one row per municipality, linking to its own overview of sheets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.factsheets.echt import row_alleen_synthetisch
from analysis.factsheets.fmt import SYNTH_BADGE, esc, nl_number
from analysis.factsheets.page import page
from analysis.io import write_text


def write_national_index(outputs_root: Path, regions: pd.DataFrame, scores: pd.DataFrame | None) -> Path:
    """``outputs/nederland/index.html`` over every municipality that has sheets in ``outputs_root``."""
    gm = regions[regions["level"] == "gemeente"].set_index("region_code")
    sc = scores.set_index("region_code") if scores is not None else None
    rows, n_synth, n_only = [], 0, 0
    for code in sorted(gm.index):
        manifest = outputs_root / code / "factsheets" / "manifest.json"
        if not manifest.exists():
            continue
        areas = json.loads(manifest.read_text(encoding="utf-8"))["areas"]
        ok = sum(1 for a in areas if a.get("status") == "ok")
        failed = sum(1 for a in areas if a.get("status") == "failed")
        s = sc.loc[code] if sc is not None and code in sc.index else None
        share = (
            ""
            if s is None or pd.isna(s.get("aandeel_inwoners_signaal"))
            else (nl_number(100 * s["aandeel_inwoners_signaal"], 0) + "%")
        )
        synth = s is not None and bool(s.get("synthetic_inputs"))
        if row_alleen_synthetisch(s):
            share, synth = "vraagt echte cijfers", False
            n_only += 1
        n_synth += synth
        rows.append(
            f"<tr><th scope='row'><a href='{esc(code)}/factsheets/index.html'>"
            f"{esc(gm.loc[code, 'name'])}</a></th><td>{esc(code)}</td>"
            f"<td>{nl_number(gm.loc[code, 'inwoners'], 0)}</td><td>{ok}</td><td>{failed}</td>"
            f"<td>{esc(share)} {SYNTH_BADGE if synth else ''}</td></tr>"
        )
    note = (
        f"<p class='banner-synthetic'>Let op: het veerkrachtsignaal van {n_synth} gemeenten rust (deels) "
        "op een synthetische invulling voor cijfers die wij offline niet landelijk hebben: "
        "dat zijn geen echte cijfers.</p>"
        if n_synth
        else ""
    )
    if n_only:  # no signal from synthetic inputs alone: one sentence on what it needs
        note += (
            f"<p>Voor {n_only} gemeenten geven we geen veerkrachtsignaal: het vraagt echte cijfers die "
            "offline niet landelijk beschikbaar zijn; haal ze op met <code>veerkracht fetch --scope "
            "nederland</code>.</p>"
        )
    body = (
        "<h1>Veerkracht: alle gemeenten</h1>"
        f"{note}"
        "<p>Per gemeente het overzicht van de factsheets van de gemeente en haar wijken. Inwoners: CBS "
        "85984NED (Kerncijfers wijken en buurten 2024), echte cijfers. Landelijk zijn er geen kaarten "
        "(geen gebiedsgrenzen offline).</p>"
        "<div class='scroll'><table><caption>Gemeenten met factsheets</caption><thead><tr>"
        "<th scope='col'>Gemeente</th><th scope='col'>Code</th><th scope='col'>Inwoners 2024</th>"
        "<th scope='col'>Factsheets</th><th scope='col'>Mislukt</th>"
        "<th scope='col'>Inwoners in wijken met signaal</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )
    target = outputs_root / "index.html"
    write_text(target, page("Veerkracht: alle gemeenten", body))
    return target
