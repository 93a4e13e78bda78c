"""The HTML page shell: self-contained (no external scripts, styles or fonts), lang="nl",
readable at phone width, with an A4 print stylesheet."""

from __future__ import annotations

import html


def esc(text) -> str:
    """Text for HTML (quotes too). Defined here, not in :mod:`analysis.factsheets.fmt`: a batch
    worker wraps every page in this shell and need not import pandas and matplotlib for it."""
    return html.escape(str(text), quote=True)


CSS = """
:root { --blauw:#08519c; --grijs:#757575;
         /* Okabe-Ito based, colour-blind safe; text colours reach WCAG AA (>= 4.5:1) on white */
         --rood:#a3310c; --oranje:#8a5a00; --groen:#00704f;
         --rood-bg:#fbe3e0; --oranje-bg:#fdebd0; --groen-bg:#d9f2ea;
         --rood-fg:#8e1b12; --oranje-fg:#6b3300; --groen-fg:#0b5a45; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0 auto;
       max-width: 960px; padding: 1rem; color: #222; line-height: 1.45; }
h1 { margin: .2rem 0; font-size: 1.8rem; color: var(--blauw); }
h2 { border-bottom: 2px solid var(--blauw); padding-bottom: .2rem; margin-top: 1.6rem; font-size: 1.25rem; }
.eyebrow { text-transform: uppercase; font-size: .8rem; color: var(--grijs); margin: 0; }
.code { color: var(--grijs); margin: 0; font-size: .9rem; }
.summary { font-size: 1.05rem; background: #f3f7fb; padding: .7rem .9rem;
           border-left: 4px solid var(--blauw); }
.banner-synthetic { background: #fdecea; border: 2px solid #b03a2e; color: #7b241c; padding: .7rem .9rem;
                    margin-bottom: 1rem; border-radius: 4px; }
.badge { display: inline-block; font-size: .72rem; padding: .05rem .4rem; border-radius: 3px;
         color: #fff; background: var(--grijs); white-space: nowrap; vertical-align: middle; }
.badge-synthetic { background: #b03a2e; }
.badge-groen { background: var(--groen-bg); color: var(--groen-fg); border: 1px solid var(--groen-fg); }
.badge-oranje { background: var(--oranje-bg); color: var(--oranje-fg); border: 1px solid var(--oranje-fg); }
.badge-rood { background: var(--rood-bg); color: var(--rood-fg); border: 1px solid var(--rood-fg); }
.badge-grijs { background: var(--grijs); }
.badge-neutraal { background: #e3eef7; color: #123b5c; border: 1px solid #4a6f8f; }
dl.kort { display: grid; grid-template-columns: 1fr; gap: .15rem; margin: .6rem 0; }
dl.kort > div { display: grid; grid-template-columns: 11rem 1fr; gap: .6rem; padding: .2rem 0;
                border-bottom: 1px solid #e5e5e5; }
dl.kort dt { font-weight: bold; } dl.kort dd { margin: 0; }
dl.kort dd > .badge:first-child { font-size: .95rem; padding: .1rem .5rem; }
dl.colofon > div { display: grid; grid-template-columns: 11rem 1fr; gap: .6rem; }
dl.colofon dt { font-weight: bold; } dl.colofon dd { margin: 0; }
.placeholder { background: #fff4cc; padding: 0 .2rem; }
tr.groep th { background: #f7f7f7; font-weight: bold; }
tbody.synthetisch tr.groep th { background: #fdecea; color: #7b241c; }
td.jaar { color: #444; }
.dekking, .echt-label { font-size: .8em; color: #444; }
ul.buurten { columns: 2; column-gap: 1.5rem; padding-left: 1.1rem; }
@media (max-width: 600px) { dl.kort > div, dl.colofon > div { grid-template-columns: 1fr; gap: 0; }
                            ul.buurten { columns: 1; } }
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .4rem .6rem;
        border: 2px solid var(--blauw); z-index: 10; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
                   white-space: nowrap; }
.legenda { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .4rem 1.2rem;
           font-size: .85rem; margin: .4rem 0; }
.legenda svg { vertical-align: middle; margin-right: .3rem; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; margin: .5rem 0; font-size: .9rem; }
.filters input, .filters select { font: inherit; padding: .2rem .3rem; }
th button { font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer;
            color: inherit; text-align: left; }
th button::after { content: " ↕" / ""; color: var(--grijs); }
th[aria-sort="ascending"] button::after { content: " ↑" / ""; color: inherit; }
th[aria-sort="descending"] button::after { content: " ↓" / ""; color: inherit; }
:focus-visible { outline: 3px solid var(--blauw); outline-offset: 2px; }
svg.kaart a:focus path { stroke: #000; stroke-width: 2.5; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #ddd; padding: .35rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
td.na { color: var(--grijs); }
.scroll { overflow-x: auto; }
figure { margin: 1rem 0; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .75rem; color: #555; }
.note { font-size: .8rem; color: #555; }
.klasse strong { text-transform: uppercase; }
.klasse-rood strong { color: var(--rood); } .klasse-oranje strong { color: var(--oranje); }
.klasse-groen strong { color: var(--groen); }
a { color: var(--blauw); }
nav.top { font-size: .85rem; margin-bottom: .5rem; }
footer { margin-top: 2rem; font-size: .75rem; color: var(--grijs); }
svg.kaart { width: 100%; height: auto; max-height: 520px; }
svg.kaart a path:hover { opacity: .7; }
@media (max-width: 600px) {
  body { padding: .6rem; } h1 { font-size: 1.4rem; } table { font-size: .8rem; }
}
@page { size: A4; margin: 10mm 11mm; }
@media print {
  /* at most 3 A4 pages (tests/test_accessibility.py); charts at least 8 cm wide, text at least 8 pt */
  body { max-width: none; padding: 0; font-size: 8pt; line-height: 1.25; hyphens: none; }
  nav.top, .noprint, .skip { display: none; }
  h1 { font-size: 15pt; } h2 { font-size: 11pt; margin: .6rem 0 .3rem; break-after: avoid; }
  h3 { font-size: 9.5pt; margin: .4rem 0 .2rem; break-after: avoid; }
  p, ul { margin: .25rem 0; } .summary { padding: .3rem .5rem; }
  .banner-synthetic { border-width: 1px; padding: .3rem .5rem; margin-bottom: .4rem; font-size: 8pt;
                      line-height: 1.25; }
  .banner-synthetic p, .banner-synthetic ul { margin: .1rem 0; }
  figure, tr, .summary, .banner-synthetic { break-inside: avoid; }
  table.doelen tr { break-inside: auto; }  /* a long goal row may break: no page lost to one row */
  .ontwikkeling h2 { break-after: auto; }  /* the chart may start a page: no page lost to it */
  figure { margin: .3rem 0; }
  figure img, figure svg { width: 8.2cm; min-width: 8.2cm; max-width: 100%; height: auto; max-height: none; }
  .ligging { float: right; width: 8.2cm; margin: 0 0 .3rem 1rem; }
  .ligging h2 { margin-top: .3rem; }
  .ligging figure img { width: 8.2cm; }
  .oordeel ul { margin: .1rem 0 .1rem 1rem; padding: 0; }
  .voorpagina .drempels, .oordeel .regel { display: none; }  /* the rule is in the Veerkracht section */
  .bronnen ul { columns: 2; column-gap: 1.2rem; }
  dl.kort { margin: .3rem 0; } dl.kort > div { grid-template-columns: 8rem 1fr; padding: .05rem 0; }
  dl.colofon > div { grid-template-columns: 8rem 1fr; }
  ul.buurten { columns: 3; font-size: 8pt; }
  table.doelen th.tekst { width: 30%; } table.doelen th.prognose { width: 24%; }
  dl.colofon > div { display: inline; } dl.colofon dt, dl.colofon dd { display: inline; }
  dl.colofon dd::after { content: " · "; } dl.colofon > div:last-child dd::after { content: ""; }
  dl.colofon dt::after { content: ": "; }
  .voorpagina .summary { font-size: 9.5pt; }
  figcaption { font-size: 8pt; }
  .scroll { overflow: visible; }
  /* words wrap between words only; no break inside a word */
  table { font-size: 8pt; line-height: 1.2; }
  th, td { padding: .05rem .2rem; overflow-wrap: normal; word-break: normal; }
  .note { font-size: 8pt; }
  .dekking, .echt-label, .eigen-jaar, abbr { font-size: 1em; }
  details { font-size: 8pt; }
  figure details { display: none; }  /* "Toon als tabel" cannot be opened on paper */
  a { color: inherit; text-decoration: none; }
  footer { margin-top: .5rem; }
}
"""


def page(title: str, body: str, *, nav: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{nav}<main>\n{body}\n</main>\n"
        "<footer>Monitor Veerkrachtige Buurten · gemaakt met het open-sourceproject "
        "veerkracht</footer>\n</body>\n</html>\n"
    )
