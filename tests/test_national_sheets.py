"""National fact sheets (issue 22 item 10): real names or the code stated once, the newest population
year in the headline, "wijken" where wijken are compared, and no programme text that contradicts the
municipal run."""

from __future__ import annotations

import pytest

from analysis.config import PROJ_ROOT
from tests.test_factsheets import visible_text

RAW = PROJ_ROOT / "data" / "raw"
ONLY = ["GM0642", "WK064201", "WK0363AA"]


@pytest.fixture(scope="module")
def sheets(national_store, tmp_path_factory):
    """Sheets of ONLY from the session's offline national build (tests/national_fixtures.py), written
    to an outputs folder of this module."""
    from analysis.factsheets.runner import run_batch
    from analysis.national import run as national

    processed, outputs = national_store, tmp_path_factory.mktemp("nl_sheets") / "outputs"
    views = national.views("nederland", None, RAW, processed, outputs, only=ONLY)
    res = run_batch(views, only=ONLY, force=True, workers=1, force_workers=True, progress=False)
    assert res["ok"] == len(ONLY) and res["failed"] == 0
    out = outputs / "nederland"
    return {
        f"{gm}/{f.name}": f.read_text(encoding="utf-8")
        for gm in ("GM0642", "GM0363")
        for f in sorted((out / gm / "factsheets").glob("*.html"))
    }, processed


def _one(sheets, prefix):
    (html,) = [h for n, h in sheets[0].items() if n.split("/")[1].startswith(prefix)]
    return html, visible_text(html)


def test_an_area_without_a_name_in_our_data_shows_its_code_once_not_a_made_up_name(sheets):
    html, text = _one(sheets, "wk0363aa")
    assert "Wijk AA" not in text and "(Amsterdam)" not in text
    assert "<title>Factsheet WK0363AA</title>" in html and "<h1>WK0363AA</h1>" in html
    assert text.count("Geen naam in de gegevens die we hebben") == 1
    assert "GM0363/wk0363aa.html" in sheets[0]
    # a name the data hold (KWB 2017) is used as it is
    _, walburg = _one(sheets, "wk064201")
    assert "Wijk 01 Walburg" in walburg


def test_headline_population_is_the_newest_real_year(sheets):
    from analysis.national.build import read_partitioned

    ind = read_partitioned(sheets[1] / "nederland" / "indicators", ["GM0642"])
    inw = ind[(ind.region_code == "GM0642") & (ind.indicator == "inwoners") & (ind.origin != "synthetic")]
    newest = inw.sort_values("year").iloc[-1]
    assert newest.year == 2024
    _, text = _one(sheets, "gm0642")
    assert f"In Zwijndrecht woonden in 2024 {int(newest.value):,} mensen.".replace(",", ".") in text
    assert "woonden in 2017" not in text


def test_wijken_are_called_wijken_and_the_programme_is_not_denied(sheets):
    for prefix in ("gm0642", "wk064201", "wk0363aa"):
        _, text = _one(sheets, prefix)
        assert "(en)" not in text
        assert "gemiddelde van de wijken van de gemeente" in text
        assert "gemiddelde van de buurten van de gemeente" not in text
        assert "Buurten in dit gebied" not in text and "woont in een buurt met" not in text
    _, gm = _one(sheets, "gm0642")
    assert "Wijken in dit gebied:" in gm
    for name in ("gm0642-zwijndrecht.html", "wk064201-wijk-01-walburg.html", "index.html"):
        text = visible_text(sheets[0][f"GM0642/{name}"])
        assert "Geen focusgebieden/programmadoelen voor deze gemeente" not in text
        assert "landelijke vergelijking neemt" in text
    index = visible_text(sheets[0]["GM0642/index.html"])
    assert "Inwoners in wijken met signaal" in index and "Kans op signaal (wijk)" in index
    assert "buurten met signaal" not in index and "samenstelling van hun buurten" not in index
    # another gemeente still says it has no programme
    _, ams = _one(sheets, "wk0363aa")
    assert "Geen focusgebieden/programmadoelen voor deze gemeente" in ams
