"""The HTML page shell: self-contained (no external scripts, styles or fonts), lang="nl",
readable at phone width, with an A4 print stylesheet."""

from __future__ import annotations

from analysis.factsheets.fmt import esc

CSS = """
:root { --blauw:#08519c; --rood:#c0392b; --oranje:#e67e22; --groen:#27ae60; --grijs:#757575; }
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
.badge-groen { background: var(--groen); } .badge-oranje { background: var(--oranje); }
.badge-rood { background: var(--rood); } .badge-grijs { background: var(--grijs); }
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
th[aria-sort] { cursor: pointer; }
svg.kaart { width: 100%; height: auto; max-height: 520px; }
svg.kaart a path:hover { opacity: .7; }
@media (max-width: 600px) {
  body { padding: .6rem; } h1 { font-size: 1.4rem; } table { font-size: .8rem; }
}
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav.top, .noprint { display: none; }
  figure, tr, .summary, .banner-synthetic { break-inside: avoid; }
  .scroll { overflow: visible; }
  table { font-size: 8pt; } th, td { padding: .2rem .3rem; } td { overflow-wrap: anywhere; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .banner-synthetic { border-width: 1px; }
}
"""


def page(title: str, body: str, *, nav: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{nav}<main>\n{body}\n</main>\n"
        "<footer>Monitor Veerkrachtige Buurten Zwijndrecht · gemaakt met het open-sourceproject "
        "veerkracht-zwijndrecht</footer>\n</body>\n</html>\n"
    )
