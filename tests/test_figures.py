"""Chart habits a Dutch reader expects: decimal comma, thousands dot, whole years, vector output."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from analysis.factsheets import charts
from analysis.factsheets.fmt import figure_html
from analysis.figures import SYNTHETIC_STAMP, dutch_ticks


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


# --- fact-sheet charts (issue 11 item 6) ------------------------------------------------------------


CATALOG = {
    "inwoners": {"label": "Inwoners", "unit": "aantal"},
    "laag_inkomen_pct": {"label": "Huishoudens met een laag inkomen", "unit": "%"},
    "ses_woa": {"label": "SES-WOA totaalscore", "unit": "score"},
}
NAMES = {"BU1": "Buurt Een", "WK1": "Wijk Een", "GM1": "Gemeente", "NL00": "Nederland"}
AREAS = {"gebied": "BU1", "wijk": "WK1", "gemeente": "GM1", "nederland": "NL00"}


def _rows(origins: dict[tuple[str, str], str] | None = None, drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows for 4 areas x 3 indicators x 2015-2022; ``origins[(code, indicator)]`` = 'synthetic' or
    'split' (real up to 2018, synthetic after); default all real ('snapshot')."""
    origins = origins or {}
    base = {"inwoners": 4800.0, "laag_inkomen_pct": 9.5, "ses_woa": -0.12}
    step = {"inwoners": 25.0, "laag_inkomen_pct": 0.15, "ses_woa": -0.01}
    recs = []
    for k, code in enumerate(["BU1", "WK1", "GM1", "NL00"]):
        if code in drop:
            continue
        for ind in CATALOG:
            how = origins.get((code, ind), "snapshot")
            for y in range(2015, 2023):
                o = how if how != "split" else ("snapshot" if y <= 2018 else "synthetic")
                recs.append(
                    {
                        "region_code": code,
                        "year": y,
                        "indicator": ind,
                        "value": base[ind] * (1 + 0.1 * k) + step[ind] * (y - 2015),
                        "source_table": "synthetisch (analysis.sources.synthetic, seed 1)"
                        if o == "synthetic"
                        else "85984NED",
                        "origin": o,
                        "provisional": y == 2022,
                    }
                )
    return pd.DataFrame(recs)


def _svg(html: str) -> str:
    return base64.b64decode(re.search(r"base64,([^\"]+)", html).group(1)).decode()


def _ticks(svg: str, axis: str) -> list[str]:
    """Tick label texts of the SVG (matplotlib writes each tick in <g id="xtick_N">/<g id="ytick_N">)."""
    out = []
    for m in re.finditer(rf'<g id="{axis}tick_\d+">(.*?)</g>\s*</g>', svg, flags=re.S):
        out += [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", m.group(1)) if t.strip()]
    return out


class _Table(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self._row, self._cell, self.in_details = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "details":
            self.in_details = True
        if self.in_details and tag == "tr":
            self._row = []
        if self.in_details and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _details_table(html: str) -> tuple[list[str], list[list[str]]]:
    assert "<details><summary>Toon als tabel</summary>" in html
    p = _Table()
    p.feed(html)
    return p.rows[0], p.rows[1:]


def _num(text: str) -> float:
    return float(text.replace(".", "").replace(",", ".").replace("\u2212", "-"))


def _chart(rows=None, areas=AREAS, indicators=("inwoners", "laag_inkomen_pct", "ses_woa")):
    return charts.series_chart(_rows() if rows is None else rows, areas, NAMES, list(indicators), CATALOG)


def test_series_chart_ticks_are_dutch_with_units_and_years():
    chart = _chart()
    svg = _svg(chart.html)
    y, x = _ticks(svg, "y"), _ticks(svg, "x")
    assert y and x
    dutch = re.compile(r"\u2212?\d{1,3}(\.\d{3})*(,\d+)?")
    assert all(dutch.fullmatch(t) for t in y), y
    assert any("." in t for t in y), y  # thousands dot on the inwoners panel (axis from 0 to 6.000)
    assert any("," in t for t in y), y  # decimal comma on the score panel
    assert all(re.fullmatch(r"20\d\d", t) for t in x), x
    for unit in ("aantal", "%", "score"):  # the unit on every panel
        assert f">{unit}<" in svg, unit


def test_toon_als_tabel_holds_exactly_the_numbers_drawn():
    rows = _rows({("GM1", "ses_woa"): "split"})
    chart = _chart(rows)
    head, body = _details_table(chart.html)
    assert head == list(chart.table.columns)
    assert len(body) == len(chart.table) == 4 * 3 * 8
    for cells, rec in zip(body, chart.table.itertuples(index=False), strict=True):
        unit = rec.eenheid
        d = charts.decimals_for(unit)
        assert cells[head.index("gebied")] == rec.gebied
        assert int(cells[head.index("jaar")]) == rec.jaar
        assert abs(_num(cells[head.index("waarde")]) - rec.waarde) <= 0.5 * 10**-d + 1e-9
        assert cells[head.index("herkomst")] == rec.herkomst
    # ... and Chart.table is what the figure draws: every point of every line, nothing else
    table = charts.series_table(rows, AREAS, NAMES, list(CATALOG), CATALOG)
    fig = charts.series_figure(table, list(CATALOG), CATALOG)
    drawn = set()
    for ax in fig.axes:
        for line in ax.get_lines():
            if (line.get_gid() or "").startswith("reeks|"):
                _, ind, role, code, origin = line.get_gid().split("|")
                drawn |= {
                    (ind, code, int(x), round(float(v), 9)) for x, v in zip(*line.get_data(), strict=True)
                }
    plt.close(fig)
    listed = {(r.indicator, r.gebiedscode, r.jaar, round(r.waarde, 9)) for r in chart.table.itertuples()}
    assert drawn == listed


def _roles(chart_rows, areas=AREAS) -> set[str]:
    table = charts.series_table(chart_rows, areas, NAMES, list(CATALOG), CATALOG)
    fig = charts.series_figure(table, list(CATALOG), CATALOG)
    roles = {
        line.get_gid().split("|")[2]
        for ax in fig.axes
        for line in ax.get_lines()
        if (line.get_gid() or "").startswith("reeks|")
    }
    plt.close(fig)
    return roles


def test_reference_lines_are_drawn_when_reference_data_exist():
    assert _roles(_rows()) == {"gebied", "wijk", "gemeente", "nederland"}
    assert _roles(_rows(drop=("NL00",))) == {"gebied", "wijk", "gemeente"}
    svg = _svg(_chart().html)
    for label in ("Buurt Een", "wijk: Wijk Een", "gemeente: Gemeente", "Nederland"):
        assert label in svg, label  # named in the legend, not by colour alone
    # each reference role has its own line style and marker, not only its own colour
    styles = [charts.ROLE_STYLE[r][1:3] for r in charts.ROLE_ORDER]
    assert len(set(map(str, styles))) == len(styles)
    no_nl = _chart(_rows(drop=("NL00",)))
    assert "Nederland" not in _svg(no_nl.html) and "NL00" not in set(no_nl.table["gebiedscode"])


def test_no_line_joins_two_origins():
    rows = _rows({("GM1", "laag_inkomen_pct"): "split", ("BU1", "ses_woa"): "split"})
    table = charts.series_table(rows, AREAS, NAMES, list(CATALOG), CATALOG)
    fig = charts.series_figure(table, list(CATALOG), CATALOG)
    origin_of = {(r.indicator, r.gebiedscode, r.jaar): r.herkomst for r in table.itertuples()}
    lines = [ln for ax in fig.axes for ln in ax.get_lines() if (ln.get_gid() or "").startswith("reeks|")]
    split = 0
    for line in lines:
        _, ind, _, code, _ = line.get_gid().split("|")
        kinds = {origin_of[(ind, code, int(x))] for x in line.get_xdata()}
        assert len(kinds) == 1, (line.get_gid(), kinds)
        split += (code, ind) in {("GM1", "laag_inkomen_pct"), ("BU1", "ses_woa")}
    plt.close(fig)
    assert split == 4  # both split series drawn as two lines each


def test_synthetic_stamp_appears_iff_a_synthetic_series_is_drawn():
    real = _chart()
    assert SYNTHETIC_STAMP not in _svg(real.html) and "synthetisch" not in set(real.table["herkomst"])
    one = _chart(_rows({("NL00", "ses_woa"): "synthetic"}))
    assert _svg(one.html).count(SYNTHETIC_STAMP) == 1
    assert "synthetische invulling" in one.html  # the caption names the origin in Dutch
    # a synthetic series of an indicator that is not drawn does not stamp the chart
    other = _chart(_rows({("NL00", "ses_woa"): "synthetic"}), indicators=("inwoners", "laag_inkomen_pct"))
    assert SYNTHETIC_STAMP not in _svg(other.html)


def test_caption_names_table_years_provisional_and_origin():
    html = _chart(_rows({("WK1", "ses_woa"): "synthetic"})).html
    cap = re.search(r"<figcaption>(.*?)</figcaption>", html, flags=re.S).group(1)
    assert "85984NED (2015-2022, voorlopig: 2022; meegeleverde echte publicatie)" in cap
    assert "synthetische invulling" in cap and "seed" not in cap and "analysis." not in cap


def test_y_axis_rule_starts_magnitudes_at_zero_and_gives_scores_a_minimum_span():
    assert charts.y_limits([9.4, 9.6], "%")[0] == 0
    lo, hi = charts.y_limits([4.06, 4.08], "score", 0.5)
    assert hi - lo == pytest.approx(0.5) and lo < 4.06 and hi > 4.08
    lo, hi = charts.y_limits([-2.0, 1.0], "score", 0.5)  # wide data: the data decide
    assert hi - lo >= 3.0


def _fan_inputs():
    from analysis.goals.catalog import Doel

    goal = Doel(
        id="T-1",
        pijler=2,
        tekst="t",
        meetbaar=True,
        indicator="lage_welvaart_hh_25_64",
        basisjaar=2015,
        doeljaar=2030,
        doeltype="relatief",
        doelwaarde=-0.5,
        richting="lager_beter",
    )
    obs = [
        {"soort": "waarneming", "year": y, "waarde": 4800.0 + 20 * (y - 2011), "provisional": y == 2020}
        for y in range(2011, 2021)
    ]
    pr = [
        {
            "soort": "prognose",
            "year": y,
            "waarde": 5000.0,
            "lo80": 5000.0 - 60 * (y - 2020),
            "hi80": 5000.0 + 60 * (y - 2020),
            "lo95": 5000.0 - 90 * (y - 2020),
            "hi95": 5000.0 + 90 * (y - 2020),
            "interval_soort": "gekalibreerd" if y <= 2026 else "extrapolatie",
            "provisional": False,
        }
        for y in range(2021, 2031)
    ]
    fc = pd.DataFrame(obs + pr)
    fc["scenario"] = np.nan
    row = {
        "doelwaarde_berekend": 2430.0,
        "basiswaarde": 4860.0,
        "status": "niet op koers",
        "kans_band": "< 5%",
        "kans_betekenis": "bij voortzetting van de trend",
        "model": "naief",
        "bron": "Databank Zuid-Holland nr=196 (2011-2020, voorlopig: 2020; herkomst: snapshot)",
        "synthetic": False,
    }
    return goal, fc, row


def test_fan_chart_html_table_ticks_and_caption():
    goal, fc, row = _fan_inputs()
    chart = charts.fan_chart_html(goal, "GM1", "Gemeente", row, fc)
    t = chart.table
    assert list(t.loc[t["reeks"] == "waarneming", "waarde"]) == list(
        fc.loc[fc["soort"] == "waarneming", "waarde"]
    )
    pr = t[t["reeks"] == "prognose"]
    assert list(pr["bovengrens_95"]) == list(fc.loc[fc["soort"] == "prognose", "hi95"])
    assert t.loc[t["reeks"] == "doel", "waarde"].item() == 2430.0
    head, body = _details_table(chart.html)
    assert head == list(t.columns) and len(body) == len(t)
    svg = _svg(chart.html)
    y = _ticks(svg, "y")
    assert y and all(re.fullmatch(r"\d{1,3}(\.\d{3})*", v) for v in y), y
    assert any("." in v for v in y)
    assert "Bron:" not in svg  # the source is in the caption, where no label can cover it
    cap = re.search(r"<figcaption>(.*?)</figcaption>", chart.html).group(1)
    assert (
        "Databank Zuid-Holland" in cap and "meegeleverde echte publicatie" in cap and "voorlopig: 2020" in cap
    )
    assert "aantal" in svg  # unit on the y-axis label


def test_fan_chart_legend_and_labels_stay_clear_of_the_source_line():
    from analysis.goals.figures import fan_chart

    goal, fc, row = _fan_inputs()
    row = {**row, "bron": "Databank Zuid-Holland nr=196 (Tympaan o.b.v. CBS-microdata) " * 4}
    fig = fan_chart(goal, "GM1", "Gemeente", row, fc)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    src = [t for t in fig.texts if t.get_text().startswith("Bron:")]
    assert len(src) == 1
    src_top = src[0].get_window_extent(r).y1
    ax = fig.axes[0]
    others = [fig.legends[0].get_window_extent(r), ax.xaxis.get_tightbbox(r), ax.get_window_extent(r)]
    assert all(b.y0 > src_top for b in others), (src_top, [b.y0 for b in others])
    # the legend sits below the tick labels, never over the data or the axis
    assert fig.legends[0].get_window_extent(r).y1 < ax.xaxis.get_tightbbox(r).y0
    plt.close(fig)


# --- resilience map: colour is never the only carrier (issue 11 item 6) -------------------------------


def test_resilience_map_classes_carry_hatching_and_a_hatched_legend():
    from types import SimpleNamespace

    import geopandas as gpd
    from shapely.geometry import box

    from analysis.figures import SIGNAAL_ARCERING, SIGNAAL_KLEUR
    from analysis.resilience.run import map_figure

    klassen = ["signaal", "aandacht", "geen signaal", "onvoldoende data", None]
    regions = gpd.GeoDataFrame(
        {
            "region_code": [f"BU{i}" for i in range(5)],
            "level": "buurt",
            "name": [f"b{i}" for i in range(5)],
        },
        geometry=[box(i, 0, i + 1, 1) for i in range(5)],
        crs="EPSG:28992",
    )
    scores = pd.DataFrame(
        {
            "region_code": regions["region_code"],
            "signaal": klassen,
            "A_niveau_gemeente": [1.5, 1.1, 0, np.nan, np.nan],
        }
    )
    fig = map_figure(regions, SimpleNamespace(scores=scores, year=2024, synthetic=False), "test")
    ax = fig.axes[1]
    hatch_of = {
        c.get_gid(): c.get_hatch() or "" for c in ax.collections if (c.get_gid() or "").startswith("klasse-")
    }
    for k in ("signaal", "aandacht", "onvoldoende data"):
        assert hatch_of[f"klasse-{k.replace(' ', '-')}"] == SIGNAAL_ARCERING[k]
    assert hatch_of["klasse-geen-score"]
    patterns = [h for h in hatch_of.values()]
    assert len(set(patterns)) == len(patterns)  # every class its own pattern ("" for geen signaal)
    legend = {
        t.get_text(): p.get_hatch()
        for t, p in zip(ax.get_legend().get_texts(), ax.get_legend().get_patches(), strict=True)
    }
    for k in SIGNAAL_KLEUR:
        assert (legend[k] or "") == SIGNAAL_ARCERING[k], k
    assert legend["geen score"]
    plt.close(fig)


def test_resilience_quadrant_classes_differ_in_shape_not_only_colour():
    from types import SimpleNamespace

    from matplotlib.collections import PathCollection

    from analysis.figures import SIGNAAL_KLEUR
    from analysis.resilience.run import quadrant_figure

    klassen = list(SIGNAAL_KLEUR)
    scores = pd.DataFrame(
        {
            "region_code": [f"BU{i}" for i in range(len(klassen))],
            "level": "buurt",
            "signaal": klassen,
            "A_niveau_gemeente": np.linspace(-1, 2, len(klassen)),
            "B_niveau_gemeente": np.linspace(1, -1, len(klassen)),
            "focusgebied": None,
        }
    )
    fig = quadrant_figure(SimpleNamespace(scores=scores, year=2024, synthetic=False), "test", 1.0)
    ax = fig.axes[0]
    shapes = {
        c.get_label(): c.get_paths()[0].vertices.round(3).tobytes()
        for c in ax.collections
        if isinstance(c, PathCollection) and c.get_label() in SIGNAAL_KLEUR
    }
    assert set(shapes) == set(klassen)
    assert len(set(shapes.values())) == len(klassen)  # every class its own marker shape
    legend = [
        h.get_paths()[0].vertices.round(3).tobytes() for h in ax.get_legend().legend_handles[: len(klassen)]
    ]
    assert len(set(legend)) == len(klassen)  # and so does the legend
    plt.close(fig)


# --- indicator explanations (issue 11 item 7) ---------------------------------------------------------


def _cbs_descriptions() -> dict[str, str]:
    """Key -> description (topic) and 'group:<Key>' -> description of the topic's parent group."""
    from analysis.config import SNAPSHOT_DIR

    items = json.loads((SNAPSHOT_DIR / "kwb_2024_85984NED" / "DataProperties.json").read_text("utf-8"))
    by_id = {it["ID"]: it for it in items}
    out = {}
    for it in items:
        if it.get("Key"):
            out[it["Key"]] = it.get("Description") or ""
            out["group:" + it["Key"]] = (by_id.get(it.get("ParentID")) or {}).get("Description") or ""
    return out


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def test_every_key_indicator_on_the_sheets_has_an_explanation():
    from analysis.factsheets.explain import RICHTINGEN, explanations
    from analysis.factsheets.sheet import KEY_INDICATORS, SERIES_INDICATORS

    wanted = list(dict.fromkeys(KEY_INDICATORS + SERIES_INDICATORS))
    ex = explanations(wanted)
    assert [e.indicator for e in ex] == wanted
    for e in ex:
        assert e.label and e.bron and e.eenheid and len(e.definitie) > 30, e
        assert e.richting in RICHTINGEN, e


def test_cbs_definitions_are_verbatim_dataproperties_text_and_own_text_says_so():
    from analysis.config import indicator_catalog
    from analysis.factsheets.explain import explanations, uitleg_catalog

    desc = _cbs_descriptions()
    everything = " ".join(_flat(d) for d in desc.values())
    ex = explanations(list(uitleg_catalog()))
    n_cbs = 0
    for e in ex:
        spec = uitleg_catalog()[e.indicator]
        if spec.get("cbs"):
            n_cbs += 1
            key = spec["cbs"]["key"]
            source = desc[key if spec["cbs"]["deel"] == "onderwerp" else "group:" + key]
            assert e.cbs_sleutel == key and e.cbs_fragmenten
            for frag in e.cbs_fragmenten:
                assert frag in _flat(source), (e.indicator, frag)
            assert _flat(e.definitie) == " … ".join(e.cbs_fragmenten)
            assert "letterlijke tekst van het CBS" in e.herkomst_tekst and "85984NED" in e.herkomst_tekst
            if spec.get("eigen"):  # an own addition is named as ours and kept out of the CBS text
                assert "Eigen toevoeging" in e.herkomst_tekst and spec["eigen"] not in e.definitie
        else:
            assert e.cbs_sleutel is None and not e.cbs_fragmenten
            assert "eigen omschrijving" in e.herkomst_tekst and "CBS-tekst" in e.herkomst_tekst
            assert e.definitie not in everything  # never CBS text passed off as ours, or vice versa
        assert e.label == indicator_catalog()[e.indicator]["label"]
    assert n_cbs >= 8


def test_direction_agrees_with_the_resilience_axes():
    from analysis.factsheets.explain import uitleg_catalog
    from analysis.resilience.config import load_config

    cfg = load_config()
    checked = 0
    for axis, worse_if_higher in (("A", 1), ("B", -1)):
        for ind, d in cfg.directions(axis).items():
            if ind not in uitleg_catalog():
                continue
            want = "hoger = kwetsbaarder" if d * worse_if_higher > 0 else "hoger = beter"
            assert uitleg_catalog()[ind]["richting"] == want, ind
            checked += 1
    assert checked >= 8


def test_headline_fan_chart_title_is_proper_dutch():
    """The headline figure's title passes the Dutch spelling check ('Kopcasus' is not a word)."""
    import matplotlib.pyplot as plt

    from analysis.goals.figures import fan_chart
    from tests.test_spelling import misspelt

    goal, fc, row = _fan_inputs()
    fig = fan_chart(goal, "GM0642", "Zwijndrecht", row, fc, headline=True)
    title = fig.axes[0].get_title()
    plt.close(fig)
    first = title.splitlines()[0]
    assert first.startswith("Kernvoorbeeld armoede: gemeente Zwijndrecht")
    assert misspelt(first, ["Zwijndrecht"]) == set()
