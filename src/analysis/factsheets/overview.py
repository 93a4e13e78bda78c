"""outputs/factsheets/index.html: a sortable table of all areas and a clickable map."""

from __future__ import annotations

import pandas as pd

from analysis.config import Paths
from analysis.factsheets.fmt import SYNTH_BADGE, badge, esc, nl_number
from analysis.factsheets.page import page
from analysis.figures import KLASSE_KLEUR, sources_of
from analysis.io import write_text

SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function (th, i) {
  th.setAttribute('aria-sort', 'none'); th.tabIndex = 0;
  function sort() {
    var tb = th.closest('table').tBodies[0], rows = Array.from(tb.rows);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    rows.sort(function (a, b) {
      var x = a.cells[i].dataset.v || a.cells[i].textContent;
      var y = b.cells[i].dataset.v || b.cells[i].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, 'nl');
      return asc ? c : -c;
    });
    rows.forEach(function (r) { tb.appendChild(r); });
    th.closest('tr').querySelectorAll('th').forEach(function (o) { o.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  }
  th.addEventListener('click', sort);
  th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sort(); });
});
"""


def gemeente_naam(regions) -> str:
    """The municipality's name as the data give it (buurt polygons), not from code."""
    g = regions[regions["level"] == "gemeente"]
    return str(g["name"].iloc[0]) if len(g) else "de gemeente"


def _svg_map(regions, links: dict[str, str], klasse: dict[str, str]) -> str:
    b = regions[regions["level"] == "buurt"]
    minx, miny, maxx, maxy = b.total_bounds
    w = 800
    scale = w / (maxx - minx)
    h = (maxy - miny) * scale

    def path(geom) -> str:
        polys = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
        d = []
        for p in polys:
            for ring in [p.exterior, *p.interiors]:
                pts = [(f"{(x - minx) * scale:.1f}", f"{(maxy - y) * scale:.1f}") for x, y in ring.coords]
                d.append("M" + " L".join(f"{x},{y}" for x, y in pts) + " Z")
        return " ".join(d)

    parts = []
    for r in b.itertuples():
        colour = KLASSE_KLEUR.get(klasse.get(r.region_code, ""), "#e0e0e0")
        shape = (
            f'<path d="{path(r.geometry.simplify(3))}" fill="{colour}" stroke="#fff" '
            f'stroke-width="0.6"><title>{esc(r.name)}</title></path>'
        )
        if r.region_code in links:
            shape = f'<a href="{esc(links[r.region_code])}" aria-label="{esc(r.name)}">{shape}</a>'
        parts.append(shape)
    for r in regions[(regions["level"] == "focusgebied") & (regions["region_code"] != "FG00")].itertuples():
        parts.append(
            f'<path d="{path(r.geometry.simplify(3))}" fill="none" stroke="#000" '
            'stroke-width="1.3" stroke-dasharray="4 2" pointer-events="none"/>'
        )
    return (
        f'<svg class="kaart" viewBox="0 0 {w} {h:.0f}" role="img" aria-label="Kaart van de buurten '
        f"van {esc(gemeente_naam(regions))}, gekleurd naar signaalklasse"
        f"{'; focusgebieden met stippellijn' if (regions['level'] == 'focusgebied').any() else ''}; "
        f'klik op een buurt voor de factsheet">{"".join(parts)}</svg>'
    )


def write_index(paths: Paths, areas: pd.DataFrame, manifest: dict, regions) -> None:
    from analysis.processed.build import load_indicators

    ind = load_indicators(paths)
    shown = ind[ind["indicator"].isin(["ses_woa", "laag_inkomen_pct"])]
    latest_rows = shown.sort_values("year").groupby(["region_code", "indicator"]).tail(1)
    latest_rows = latest_rows.set_index(["region_code", "indicator"])
    scores_p = paths.outputs / "resilience" / "scores.parquet"
    scores = pd.read_parquet(scores_p).set_index("region_code") if scores_p.exists() else None
    files = {e["area"]: e["file"] for e in manifest["areas"] if e.get("file")}
    status = {e["area"]: e["status"] for e in manifest["areas"]}

    def latest(code, indicator):
        key = (code, indicator)
        return latest_rows.loc[key] if key in latest_rows.index else None

    rows, any_synth = [], False
    focus_names = regions.set_index("region_code")["name"]
    for a in areas[areas["sheet"]].itertuples():
        link = files.get(a.region_code)
        name = f'<a href="{esc(link)}">{esc(a.name)}</a>' if link else esc(a.name)
        if status.get(a.region_code) == "failed":
            name += " " + badge("mislukt", "rood")
        s = scores.loc[a.region_code] if scores is not None and a.region_code in scores.index else None
        idx = "" if s is None or pd.isna(s["index"]) else nl_number(s["index"], 2)
        idx_v = "" if s is None or pd.isna(s["index"]) else f"{s['index']:.4f}"
        kl = (
            ""
            if s is None
            else badge(
                s["klasse"], {"rood": "rood", "oranje": "oranje", "groen": "groen"}.get(s["klasse"], "grijs")
            )
        )
        cells = []
        for indicator, dec in (("ses_woa", 2), ("laag_inkomen_pct", 1)):
            r = latest(a.region_code, indicator)
            if r is None:
                cells.append("<td data-v=''>n.b.</td>")
                continue
            mark = ""
            if r["origin"] == "synthetic":
                mark, any_synth = f" {SYNTH_BADGE}", True
            cells.append(f"<td data-v='{r['value']:.4f}'>{nl_number(r['value'], dec)}{mark}</td>")
        fg = a.focusgebied if isinstance(a.focusgebied, str) else ""
        fg_txt = "ja" if a.level == "focusgebied" else (esc(focus_names.get(fg, "")) if fg else "")
        rows.append(
            f"<tr><td>{name}</td><td>{esc(a.level)}</td><td data-v='{a.inwoners or 0:.0f}'>"
            f"{nl_number(a.inwoners)}</td><td data-v='{idx_v}'>{idx}</td><td>{kl}</td>{''.join(cells)}"
            f"<td>{fg_txt}</td></tr>"
        )
    none_rows = "".join(
        f"<li>{esc(a.name)} ({esc(a.region_code)}): {esc(a.reden)}</li>"
        for a in areas[~areas["sheet"]].itertuples()
    )
    banner = ""
    if any_synth:
        banner = (
            "<div class='banner-synthetic' role='alert'><strong>Let op:</strong> een deel van de "
            f"cijfers is synthetisch ({SYNTH_BADGE}), omdat echte buurtcijfers offline niet beschikbaar "
            "waren. Klassen en indexen op die invoer zijn een methodedemonstratie.</div>"
        )
    klasse = {} if scores is None else scores["klasse"].to_dict()
    naam = gemeente_naam(regions)
    if not (regions["level"] == "focusgebied").any():
        banner += "<p class='note'>Geen focusgebieden/programmadoelen voor deze gemeente.</p>"
    table_rows = latest_rows.reset_index()
    table_rows = table_rows[table_rows["region_code"].isin(areas.loc[areas["sheet"], "region_code"])]
    body = (
        f"{banner}<header><p class='eyebrow'>Monitor Veerkrachtige Buurten {esc(naam)}</p>"
        "<h1>Factsheets per gebied</h1></header>"
        f"<section><h2>Kaart</h2>{_svg_map(regions, files, klasse)}"
        "<p class='note'>Kleur: signaalklasse van de veerkrachtindex; grijs: geen score. Bron kaart: "
        "CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK), CC BY 4.0.</p></section>"
        "<section><h2>Alle gebieden</h2><p class='note'>Klik op een kolomkop om te sorteren.</p>"
        "<div class='scroll'><table class='sortable'><thead><tr><th>Gebied</th><th>Niveau</th>"
        "<th>Inwoners (2023)</th><th>Veerkrachtindex</th><th>Klasse</th><th>SES-WOA</th>"
        "<th>Laag inkomen %</th><th>Focusgebied</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        "<p class='note'>Bronnen: inwoners CBS 85618NED (Wijk- en buurtkaart 2023); veerkrachtindex en "
        "klasse outputs/resilience (docs/methode_veerkracht.md); SES-WOA en laag inkomen, laatste jaar: "
        f"{esc(sources_of(table_rows))}.</p></section>"
        f"<section><h2>Gebieden zonder factsheet</h2><ul>{none_rows}</ul>"
        "<p class='note'>Kleine gebieden krijgen geen factsheet: cijfers zijn daar onbetrouwbaar en "
        "herleidbaar.</p></section>"
        f"<script>{SORT_JS}</script>"
    )
    write_text(
        paths.outputs / "factsheets" / "index.html",
        page(f"Factsheets Veerkrachtige Buurten {naam}", body),
    )
