"""outputs/factsheets/index.html: a sortable table of all areas and a clickable map."""

from __future__ import annotations

import pandas as pd

from analysis.config import Paths, programma_gemeente
from analysis.factsheets.fmt import SYNTH_BADGE, badge, csv_download, esc, nl_number, plain
from analysis.factsheets.page import page
from analysis.factsheets.render import _pct
from analysis.figures import SIGNAAL_KLEUR, sources_of
from analysis.io import write_text

SORT_JS = """
// Sorting: a real <button> in every header (Enter and Space work natively), state in aria-sort.
document.querySelectorAll('table.sortable th').forEach(function (th, i) {
  var btn = th.querySelector('button');
  if (!btn) return;
  th.setAttribute('aria-sort', 'none');
  btn.addEventListener('click', function () {
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
    th.closest('tr').querySelectorAll('th').forEach(function (o) {
      if (o.hasAttribute('aria-sort')) o.setAttribute('aria-sort', 'none');
    });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
  });
});
// Map: the name of the focused or hovered area, visible next to the map (keyboard users see it too).
document.querySelectorAll('svg.kaart a').forEach(function (a) {
  function show() {
    var o = document.getElementById('kaart-naam');
    if (o) o.textContent = a.getAttribute('aria-label');
  }
  a.addEventListener('focus', show); a.addEventListener('mouseenter', show);
});
// Search by name and filter by level; the count is announced politely.
(function () {
  var q = document.getElementById('zoek'), lvl = document.getElementById('niveau');
  var out = document.getElementById('aantal');
  if (!q || !lvl) return;
  function apply() {
    var term = q.value.trim().toLowerCase(), want = lvl.value, n = 0;
    document.querySelectorAll('#gebieden tbody tr').forEach(function (r) {
      var ok = (!want || r.dataset.niveau === want) &&
               (!term || r.cells[0].textContent.toLowerCase().indexOf(term) !== -1);
      r.hidden = !ok; if (ok) n++;
    });
    out.textContent = n + (n === 1 ? ' gebied' : ' gebieden') + ' getoond';
  }
  q.addEventListener('input', apply); lvl.addEventListener('change', apply); apply();
})();
"""


def gemeente_naam(regions) -> str:
    """The municipality's name as the data give it (buurt polygons), not from code."""
    g = regions[regions["level"] == "gemeente"]
    return str(g["name"].iloc[0]) if len(g) else "de gemeente"


KLASSE_UITLEG = {
    "rood": "signaal: A hoog én (A stijgend of B laag of B dalend)",
    "oranje": "aandacht: één of meer ongunstige condities",
    "groen": "geen signaal (niet hetzelfde als 'goed')",
}
# resilience v2 signal classes -> the map/badge colour keys above
SIGNAAL_KLASSE = {"signaal": "rood", "aandacht": "oranje", "geen signaal": "groen"}
# map fill per colour key: the v2 palette ("geen signaal" is neutral light blue, not "good" green)
KLASSE_KLEUR = {k: SIGNAAL_KLEUR[v] for v, k in SIGNAAL_KLASSE.items()}


def _legend(focus: bool = True) -> str:
    """The map legend in HTML: swatch with the same fill and hatch as the map, plus words."""
    items = []
    for k, label in KLASSE_UITLEG.items():
        items.append(
            f'<li><svg width="18" height="14" aria-hidden="true"><rect width="18" height="14" '
            f'fill="{KLASSE_KLEUR[k]}" stroke="#555"/>{_hatch_rect(k)}</svg>{esc(label)}</li>'
        )
    items.append(
        '<li><svg width="18" height="14" aria-hidden="true"><rect width="18" height="14" fill="#e0e0e0" '
        'stroke="#555"/></svg>grijs: geen score (te weinig inwoners of gegevens)</li>'
    )
    if focus:  # only the programme's municipality has focus areas
        items.append(
            '<li><svg width="22" height="14" aria-hidden="true"><line x1="0" y1="7" x2="22" y2="7" '
            'stroke="#000" stroke-width="1.5" stroke-dasharray="4 2"/></svg>grens focusgebied</li>'
        )
    return f'<ul class="legenda" aria-label="Legenda van de kaart">{"".join(items)}</ul>'


def _hatch_rect(k: str) -> str:
    """The map's hatch over a legend swatch (rood and oranje only)."""
    return f'<rect width="18" height="14" fill="url(#arcering-{k})"/>' if k in ("rood", "oranje") else ""


PATTERNS = (
    '<defs><pattern id="arcering-rood" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-opacity=".45" '
    'stroke-width="1.6"/></pattern><pattern id="arcering-oranje" width="5" height="5" '
    'patternUnits="userSpaceOnUse"><circle cx="2.5" cy="2.5" r="0.9" fill="#000" fill-opacity=".4"/>'
    "</pattern></defs>"
)


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
        k = klasse.get(r.region_code, "")
        colour = KLASSE_KLEUR.get(k, "#e0e0e0")
        d = path(r.geometry.simplify(3))
        label = f"{r.name}: {KLASSE_UITLEG.get(k, 'geen score')}"
        shape = f'<path d="{d}" fill="{colour}" stroke="#fff" stroke-width="0.6"/>'
        if k in ("rood", "oranje"):
            shape += f'<path d="{d}" fill="url(#arcering-{k})" stroke="none"/>'
        if r.region_code in links:
            shape = (
                f'<a href="{esc(links[r.region_code])}" aria-label="{esc(label)}">'
                f"<title>{esc(label)}</title>{shape}</a>"
            )
        else:
            shape = f'<g aria-hidden="true">{shape}</g>'
        parts.append(shape)
    for r in regions[(regions["level"] == "focusgebied") & (regions["region_code"] != "FG00")].itertuples():
        parts.append(
            f'<path d="{path(r.geometry.simplify(3))}" fill="none" stroke="#000" '
            'stroke-width="1.3" stroke-dasharray="4 2" pointer-events="none"/>'
        )
    return (
        f'<svg class="kaart" viewBox="0 0 {w} {h:.0f}" role="group" aria-labelledby="kaart-kop" '
        f'aria-describedby="kaart-uitleg">{PATTERNS}{"".join(parts)}</svg>'
    )


def write_index(paths: Paths, areas: pd.DataFrame, manifest: dict, regions) -> None:
    from analysis.factsheets.cijfers import bevolking_tabel
    from analysis.factsheets.render import SIGNAAL_BADGE
    from analysis.processed.build import load_indicators

    ind = load_indicators(paths)
    pop = bevolking_tabel(ind)  # the same figure (and vintage) as the front page of each sheet
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

    shown_codes = areas.loc[areas["sheet"], "region_code"]
    years = pop.loc[pop.index.intersection(shown_codes), "jaar"]
    pop_year = int(years.mode().iloc[0]) if len(years) else None
    rows, records, any_synth = [], [], False
    synth_cols: set[str] = set()  # columns with a synthetic figure: one badge in the column head
    focus_names = regions.set_index("region_code")["name"]
    # the unit the signal rule compares: buurten, or wijken in a run without buurten (national)
    e = "buurt" if (regions["level"] == "buurt").any() else "wijk"
    for a in areas[areas["sheet"]].itertuples():
        link = files.get(a.region_code)
        name = f'<a href="{esc(link)}">{esc(a.name)}</a>' if link else esc(a.name)
        if status.get(a.region_code) == "failed":
            name += " " + badge("mislukt", "rood")
        s = scores.loc[a.region_code] if scores is not None and a.region_code in scores.index else None
        # buurt: share of draws with a signal; aggregate: share of inhabitants in buurten with a signal
        share = None
        if s is not None:
            share = (
                s.get("p_signaal") if isinstance(s.get("signaal"), str) else s.get("aandeel_inwoners_signaal")
            )
        txt = "" if share is None or pd.isna(share) else _pct(share)
        v = "" if share is None or pd.isna(share) else f"{share:.4f}"
        # two columns, never one mixed: a buurt's chance of a signal; an aggregate's share of inhabitants
        is_buurt = s is not None and isinstance(s.get("signaal"), str)
        kans, kans_v = (txt, v) if is_buurt else ("", "")
        aandeel, aandeel_v = ("", "") if is_buurt else (txt, v)
        kl = ""
        only_synth = s is not None and pd.notna(s.get("alleen_synthetisch")) and bool(s["alleen_synthetisch"])
        if only_synth:  # national, every input synthetic: no signal shown (analysis.national.index)
            kl = esc("vraagt echte cijfers: veerkracht fetch --scope nederland")
        elif s is not None and isinstance(s.get("signaal"), str):
            kl = badge(s["signaal"], SIGNAAL_BADGE.get(s["signaal"], "grijs"))
        elif s is not None and isinstance(s.get("samenstelling"), str):
            n = s.get("n_buurten_signaal")  # NaN: no finding from synthetic inputs alone (national)
            if pd.isna(n):
                kl = esc("geen signaal: vraagt echte cijfers")
            else:
                n = int(n)
                kl = esc(f"{n} {e if n == 1 else e + 'en'} met signaal")
        cells = []
        inw = float(pop.loc[a.region_code, "inwoners"]) if a.region_code in pop.index else None
        inw_year = int(pop.loc[a.region_code, "jaar"]) if a.region_code in pop.index else None
        rec = {
            "gebiedscode": a.region_code,
            "gebied": a.name,
            "niveau": a.level,
            "inwoners": inw,
            "inwoners_jaar": inw_year,
            "kans_signaal_of_aandeel_inwoners_met_signaal": share,
            "signaal": None
            if s is None
            else (s.get("signaal") if isinstance(s.get("signaal"), str) else None),
            "samenstelling": None if s is None else s.get("samenstelling"),
        }
        for indicator, dec in (("ses_woa", 2), ("laag_inkomen_pct", 1)):
            r = latest(a.region_code, indicator)
            rec[indicator] = None if r is None else r["value"]
            rec[f"{indicator}_jaar"] = None if r is None else int(r["year"])
            rec[f"{indicator}_herkomst"] = (
                None if r is None else ("synthetisch" if r["origin"] == "synthetic" else "echt")
            )
            if r is None:
                cells.append("<td data-v=''>n.b.</td>")
                continue
            if r["origin"] == "synthetic":
                any_synth = True
                synth_cols.add(indicator)
            cells.append(f"<td data-v='{r['value']:.4f}'>{nl_number(r['value'], dec)}</td>")
        fg = a.focusgebied if isinstance(a.focusgebied, str) else ""
        fg_txt = "ja" if a.level == "focusgebied" else (esc(focus_names.get(fg, "")) if fg else "")
        records.append(rec)
        rows.append(
            f"<tr data-niveau='{esc(a.level)}'><td>{name}</td><td>{esc(a.level)}</td>"
            f"<td data-v='{inw or 0:.0f}'>{nl_number(inw)}"
            + (f" <span class='note'>({inw_year})</span>" if inw_year and inw_year != pop_year else "")
            + "</td>"
            f"<td data-v='{kans_v}'>{kans}</td><td data-v='{aandeel_v}'>{aandeel}</td>"
            f"<td>{kl}</td>{''.join(cells)}"
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
            "waren. Signalen op die invoer zijn een methodedemonstratie.</div>"
        )
    klasse = {} if scores is None else scores["signaal"].dropna().map(SIGNAAL_KLASSE).dropna().to_dict()
    naam = gemeente_naam(regions)
    has_focus = bool((regions["level"] == "focusgebied").any())
    focus_txt = " Focusgebieden met een stippellijn." if has_focus else ""
    if not has_focus and paths.gemeente == programma_gemeente():  # e.g. its sheets in the national run
        banner += (
            "<p class='note'>Deze landelijke vergelijking neemt de focusgebieden en programmadoelen van "
            "het programma niet mee; die staan op de factsheets van de gemeentelijke rapportage.</p>"
        )
    elif not has_focus:
        banner += "<p class='note'>Geen focusgebieden/programmadoelen voor deze gemeente.</p>"
    if (paths.outputs / "voortgangsrapportage.html").exists():  # analysis.goals.progress (issue 21)
        banner += (
            "<p><a href='../voortgangsrapportage.html'>Voortgangsrapportage: alle doelen van het "
            "programma per pijler, met status en benodigde gegevens</a></p>"
        )
    table_rows = latest_rows.reset_index()
    table_rows = table_rows[table_rows["region_code"].isin(areas.loc[areas["sheet"], "region_code"])]
    levels = [lv for lv in ("gemeente", "wijk", "focusgebied", "buurt") if (areas["level"] == lv).any()]
    level_opts = "".join(f"<option value='{lv}'>{lv}</option>" for lv in levels)
    heads = [
        "Gebied",
        "Niveau",
        f"Inwoners ({pop_year})" if pop_year else "Inwoners",
        f"Kans op signaal ({e})",
        f"Inwoners in {e}en met signaal ({'wijk, focusgebied, gemeente' if e == 'buurt' else 'gemeente'})",
        "Signaal",
        "SES-WOA",
        "Laag inkomen %",
        "Focusgebied",
    ]
    marked = {"SES-WOA": "ses_woa" in synth_cols, "Laag inkomen %": "laag_inkomen_pct" in synth_cols}
    head_html = "".join(
        f"<th scope='col'><button type='button'>{esc(h)}</button>"
        + (f" {SYNTH_BADGE}" if marked.get(h) else "")
        + "</th>"
        for h in heads
    )
    # a map only where the buurten have polygons (a national run has none), and only the sources used
    b = regions[regions["level"] == "buurt"] if "geometry" in regions else regions.iloc[0:0]
    with_map = bool(len(b)) and bool((b.geometry.notna() & ~b.geometry.is_empty).any())
    inw_bron = "CBS 85618NED (Wijk- en buurtkaart 2023)"
    if not with_map:
        used = pop.loc[pop.index.intersection(shown_codes), "bron"].dropna().unique()
        inw_bron = "CBS " + "; ".join(sorted(str(u) for u in used)) if len(used) else "geen"
    map_html = (
        f"<section aria-labelledby='kaart-kop'><h2 id='kaart-kop'>Kaart van de buurten van {esc(naam)}</h2>"
        "<p id='kaart-uitleg' class='note'>Buurten gekleurd naar veerkrachtsignaal (t.o.v. de gemeente); "
        f"rood is ook gearceerd, oranje gestippeld.{focus_txt} "
        "Elke buurt met een factsheet is een link; met de knop hieronder slaat u de kaart over.</p>"
        + (
            f"{SYNTH_BADGE} <span class='note'>De kleuren berusten deels op synthetische invoer.</span>"
            if any_synth
            else ""
        )
        + f"{_svg_map(regions, files, klasse)}"
        "<p id='kaart-naam' class='kaart-naam' aria-live='polite'>Wijs een buurt aan met de muis of ga "
        "er met het toetsenbord naartoe om de naam te zien.</p>"
        f"{_legend(has_focus)}"
        "<p class='note'>Bron kaart: CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK), CC BY 4.0.</p></section>"
        if with_map
        else ""
    )
    body = (
        "<a class='skip' href='#tabel'>Direct naar de tabel met alle gebieden</a>"
        f"{banner}<header><p class='eyebrow'>Monitor Veerkrachtige Buurten {esc(naam)}</p>"
        "<h1>Factsheets per gebied</h1></header>"
        + map_html
        + "<section id='tabel' tabindex='-1' aria-labelledby='tabel-kop'>"
        "<h2 id='tabel-kop'>Alle gebieden</h2>"
        "<div class='filters'><label>Zoek op naam <input type='search' id='zoek'></label>"
        f"<label>Niveau <select id='niveau'><option value=''>alle niveaus</option>{level_opts}</select>"
        "</label><span id='aantal' role='status' aria-live='polite'></span></div>"
        "<p class='note'>Sorteer met de knoppen in de kolomkoppen. "
        + csv_download(pd.DataFrame(records), "gebieden.csv", "Download deze tabel als CSV")
        + "."
        + (
            f" Een kolom met {SYNTH_BADGE} in de kop bevat synthetische cijfers; de signalen berusten "
            "deels op synthetische invoer."
            if any_synth
            else ""
        )
        + "</p>"
        "<div class='scroll'><table class='sortable' id='gebieden'>"
        "<caption class='visually-hidden'>Alle gebieden met factsheet</caption>"
        f"<thead><tr>{head_html}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f"<p class='note'>Bronnen: inwoners {esc(inw_bron)}; veerkrachtsignaal "
        f"(gebieden boven {e}niveau: samenstelling van hun {e}en): "
        "<a href='methode/methode_veerkracht.html'>methode veerkrachtsignaal</a>; "
        "SES-WOA en laag inkomen, laatste jaar: "
        f"{esc(plain(sources_of(table_rows)))}.</p></section>"
        f"<section><h2>Gebieden zonder factsheet</h2><ul>{none_rows}</ul>"
        "<p class='note'>Kleine gebieden krijgen geen factsheet: cijfers zijn daar onbetrouwbaar en "
        "herleidbaar.</p></section>"
        f"<script>{SORT_JS}</script>"
    )
    from analysis.factsheets.methods import write_method_pages

    write_method_pages(paths.outputs / "factsheets" / "methode")
    write_text(
        paths.outputs / "factsheets" / "index.html",
        page(f"Factsheets Veerkrachtige Buurten {naam}", body),
    )
