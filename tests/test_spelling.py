"""Dutch spelling of what an adviser reads: hunspell (Debian `hunspell` + `hunspell-nl`, installed by
.ci/run) over the visible text of every fact sheet and the overview, with a project word list
(tests/data/spelling_woordenlijst.txt). Area names come from the data and are not checked."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from analysis.config import settings
from tests.conftest import RENDERED_AREAS
from tests.test_factsheets import visible_text

WOORDENLIJST = Path(__file__).parent / "data" / "spelling_woordenlijst.txt"
DICT = "nl_NL"
FULL = RENDERED_AREAS  # whole pages, charts and map included
TEXT_SECTIONS = ("kop", "kerncijfers", "veerkracht", "doelen", "bronnen")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’\-][A-Za-zÀ-ÿ]+)*")


def misspelt(text: str, names: list[str]) -> set[str]:
    """Words hunspell does not know (after removing area names and the project word list)."""
    hunspell = shutil.which("hunspell")
    assert hunspell, "hunspell is required (.ci/run installs hunspell and hunspell-nl with apt)"
    for n in sorted(names, key=len, reverse=True):
        text = text.replace(n, " ")
    words = sorted({w for w in _WORD.findall(text) if len(w) > 1})
    out = subprocess.run(
        [hunspell, "-d", DICT, "-p", str(WOORDENLIJST), "-l"],
        input="\n".join(words),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(out.stdout.split())


def test_hunspell_finds_a_planted_misspelling():
    assert misspelt("Kopcasus in Alle focusbuurten samen", []) == {"Kopcasus"}
    assert misspelt("De focusbuurtten van Walburg", ["Walburg"]) == {"focusbuurtten"}
    assert not misspelt("De Leefbaarometer van Walburg", ["Walburg"])


@pytest.fixture(scope="module")
def teksten(analysed, rendered) -> dict[str, str]:
    from analysis.factsheets.sheet import Sheet, load_context

    # the session's one batch of these four sheets (conftest.rendered), shared with test_accessibility
    folder = rendered.outputs / "factsheets"
    out = {"index": visible_text((folder / "index.html").read_text(encoding="utf-8"))}
    for c in FULL:
        out[c] = visible_text(next(folder.glob(f"{c.lower()}-*.html")).read_text(encoding="utf-8"))
    ctx = load_context(analysed)
    reg = ctx.regions
    minimum = float(settings()["min_inwoners"])
    for code in reg.loc[reg["inwoners"].fillna(0) >= minimum, "region_code"]:
        if code not in out:
            s = Sheet(ctx, code)
            out[code] = visible_text("\n".join(s.html(x) for x in TEXT_SECTIONS))
    return out


def _names(analysed) -> list[str]:
    from analysis.factsheets.cijfers import regio_namen
    from analysis.factsheets.sheet import load_context

    reg = load_context(analysed).regions
    return [str(n) for n in reg["name"].dropna()] + list(regio_namen().values())


def test_every_sheet_and_the_overview_are_spelt_correctly(teksten, analysed):
    names = _names(analysed)
    assert len(teksten) > 50  # every sheet with enough inhabitants, and the overview
    bad = {k: sorted(misspelt(v, names)) for k, v in teksten.items()}
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"onbekende woorden: {dict(list(bad.items())[:8])}"
