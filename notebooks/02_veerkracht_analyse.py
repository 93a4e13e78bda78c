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
# # 02 Veerkrachtanalyse
#
# Reproductie van de selectie van focusbuurten met een transparante veerkrachtindex
# (methode: `docs/methode_veerkracht.md`, instellingen: `config/resilience.yaml`).
#
# 1. Per indicator een richting (hoger = kwetsbaarder of juist beter), een domein en een gewicht.
# 2. Standaardiseren t.o.v. de gemeente: gewogen (huishoudens) gemiddelde en spreiding tussen buurten.
# 3. Domeinscores en een samengestelde score uit de beschikbare indicatoren, met dekkingsgraad.
# 4. Een trendcomponent: verandering van de relatieve positie over de laatste jaren.
# 5. Signaalklassen rood / oranje / groen, validatie tegen de programmalijst en een gevoeligheidsanalyse.

# %%
import json

import pandas as pd

from analysis.config import default_paths, settings
from analysis.processed.build import load_indicators, load_regions
from analysis.resilience.analysis import compute, sensitivity, validate_against_focus
from analysis.resilience.index import IndexConfig

paths = default_paths()
cfg = IndexConfig.load()
ind, regions = load_indicators(paths), load_regions(paths)
res = compute(ind, regions, cfg, settings()["min_inwoners"], settings()["gemeente"]["code"])
if res.synthetic:
    print("LET OP: de invoer is (deels) SYNTHETISCH. Alles hieronder is een methodedemonstratie, "
          "geen bevinding over Zwijndrecht.")
print("Jaar:", res.year, "trendvenster:", res.years)
print("Gebruikte indicatoren:", res.indicators_used, "ontbrekend:", res.indicators_missing)

# %% [markdown]
# ## Scores en klassen per buurt

# %%
res.scores.query("level == 'buurt'").sort_values("index", ascending=False).head(20)

# %% [markdown]
# ## Uitgesloten (kleine) buurten

# %%
res.excluded

# %% [markdown]
# ## Validatie tegen de focusbuurten van het programma

# %%
metrics, disagreements = validate_against_focus(res)
print(json.dumps(metrics, indent=2, default=float))
disagreements

# %% [markdown]
# ## Gevoeligheid voor gewichten en indicatorkeuze

# %%
sens, summary = sensitivity(res, cfg)
print(summary)
sens.sort_values("p_rood", ascending=False).head(20)

# %%
pd.crosstab(sens["robuustheid"], res.scores.set_index("region_code").loc[sens["region_code"], "klasse"].values)
