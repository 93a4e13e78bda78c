# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (veerkracht)
#     language: python
#     name: veerkracht
# ---

# %% [markdown]
# # 03 Doelen en prognoses
#
# Alle doelstellingen van het programma staan in `config/doelen.yaml`. Meetbare doelen krijgen een
# puntprognose, 80%/95%-intervallen die per horizon op echte Zuid-Hollandse reeksen zijn gekalibreerd,
# een kans dat het doel gehaald wordt (alleen in banden, **bij voortzetting van de trend, zonder
# programma-effect**) en een status. Voorbij de getoetste horizon is het interval een extrapolatie en
# staan er scenario's naast. Methode en gemeten bewijs: `docs/methode_prognoses.md`.
#
# Dit notebook schrijft **niets** in `outputs/`, tenzij u hieronder `SCHRIJF_UITVOER = True` zet. Zonder
# bestaande uitvoer rekent het de doelen door in een tijdelijke map.

# %%
import json

import pandas as pd

from analysis.config import default_paths
from analysis.goals.catalog import load_catalog
from analysis.goals.run import run

paths = default_paths()
goals, raw = load_catalog()
print(f"{len(goals)} doelen, waarvan {sum(g.meetbaar for g in goals)} meetbaar met de beschikbare data")
pd.DataFrame([{"id": g.id, "pijler": g.pijler, "meetbaar": g.meetbaar, "indicator": g.indicator,
               "reden/bron": g.reden and f"{g.reden} ({g.bron})"} for g in goals])

# %% [markdown]
# ## Status, echte en synthetische reeksen apart
#
# Focusgebiedsdoelen draaien offline op synthetische reeksen (methodedemonstratie); ze worden nooit
# samen met echte reeksen geteld.

# %%
import dataclasses
import tempfile
from pathlib import Path

SCHRIJF_UITVOER = False  # True: (over)schrijf outputs/<GM>/goals, zoals `veerkracht goals` doet

if SCHRIJF_UITVOER:
    d = run(paths)["dir"]
elif (paths.outputs / "goals" / "status.parquet").exists():
    d = paths.outputs / "goals"  # de uitvoer van de laatste `make report` / `veerkracht goals`
else:
    tijdelijk = dataclasses.replace(paths, outputs=Path(tempfile.mkdtemp(prefix="doelen_")))
    d = run(tijdelijk)["dir"]
print(f"uitvoer gelezen uit: {d}")
summary = json.loads((d / "samenvatting.json").read_text())
pd.DataFrame({"echt": summary["status_echt"], "synthetisch": summary["status_synthetisch"]}).fillna(0).astype(int)

# %%
status = pd.read_parquet(d / "status.parquet")
status[status["model"].notna()].groupby(["synthetic", "interval_soort", "kans_band"]).size().unstack(fill_value=0)

# %% [markdown]
# ## Prognose voor een eigen reeks
#
# `forecast_series` is precies de functie die `veerkracht goals` voor elk doel gebruikt. Typ hieronder
# uw eigen jaarcijfers (jaar: waarde; ontbrekende jaren mogen) en het laatste jaar van de prognose.
# Uitkomst per jaar: puntprognose, 80%- en 95%-interval en of dat interval op het paneel getoetst is
# (`gekalibreerd`) of daarbuiten ligt (`extrapolatie`). Alles geldt *bij voortzetting van de trend,
# zonder programma-effect*.

# %%
from analysis.goals import forecast_series

mijn_reeks = pd.Series({2014: 1210, 2015: 1262, 2016: 1301, 2017: 1365, 2018: 1398, 2019: 1450, 2020: 1489})
tot_en_met = 2030

fc = forecast_series(mijn_reeks, until=tot_en_met)
print(f"puntmodel: {fc.attrs['model']} ({fc.attrs['modelkeuze']})")
if fc.attrs["drift"] is not None:
    print("ter vergelijking, drift (laatste waarde + gemiddelde jaarverandering):",
          ", ".join(f"{j}: {v:,.0f}".replace(",", ".") for j, v in fc.attrs["drift"].items()))
fc.round(1)

# %%
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 4))
ax.fill_between(fc.index, fc["lo95"], fc["hi95"], color="#9ecae1", alpha=0.5, linewidth=0, label="95%-interval")
ax.fill_between(fc.index, fc["lo80"], fc["hi80"], color="#4292c6", alpha=0.5, linewidth=0, label="80%-interval")
ax.plot(fc.index, fc["point"], "--", color="#08519c", label=f"prognose ({fc.attrs['model']})")
if fc.attrs["drift"] is not None:
    ax.plot(fc.index, fc.attrs["drift"], ":", color="#6a51a3", label="ter vergelijking: drift")
ax.plot(mijn_reeks.index, mijn_reeks.values, "o-", color="black", label="waarneming")
ext = fc.index[fc["kind"] == "extrapolatie"]
if len(ext):
    ax.axvline(ext[0] - 0.5, color="#555", linestyle=":", linewidth=1)
ax.set_title("Eigen reeks: bij voortzetting van de trend, zonder programma-effect", fontsize=9)
ax.legend(fontsize=7, frameon=False)
plt.show()

# %% [markdown]
# ## Kopcasus: armoede in de gemeente Zwijndrecht (echte cijfers)
#
# Doel P2-03: *In 2040 is het aantal inwoners in de focusbuurten dat leeft in armoede gedaald met 70%
# ten opzichte van 2015.* Buurtcijfers over armoede ontbreken offline; daarom de **gemeentelijke** reeks
# huishoudens (25-64 jaar) met lage welvaart 2011-2020 (Databank Zuid-Holland nr196 / Tympaan o.b.v. CBS).
# Dit is de gemeente, niet de focusbuurten. 2020 is voorlopig en heeft een methodebreuk.

# %%
from IPython.display import Image, Markdown

from analysis.goals.run import HEADLINE_ID, headline_table

head = status[status["doel_id"] == HEADLINE_ID].iloc[0]
Markdown(headline_table(head.to_dict()))

# %%
Image(filename=str(d / "kopcasus_armoede_gemeente.png"))

# %% [markdown]
# ## Bewijs per horizon (echte panelen)
#
# Modelkeuze: rolling-origin MASE op de echte panelen (naief en drift zijn ook de benchmarks).

# %%
pd.read_csv(d / "modelkeuze.csv")

# %% [markdown]
# Validatie buiten de steekproef: een hele data set of een blok doeljaren apart, dekking met
# Wilson-95%-interval per horizon, per trend/ruis-klasse en per reekslengte, MSIS naast drift-t en
# naief-t, MASE t.o.v. naief. Het gekozen model:

# %%
val = pd.read_csv(d / "validatie.csv")
cols = ["schema", "indeling", "klasse", "h", "n", "n_doeljaren", "interval", "dekking80", "dekking80_wilson_lo",
        "dekking80_wilson_hi", "dekking95", "msis95", "msis95_drift_t", "msis95_naief_t", "mase_ratio_naief"]
val[(val["toets"] == "alle") & (val["model"] == summary["modelvolgorde"][0])][cols].round(3)

# %% [markdown]
# Gekalibreerde halve breedtes q_h (in schaaleenheden) met de bootstrapband over doeljaren; voorbij
# de getoetste horizon uit de groeiwet, nooit smaller (extrapolatie). Daarnaast de modelmatige kruiscontrole (MixedLM met jaareffecten).

# %%
kal = pd.read_csv(d / "kalibratie.csv")
kal[(kal["model"] == summary["modelvolgorde"][0]) & kal["h"].isin([1, 2, 3, 4, 5, 6, 10, 15, 20])].round(2)

# %%
pd.read_csv(d / "kruiscontrole_mixedlm.csv").query("h in [1, 3, 6, 20]").round(2)

# %% [markdown]
# Snelste aanhoudende verandering (8 jaar, Theil-Sen) in het paneel: de grens voor het scenario
# "snelste verbetering in het paneel".

# %%
pd.read_csv(d / "paneltempo.csv").sort_values("tempo_pct").head(5)
