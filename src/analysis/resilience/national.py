"""Zwijndrecht's wijken in the national distribution, on REAL published data (origin ``snapshot``).

Leefbaarometer 2.0 (meting 2016) for all NL wijken and gemeenten: class 2002-2016 and the scores
of the total and four dimensions 2012-2016, their development; KWB 2016/2017 attributes for all NL
wijken (household types, age). For every Zwijndrecht wijk (and the municipality among gemeenten):
the value, the national percentile (share of NL areas of the same level with a lower value, ties
counted half; also weighted by inhabitants) and the NL value. No synthetic input anywhere.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.sources import snapshot

ORIGIN = "snapshot"
LABEL = "echte cijfers (gepubliceerd), geen synthetische invoer"


def percentile(values: pd.Series, x: float, weights: pd.Series | None = None) -> float:
    """Share (0-100) of ``values`` below ``x``, ties counted half; optionally weighted."""
    return _Distribution(values, weights).percentile(x)


class _Distribution:
    """The values (and weights) of one national distribution, filtered once for many percentiles."""

    def __init__(self, values: pd.Series, weights: pd.Series | None = None):
        v = values.to_numpy(float)
        w = np.ones_like(v) if weights is None else weights.reindex(values.index).to_numpy(float)
        ok = ~np.isnan(v) & ~np.isnan(w) & (w > 0)
        self.v, self.w = v[ok], w[ok]

    def percentile(self, x: float) -> float:
        v, w = self.v, self.w
        if not len(v) or np.isnan(x):
            return float("nan")
        return float(100 * (w[v < x].sum() + 0.5 * w[v == x].sum()) / w.sum())


def _place(nat: pd.DataFrame, ours: list[str], key: list[str], weights: pd.Series | None) -> pd.DataFrame:
    """For each group of ``key`` in ``nat`` (region_code, level, value, ...): our regions' percentiles.

    Only the groups that hold one of ``ours`` are looked at (the others give no row)."""
    rows = []
    mine = nat["region_code"].isin(ours).to_numpy()
    for k, idx in nat.groupby(key).indices.items():
        if not mine[idx].any():
            continue
        g = nat.iloc[idx].set_index("region_code")
        wts = None if weights is None else weights.reindex(g.index)
        plain = _Distribution(g["value"])
        weighted = _Distribution(g["value"], wts) if wts is not None else None
        median, n = float(g["value"].median()), int(g["value"].notna().sum())
        for code in ours:
            if code not in g.index:
                continue
            x = float(g.loc[code, "value"])
            rows.append(
                {
                    **dict(zip(key, k if isinstance(k, tuple) else (k,), strict=True)),
                    "region_code": code,
                    "value": x,
                    "percentiel_nl": plain.percentile(x),
                    "percentiel_nl_inwoners": weighted.percentile(x) if weighted is not None else np.nan,
                    "mediaan_nl": median,
                    "n_nl": n,
                }
            )
    return pd.DataFrame(rows)


def lbm2_placement(snap: Path, gemeente: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(levels, trends): Leefbaarometer 2.0 classes and scores, and their change, of Zwijndrecht's
    wijken among all NL wijken and of the municipality among all NL gemeenten."""
    num = gemeente[2:]
    kwb = snapshot.kwb_national(snap)
    inw = kwb[kwb["year"] == 2016].set_index("region_code")["inwoners"]
    classes = snapshot.lbm2_national_classes(snap).rename(columns={"klasse": "value"})
    scores = snapshot.lbm2_national_scores(snap)
    dev = snapshot.lbm2_national_development(snap)
    levels, trends = [], []
    for level, prefix in (("wijk", f"WK{num}"), ("gemeente", gemeente)):
        c = classes[classes["level"] == level]
        ours = sorted(c.loc[c["region_code"].str.startswith(prefix), "region_code"].unique())
        kl = _place(c, ours, ["year"], inw).assign(maat="klasse (1-9)", dimensie="totaal")
        sc = _place(scores[scores["level"] == level], ours, ["year", "dimensie"], inw).assign(
            maat="score (afwijking t.o.v. NL)"
        )
        levels += [kl.assign(level=level), sc.assign(level=level)]
        # class change 2002 -> 2016 per area, then placed among all areas of the level
        wide = c.pivot_table(index="region_code", columns="year", values="value")
        if {2002, 2016} <= set(wide.columns):
            ch = (wide[2016] - wide[2002]).dropna().rename("value").reset_index().assign(level=level)
            ch = ch.assign(periode="2002-2016", dimensie="totaal", maat="verschil klasse")
            trends.append(_place(ch, ours, ["periode", "dimensie", "maat"], inw).assign(level=level))
        d = dev[dev["level"] == level].assign(
            periode=lambda x: x["begin"].astype(str) + "-" + x["einde"].astype(str)
        )
        d = d.assign(maat="ontwikkeling score")
        trends.append(_place(d, ours, ["periode", "dimensie", "maat"], inw).assign(level=level))
    lv = pd.concat(levels, ignore_index=True)
    tr = pd.concat(trends, ignore_index=True)
    names = kwb.drop_duplicates("region_code", keep="last").set_index("region_code")["name"]
    for df in (lv, tr):
        df["name"] = df["region_code"].map(names).str.replace(r"^Wijk \d\d ", "", regex=True)
        df["bron"] = snapshot.LBM2_SOURCE + "; inwonersgewicht: CBS 83487NED (KWB 2016)"
        df["origin"] = ORIGIN
        df["synthetic"] = False
        df["label"] = LABEL
    lv_cols = [
        "region_code",
        "name",
        "level",
        "year",
        "maat",
        "dimensie",
        "value",
        "percentiel_nl",
        "percentiel_nl_inwoners",
        "mediaan_nl",
        "n_nl",
        "bron",
        "origin",
        "synthetic",
        "label",
    ]
    tr_cols = [("periode" if c == "year" else c) for c in lv_cols]
    return (
        lv[lv_cols].sort_values(["level", "region_code", "maat", "dimensie", "year"]).reset_index(drop=True),
        tr[tr_cols]
        .sort_values(["level", "region_code", "maat", "dimensie", "periode"])
        .reset_index(drop=True),
    )


KWB_WEIGHT = {
    "pct_0_15": "inwoners",
    "pct_65_plus": "inwoners",
    "eenpersoons_hh_pct": "huishoudens",
    "hh_met_kinderen_pct": "huishoudens",
    "huishoudgrootte": "huishoudens",
}


def kwb_placement(snap: Path, gemeente: str) -> pd.DataFrame:
    """KWB 2016/2017 household and age figures of Zwijndrecht's wijken among all NL wijken, with the
    NL value (weighted mean over all gemeenten) for reference. Context and axis-A inputs only."""
    num = gemeente[2:]
    kwb = snapshot.kwb_national(snap)
    rows = []
    for (year, level), g in kwb.groupby(["year", "level"]):
        prefix = f"WK{num}" if level == "wijk" else gemeente
        ours = sorted(g.loc[g["region_code"].str.startswith(prefix), "region_code"])
        by_code = g.set_index("region_code")
        gem = kwb[(kwb["year"] == year) & (kwb["level"] == "gemeente")]
        bron = str(g["source_table"].iloc[0])
        for ind, wname in KWB_WEIGHT.items():
            gg = by_code[ind].rename("value")
            plain, weighted = _Distribution(gg), _Distribution(gg, by_code[wname])
            ok = gem[ind].notna() & gem[wname].notna()
            nl = float((gem.loc[ok, ind] * gem.loc[ok, wname]).sum() / gem.loc[ok, wname].sum())
            for code in ours:
                x = float(gg.get(code, np.nan))
                rows.append(
                    {
                        "region_code": code,
                        "name": str(by_code.loc[code, "name"]),
                        "level": level,
                        "year": int(year),
                        "indicator": ind,
                        "value": x,
                        "percentiel_nl": plain.percentile(x),
                        "percentiel_nl_gewogen": weighted.percentile(x),
                        "nederland": nl,
                        "n_nl": int(gg.notna().sum()),
                        "bron": bron,
                    }
                )
    out = pd.DataFrame(rows)
    out["name"] = out["name"].str.replace(r"^Wijk \d\d ", "", regex=True)
    return out.assign(origin=ORIGIN, synthetic=False, label=LABEL)
