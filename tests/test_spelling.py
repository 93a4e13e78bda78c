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
from analysis.factsheets import chart_base
from analysis.goals import figures as goal_figures
from tests.conftest import RENDERED_AREAS
from tests.test_factsheets import visible_text

WOORDENLIJST = Path(__file__).parent / "data" / "spelling_woordenlijst.txt"
DICT = "nl_NL"
FULL = RENDERED_AREAS  # whole pages, charts and map included
TEXT_SECTIONS = ("kop", "kerncijfers", "veerkracht", "doelen", "bronnen")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’\-][A-Za-zÀ-ÿ]+)*")


def misspelt_each(texts: dict[str, str], names: list[str]) -> dict[str, set[str]]:
    """Per text, the words hunspell does not know (after removing area names and the project word
    list). One hunspell run for all texts: it checks one word per line, so a word's verdict does
    not depend on the other words."""
    hunspell = shutil.which("hunspell")
    assert hunspell, "hunspell is required (.ci/run installs hunspell and hunspell-nl with apt)"
    longest_first = sorted(names, key=len, reverse=True)
    words = {}
    for key, text in texts.items():
        for n in longest_first:
            text = text.replace(n, " ")
        words[key] = {w for w in _WORD.findall(text) if len(w) > 1}
    out = subprocess.run(
        [hunspell, "-d", DICT, "-p", str(WOORDENLIJST), "-l"],
        input="\n".join(sorted(set().union(*words.values()))),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    unknown = set(out.stdout.split())
    return {key: w & unknown for key, w in words.items()}


def misspelt(text: str, names: list[str]) -> set[str]:
    """Words of one text hunspell does not know (see :func:`misspelt_each`)."""
    return misspelt_each({"": text}, names)[""]


def test_hunspell_finds_a_planted_misspelling():
    assert misspelt("Kopcasus in Alle focusbuurten samen", []) == {"Kopcasus"}
    assert misspelt("De focusbuurtten van Walburg", ["Walburg"]) == {"focusbuurtten"}
    assert not misspelt("De Leefbaarometer van Walburg", ["Walburg"])
    # checked together, each text keeps its own verdict and its own names
    assert misspelt_each(
        {"a": "Kopcasus in Walburg", "b": "De focusbuurtten van Walburg", "c": "Walburg"}, ["Walburg"]
    ) == {"a": {"Kopcasus"}, "b": {"focusbuurtten"}, "c": set()}


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
    with pytest.MonkeyPatch.context() as mp:
        _skip_chart_images(mp)
        for code in reg.loc[reg["inwoners"].fillna(0) >= minimum, "region_code"]:
            if code not in out:
                s = Sheet(ctx, code)
                out[code] = visible_text("\n".join(s.html(x) for x in TEXT_SECTIONS))
    return out


def _no_image(fig) -> str:
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/svg+xml;base64,"


def _blank_fan_chart(*args, **kwargs):
    from matplotlib.figure import Figure

    return Figure()


def _skip_chart_images(mp: pytest.MonkeyPatch) -> None:
    """A chart's image is an <img> data URI, no visible text: skip writing the SVG, and for a goal's
    fan chart skip drawing the figure too (the alt text, caption and "Toon als tabel" table around
    it are made as usual, from the same table)."""
    mp.setattr(chart_base, "_svg_uri", _no_image)
    mp.setattr(goal_figures, "fan_chart", _blank_fan_chart)


def test_skipping_the_chart_image_leaves_the_visible_text_as_it_was(analysed, monkeypatch):
    """The shortcut of `teksten`: with and without the chart images, the same visible text (a focus
    area has fan charts in its goals section)."""
    from analysis.factsheets.sheet import Sheet, load_context

    s = Sheet(load_context(analysed), "FG03")
    full = "\n".join(s.html(x) for x in TEXT_SECTIONS)
    assert "data:image/svg+xml;base64,PD94" in full  # real charts drawn
    _skip_chart_images(monkeypatch)
    s = Sheet(load_context(analysed), "FG03")
    assert visible_text("\n".join(s.html(x) for x in TEXT_SECTIONS)) == visible_text(full)


def _names(analysed) -> list[str]:
    from analysis.factsheets.cijfers import regio_namen
    from analysis.factsheets.sheet import load_context

    reg = load_context(analysed).regions
    return [str(n) for n in reg["name"].dropna()] + list(regio_namen().values())


def test_every_sheet_and_the_overview_are_spelt_correctly(teksten, analysed):
    names = _names(analysed)
    assert len(teksten) > 50  # every sheet with enough inhabitants, and the overview
    bad = {k: sorted(v) for k, v in misspelt_each(teksten, names).items() if v}
    assert not bad, f"onbekende woorden: {dict(list(bad.items())[:8])}"
