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
# programma-effect**) en een status. Voorbij 6 jaar is het interval een extrapolatie en staan er
# scenario's naast. Methode en gemeten bewijs: `docs/methode_prognoses.md`.

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
out = run(paths)
d = out["dir"]
summary = json.loads((d / "samenvatting.json").read_text())
pd.DataFrame({"echt": summary["status_echt"], "synthetisch": summary["status_synthetisch"]}).fillna(0).astype(int)

# %%
status = pd.read_parquet(d / "status.parquet")
status[status["model"].notna()].groupby(["synthetic", "interval_soort", "kans_band"]).size().unstack(fill_value=0)

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
# Wilson-95%-interval, MSIS naast drift-t en naief-t, MASE t.o.v. naief. Het gekozen model:

# %%
val = pd.read_csv(d / "validatie.csv")
cols = ["schema", "h", "n", "n_doeljaren", "interval", "dekking80", "dekking80_wilson_lo", "dekking80_wilson_hi",
        "dekking95", "msis95", "msis95_drift_t", "msis95_naief_t", "mase_ratio_naief"]
val[(val["toets"] == "alle") & (val["model"] == summary["modelvolgorde"][0])][cols].round(3)

# %% [markdown]
# Gekalibreerde halve breedtes q_h (in schaaleenheden) met de bootstrapband over doeljaren; voorbij
# h = 6 uit de groeiwet (extrapolatie). Daarnaast de modelmatige kruiscontrole (MixedLM met jaareffecten).

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
