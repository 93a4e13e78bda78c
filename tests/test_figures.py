"""Chart habits a Dutch reader expects: decimal comma, thousands dot, whole years, vector output."""

from __future__ import annotations

import base64
import re

import matplotlib.pyplot as plt
import pytest

from analysis.factsheets.fmt import figure_html
from analysis.figures import dutch_ticks


def _labels(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_ticks_use_decimal_comma_thousands_dot_and_plain_years():
    fig, (a, b) = plt.subplots(1, 2)
    a.plot([2013, 2018, 2024], [0, 3000, 6000])
    b.plot([2013, 2024], [-0.15, 0.2])
    dutch_ticks(fig)
    fig.canvas.draw()
    ya, xa, yb = _labels(a.yaxis), _labels(a.xaxis), _labels(b.yaxis)
    plt.close(fig)
    assert "6.000" in ya and "3.000" in ya  # thousands dot
    assert all(re.fullmatch(r"\d{4}", x) for x in xa), xa  # years: no dot, no decimals
    assert "0,05" in yb and "\u22120,10" in yb  # decimal comma, true minus sign
    assert not any("." in t for t in yb)


def test_decimals_follow_the_tick_step():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [4.0, 4.1])
    dutch_ticks(fig)
    fig.canvas.draw()
    labels = _labels(ax.yaxis)
    plt.close(fig)
    # steps of 0,02: two decimals on every label, never 4.0750-style noise
    assert labels and all(re.fullmatch(r"[34],\d{2}", t) for t in labels), labels


def test_custom_formatters_are_left_alone():
    from matplotlib.ticker import PercentFormatter

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 50])
    ax.yaxis.set_major_formatter(PercentFormatter())
    dutch_ticks(fig)
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    plt.close(fig)


@pytest.mark.parametrize("fmt, mime", [("svg", "image/svg+xml"), ("png", "image/png")])
def test_figure_html_embeds_vector_charts_with_dutch_ticks(fmt, mime):
    fig, ax = plt.subplots()
    ax.plot([2015, 2020], [1000, 6500])
    html = figure_html(fig, "alt tekst", "Bron: test")
    assert 'alt="alt tekst"' in html and "Bron: test" in html
    payload = base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()
    assert html.count("data:image/svg+xml") == 1 and "<svg" in payload
    assert ">6.000<" in payload or ">6.000 <" in payload  # text kept as text, Dutch format
    if fmt == "png":
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        assert f"data:{mime};base64," in figure_html(fig, "a", "b", fmt="png")
