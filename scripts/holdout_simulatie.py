"""Simulated hold-out like issue 23's: trending yearly series 2014-2020, every origin with >= 4 years, forecast
forecast through forecast_series (the real panel calibration), coverage per h."""

import numpy as np, pandas as pd
from statsmodels.stats.proportion import proportion_confint
from analysis.goals import forecast_series
from analysis.goals.series import default_evidence

ev = default_evidence()
rng = np.random.default_rng(2023)


def one(kind, r):
    t = np.arange(7)
    if kind == "rw":
        y = 1000 + np.cumsum(r * 10 + 10 * rng.standard_normal(7))
    elif kind == "lin":
        y = 1000 + r * 10 * t + 10 * rng.standard_normal(7)
    elif kind == "curv":
        y = 1000 + r * 10 * t + r * t**2 + 10 * rng.standard_normal(7)
    return pd.Series(y, index=range(2014, 2021))


res = []
for kind in ("rw", "lin", "curv"):
    for r in (0.5, 1, 2, 4, 8):
        for rep in range(40):  # 40 series per kind and trend/noise
            s = one(kind, r)
            for k in (4, 5, 6):
                fc = forecast_series(s.iloc[:k], 2020, evidence=ev)
                for yr, row in fc.iterrows():
                    a = s[yr]
                    res.append(
                        (kind, r, yr - s.index[k - 1], row.lo80 <= a <= row.hi80, row.lo95 <= a <= row.hi95)
                    )
df = pd.DataFrame(res, columns=["kind", "r", "h", "hit80", "hit95"])
print(df.groupby(["kind", "r", "h"])[["hit80", "hit95"]].mean().unstack("h").round(2).to_string())
