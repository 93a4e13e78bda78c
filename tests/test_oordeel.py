"""The verdict rules (analysis.factsheets.oordeel) and the number formatting they rely on, rule by rule."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.factsheets import oordeel as R
from analysis.factsheets.fmt import fmt_value, nl_number, with_unit
from analysis.factsheets.render import _pct


def _num(txt: str) -> float:
    return float(txt.replace("+", "").replace(".", "").replace(",", ".").replace("\u2212", "-"))


@pytest.mark.parametrize(
    ("value", "klasse", "expect"),
    [
        (-0.995234, "gemiddeld", "\u22120,995"),  # Walburg, B vs gemeente: never "−1,00"
        (0.9996, "gemiddeld", "+0,9996"),
        (-1.0, "laag", "\u22121,00"),
        (2.497, "hoog", "+2,50"),
        (0.001, "gemiddeld", "0,00"),  # no sign on a number that rounds to zero
    ],
)
def test_level_number_never_contradicts_its_class(value, klasse, expect):
    txt = R.klasse_getal(value, klasse, 1.0)
    assert txt == expect
    shown = _num(txt)
    assert ("hoog" if shown >= 1 else "laag" if shown <= -1 else "gemiddeld") == klasse


def test_trend_number_uses_the_change_threshold():
    assert R.klasse_getal(0.4996, "stabiel", 0.5, trend=True) == "+0,4996"
    assert R.klasse_getal(-0.5, "dalend", 0.5, trend=True) == "\u22120,50"


def test_no_negative_zero_and_one_minus_sign():
    assert nl_number(-0.004, 2) == "0,00"
    assert nl_number(-0.0, 1) == "0,0"
    assert nl_number(-1234.5, 1) == "\u22121.234,5"
    assert "-" not in nl_number(-3.2, 1)
    assert R.klasse_getal(-0.001, "gemiddeld", 1.0) == "0,00"


def test_not_known_never_carries_a_unit():
    assert fmt_value(float("nan"), "%") == "n.b."
    assert fmt_value(None, "x 1.000 euro") == "n.b."
    assert with_unit(float("nan"), "per 1000", "Bijstand per 1.000 inwoners") == "n.b."
    assert _pct(None) == "n.b." and _pct(float("nan")) == "n.b."


def test_share_never_rounds_to_all_or_nothing():
    assert _pct(0.996) == "99,6%"
    assert _pct(0.0004) == "0,04%"
    assert _pct(1.0) == "100%" and _pct(0.0) == "0%"
    assert _pct(0.42) == "42%"


# the signal rule: A hoog AND (A stijgend OR B laag OR B dalend); thresholds 1,0 / 0,5
@pytest.mark.parametrize(
    ("a", "da", "b", "db", "word"),
    [
        (2.5, 0.0, -2.55, 0.0, "signaal"),  # Walburg versus Nederland: A high and B low
        (1.5, 0.6, 0.0, 0.0, "signaal"),  # A high and rising
        (1.5, 0.0, 0.0, -0.6, "signaal"),  # A high and B falling
        (1.5, 0.0, 0.0, 0.0, "aandacht"),  # A high alone
        (0.2, 0.6, -2.0, -0.6, "aandacht"),  # B low and falling, A rising, but A not high
        (0.2, 0.0, 0.0, 0.0, "geen signaal"),
        (np.nan, 0.6, -2.0, -0.6, "onvoldoende data"),
    ],
)
def test_signal_rule_per_reference(a, da, b, db, word):
    assert R.signaal_volgens_regel(a, da, b, db, 1.0, 0.5) == word


def test_rule_text_states_A_high_as_a_condition_for_every_signal():
    txt = R.regel_tekst(1.0, 0.5, 5)
    head, _, rest = txt.partition("én daarnaast minstens één van deze drie:")
    assert "alleen als as A hoog is" in head and "minstens 1,0 standaarddeviatie" in head
    assert "A stijgt (minstens 0,5 over 5 jaar)" in rest and "B is laag" in rest and "B daalt" in rest


def test_level_sentence_names_reference_classes_and_values():
    z = R.niveau_zin("Walburg", "Nederland", {"A": "hoog", "B": "laag"}, {"A": 2.497, "B": -2.553}, 1.0)
    assert z == (
        "Ten opzichte van Nederland heeft Walburg een hoge concentratie van lage zelfredzaamheid "
        "(as A: +2,50) en een ongunstige uitkomst op leefbaarheid en veiligheid (as B: \u22122,55)."
    )
    assert R.niveau_zin("X", "Nederland", {"A": None, "B": "onvoldoende data"}, {}, 1.0) is None


def test_trend_sentence_gives_its_years():
    z = R.trend_zin("2020-2024", {"A": "stijgend", "B": "dalend"}, "de gemeente Zwijndrecht")
    assert z.startswith("Ontwikkeling 2020–2024 (ten opzichte van de gemeente Zwijndrecht):")
    assert "(A) neemt toe" in z and "(B) gaan achteruit" in z


def test_signal_sentence_lists_each_reference_and_skips_missing():
    z = R.signaal_zin(
        {"de gemeente Zwijndrecht": "geen signaal", "Nederland": "signaal", "x": "onvoldoende data"}
    )
    assert z == "geen signaal ten opzichte van de gemeente Zwijndrecht; signaal ten opzichte van Nederland."


def test_one_name_per_reference():
    assert R.referentie_naam("gemeente", "Zwijndrecht", "buurt") == "de gemeente Zwijndrecht"
    assert R.referentie_naam("nederland", "Zwijndrecht", "wijk") == "Nederland"
    assert R.referentie_naam("eigen_niveau", "Zwijndrecht", "wijk") == "de andere wijken van de gemeente"
