"""The method documents (docs/*.md) as HTML pages beside the fact sheets.

Sheets link to ``methode/<name>.html`` so the links keep working when the output folder is copied
to a shared drive or a web server; a raw markdown link would open as plain text or break.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from analysis.config import DOCS_DIR
from analysis.factsheets.page import page
from analysis.io import write_text

METHOD_DOCS = {
    "methode_veerkracht": "Methode veerkrachtindex",
    "methode_prognoses": "Methode prognoses en doelstatus",
    "data_log": "Datalog: bronnen, jaargangen en ophaaldatum",
}

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _rewrite_links(html: str) -> str:
    """Links between the method documents point at their HTML versions."""
    for name in METHOD_DOCS:
        html = html.replace(f'href="{name}.md', f'href="{name}.html')
    return html


@lru_cache(maxsize=16)
def _method_page(src: Path, mtime_ns: int, size: int, title: str) -> str:
    """One document as a page; a national run writes the same pages for every municipality, so the
    rendering is cached by file, modification time and size (an edited document renders anew)."""
    body = _rewrite_links(_MD.render(src.read_text(encoding="utf-8")))
    nav = '<nav class="top"><a href="../index.html">← Alle factsheets</a></nav>'
    return page(title, body, nav=nav)


def write_method_pages(target: Path, docs_dir: Path = DOCS_DIR) -> list[Path]:
    """Render every method document that exists into ``target`` (atomic writes); return the paths."""
    written = []
    for name, title in METHOD_DOCS.items():
        src = docs_dir / f"{name}.md"
        if not src.exists():
            continue
        st = src.stat()
        written.append(
            write_text(target / f"{name}.html", _method_page(src, st.st_mtime_ns, st.st_size, title))
        )
    return written
