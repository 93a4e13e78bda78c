"""`veerkracht resilience`: compute and write outputs/resilience/."""

from __future__ import annotations

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from analysis.config import Paths, settings
from analysis.figures import SIGNAAL_ARCERING, SIGNAAL_KLEUR, SIGNAAL_MARKER, finish, save, sources_of
from analysis.io import write_json, write_table
from analysis.processed.build import load_indicators, load_regions
from analysis.resilience.analysis import ResilienceResult, compute
from analysis.resilience.config import load_config
from analysis.resilience.national import kwb_placement, lbm2_placement
from analysis.resilience.robustness import sensitivity, validate_against_focus
from analysis.reuse import Store, cache_root, now


def _caption(ind: pd.DataFrame, res: ResilienceResult) -> str:
    rows = ind[
        ind["indicator"].isin(res.indicators_used) & ind["year"].isin(res.years) & (ind["level"] == "buurt")
    ]
    return (
        sources_of(rows) + "; kaart: CBS/Kadaster Wijk- en buurtkaart 2023 (PDOK); "
        "signaal: analysis.resilience (docs/methode_veerkracht.md)"
    )


ARCERING_LIJN = "#4d4d4d"  # hatch lines: dark grey, visible on every class colour
GEEN_SCORE = ("geen score", "#f2f2f2", "---")  # buurten without a score (e.g. below the coverage gate)


def map_figure(regions: gpd.GeoDataFrame, res: ResilienceResult, caption: str) -> plt.Figure:
    b = regions[regions["level"] == "buurt"].merge(
        res.scores[["region_code", "signaal", "A_niveau_gemeente"]], on="region_code", how="left"
    )
    focus = regions[regions["level"] == "focusgebied"]
    focus = focus[focus["region_code"] != "FG00"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 6.4))
    b.plot(
        column="A_niveau_gemeente",
        cmap="PuOr_r",
        ax=axes[0],
        legend=True,
        vmin=-2.5,
        vmax=2.5,
        missing_kwds={"facecolor": GEEN_SCORE[1], "hatch": GEEN_SCORE[2], "edgecolor": "#b0b0b0"},
        legend_kwds={"label": "as A: concentratie lage zelfredzaamheid (SD t.o.v. gemeente)", "shrink": 0.6},
    )
    # colour is never the only carrier: every class also has its own hatch pattern (SIGNAAL_ARCERING)
    kleur = {**SIGNAAL_KLEUR, GEEN_SCORE[0]: GEEN_SCORE[1]}
    arcering = {**SIGNAAL_ARCERING, GEEN_SCORE[0]: GEEN_SCORE[2]}
    klasse = b["signaal"].where(b["signaal"].isin(list(SIGNAAL_KLEUR)), GEEN_SCORE[0])
    for k, g in b.groupby(klasse, sort=False):
        g.plot(
            ax=axes[1],
            facecolor=kleur[k],
            hatch=arcering[k],
            edgecolor="#b0b0b0" if k == GEEN_SCORE[0] else ARCERING_LIJN,
            linewidth=0.3,
            gid=f"klasse-{k.replace(' ', '-')}",
        )
    titles = [f"As A, niveau {res.year}", f"Signaal {res.year} (t.o.v. gemeente)"]
    for ax, title in zip(axes, titles, strict=True):
        if len(focus):  # only the programme's municipality has focus areas
            focus.boundary.plot(ax=ax, color="black", linewidth=1.2)
        ax.set_title(title)
        ax.set_axis_off()
    axes[0].legend(
        handles=[
            Patch(facecolor=GEEN_SCORE[1], hatch=GEEN_SCORE[2], edgecolor="#b0b0b0", label="geen score")
        ],
        loc="lower left",
        fontsize=8,
    )
    shown = [k for k in kleur if k in SIGNAAL_KLEUR or (klasse == k).any()]
    handles = [
        Patch(
            facecolor=kleur[k],
            hatch=arcering[k],
            edgecolor="#b0b0b0" if k == GEEN_SCORE[0] else ARCERING_LIJN,
            label=k,
        )
        for k in shown
    ]
    if len(focus):
        handles.append(Patch(facecolor="none", edgecolor="black", label="focusbuurt (programma)"))
    axes[1].legend(handles=handles, loc="lower left", fontsize=8, handleheight=1.6, handlelength=2.4)
    return finish(fig, caption, res.synthetic)


def quadrant_figure(res: ResilienceResult, caption: str, t_level: float) -> plt.Figure:
    d = res.scores[res.scores["level"] == "buurt"].dropna(subset=["A_niveau_gemeente", "B_niveau_gemeente"])
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    for k, g in d.groupby("signaal"):
        ax.scatter(
            g["A_niveau_gemeente"],
            g["B_niveau_gemeente"],
            c=SIGNAAL_KLEUR.get(k, "#999"),
            marker=SIGNAAL_MARKER.get(k, "o"),  # shape as well as colour: never colour alone
            edgecolor="#333",
            linewidth=0.4,
            s=40,
            label=k,
        )
    focus = d[d["focusgebied"].notna()]
    ax.scatter(
        focus["A_niveau_gemeente"],
        focus["B_niveau_gemeente"],
        facecolor="none",
        edgecolor="black",
        s=110,
        linewidth=1.0,
        label="focusbuurt (programma)",
    )
    ax.axvline(t_level, color="#b2182b", linestyle="--", linewidth=1)
    ax.axhline(-t_level, color="#b2182b", linestyle="--", linewidth=1)
    ax.set_xlabel("As A: concentratie lage zelfredzaamheid (hoger = meer)")
    ax.set_ylabel("As B: uitkomst leefbaarheid en veiligheid (hoger = beter)")
    ax.set_title(f"Buurten op twee assen, {res.year} (SD t.o.v. gemeente)")
    ax.legend(fontsize=8, loc="upper right")
    return finish(fig, caption, res.synthetic)


def national_figure(levels: pd.DataFrame) -> plt.Figure:
    k = levels[(levels["level"] == "wijk") & (levels["maat"] == "klasse (1-9)")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    for name, g in k.groupby("name"):
        axes[0].plot(g["year"], g["percentiel_nl"], marker="o", label=name)
    axes[0].set_ylim(0, 100)
    axes[0].set_ylabel("percentiel onder alle NL-wijken (hoger = beter)")
    axes[0].set_title("Leefbaarometer 2.0-klasse, 2002-2016")
    axes[0].legend(fontsize=7)
    s = levels[
        (levels["level"] == "wijk") & (levels["maat"].str.startswith("score")) & (levels["year"] == 2016)
    ]
    s = s[s["dimensie"] != "totaal"]
    heat = s.pivot_table(index="name", columns="dimensie", values="percentiel_nl")
    im = axes[1].imshow(heat.to_numpy(), cmap="RdBu", vmin=0, vmax=100, aspect="auto")
    axes[1].set_yticks(np.arange(len(heat.index)), heat.index, fontsize=8)
    axes[1].set_xticks(np.arange(len(heat.columns)), heat.columns, rotation=30, ha="right", fontsize=8)
    for (i, j), v in np.ndenumerate(heat.to_numpy()):
        axes[1].text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=7)
    axes[1].grid(False)
    axes[1].set_title("Percentiel per dimensie, 2016")
    fig.colorbar(im, ax=axes[1], shrink=0.7)
    caption = (
        "Leefbaarometer 2.0 meting 2016 (Ministerie van BZK), alle NL-wijken; herkomst: snapshot "
        "(echte cijfers, geen synthetische invoer). Dimensie 'bewoners' niet gebruikt."
    )
    return finish(fig, caption, synthetic=False)


def _tree_digest(root) -> str:
    """Names and contents of every file under ``root``."""
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    for f in sorted(Path(root).rglob("*")):
        if f.is_file():
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def rc_state() -> str:
    """matplotlib's current settings: part of every figure's key."""
    import matplotlib

    return repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items()))


def _figure(store: Store, path, parts: tuple, make) -> None:
    """Write the PNG that ``make()`` draws to ``path``, or the same bytes stored from a run with
    the same ``parts`` (everything the figure shows) and code."""
    from analysis.io import write_with

    def draw() -> bytes:
        save(make(), path)
        return path.read_bytes()

    data = store.get_or_make("figuur", parts, draw)
    if not path.exists() or path.read_bytes() != data:
        write_with(path, lambda p: p.write_bytes(data))


def check_n_sim(n_sim: int | None) -> int | None:
    """``n_sim`` (None: sensitivity.n_sim of config/resilience.yaml) within the same range as that
    setting: 0 or a negative number is an error, never the default in disguise."""
    from typing import Annotated

    from pydantic import TypeAdapter, ValidationError

    from analysis.config_errors import dutch
    from analysis.errors import InputError
    from analysis.resilience.config import SensitivitySpec

    if n_sim is None:
        return None
    rule = Annotated[int, *SensitivitySpec.model_fields["n_sim"].metadata]
    try:
        return TypeAdapter(rule).validate_python(n_sim, strict=True)
    except ValidationError as exc:
        why = dutch(exc.errors()[0])
        raise InputError(
            f"n_sim {n_sim!r}: {why} (net als sensitivity.n_sim in config/resilience.yaml)"
        ) from None


def run(paths: Paths, n_sim: int | None = None) -> dict:
    n_sim = check_n_sim(n_sim)
    cfg = load_config()
    ind, regions = load_indicators(paths), load_regions(paths)
    gemeente = paths.gemeente
    res = compute(ind, regions, cfg, int(settings()["min_inwoners"]), gemeente)
    metrics, disagreements = validate_against_focus(res)
    if not (regions["level"] == "focusgebied").any():
        # no programme focus areas to validate against (a municipality other than the programme's)
        metrics = {
            **{k: metrics[k] for k in ("year", "n_buurten") if k in metrics},
            "synthetic_inputs": res.synthetic,
            "status": "geen focusgebieden/programmadoelen voor deze gemeente: geen validatie",
        }
        disagreements = disagreements.iloc[0:0]
    store, started = Store(cache_root(paths.outputs) / "veerkracht"), now()
    sens, sens_summary = sensitivity(res, cfg, n_sim, store=store)
    scores = res.scores.merge(
        sens[["region_code", "p_signaal", "robuustheid", "onzekerheid_door"]], on="region_code", how="left"
    )
    # the national placement reads only the bundled snapshot: reused while that and the code stay
    snap = _tree_digest(paths.snapshot)
    lv, tr = store.get_or_make("lbm2", (snap, gemeente), lambda: lbm2_placement(paths.snapshot, gemeente))
    kwb = store.get_or_make("kwb", (snap, gemeente), lambda: kwb_placement(paths.snapshot, gemeente))

    out = paths.outputs / "resilience"
    out.mkdir(parents=True, exist_ok=True)
    write_table(out / "scores", scores)
    write_table(out / "samenstelling", res.composition.assign(synthetic_inputs=res.synthetic))
    write_table(out / "bijdragen", res.contributions.assign(synthetic_inputs=res.synthetic))
    write_table(out / "context", res.context)
    write_table(out / "uitgesloten", res.excluded.assign(synthetic_inputs=res.synthetic))
    write_table(out / "validatie_verschillen", disagreements)
    write_table(out / "gevoeligheid", sens)
    write_table(out / "nationaal_lbm2_niveau", lv)
    write_table(out / "nationaal_lbm2_trend", tr)
    write_table(out / "nationaal_kwb", kwb)
    write_json(
        out / "validatie.json",
        {
            **{k: (float(v) if isinstance(v, np.floating) else v) for k, v in metrics.items()},
            "indicators_used": res.indicators_used,
            "indicators_missing": res.indicators_missing,
            "context_indicators": list(cfg.context),
            "sensitivity": sens_summary,
            "years": res.years,
            "nationaal": {
                "bron": "Leefbaarometer 2.0 meting 2016 (BZK); CBS 83487NED/83765NED (KWB 2016/2017)",
                "origin": "snapshot",
                "synthetic": False,
                "n_wijken_nl_2016": int(lv.loc[(lv["level"] == "wijk") & (lv["year"] == 2016), "n_nl"].max()),
            },
        },
    )
    caption = _caption(ind, res)
    shown = res.scores[["level", "region_code", "signaal", "A_niveau_gemeente", "B_niveau_gemeente"]]
    focus = res.scores["focusgebied"]
    common = (shown, focus, res.year, caption, res.synthetic, rc_state())
    _figure(
        store,
        out / "kaart_signaal.png",
        ("kaart", regions, *common),
        lambda: map_figure(regions, res, caption),
    )
    t_level = cfg.thresholds.level
    _figure(
        store,
        out / "assen_buurten.png",
        ("assen", t_level, *common),
        lambda: quadrant_figure(res, caption, t_level),
    )
    _figure(store, out / "nationaal_lbm2.png", ("nationaal", lv, rc_state()), lambda: national_figure(lv))
    store.prune(used_since=started - 2.0)  # keep what this run used: one run's parts, not every run's
    n_scored = int((res.scores.loc[res.scores["level"] == "buurt", "signaal"] != "onvoldoende data").sum())
    return {
        "dir": out,
        "n_scored": n_scored,
        "n_excluded": len(res.excluded),
        "synthetic_indicators": sorted(
            ind.loc[
                (ind["origin"] == "synthetic") & ind["indicator"].isin(res.indicators_used), "indicator"
            ].unique()
        ),
    }
