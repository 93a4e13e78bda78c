# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (veerkracht)
#     language: python
#     name: veerkracht
# ---

# %% [markdown]
# # 02 Veerkrachtanalyse (v2: twee assen, niveau en trend)
#
# Methode: `docs/methode_veerkracht.md`; instellingen: `config/resilience.yaml`.
#
# 1. **As A — concentratie lage zelfredzaamheid**: SES-WOA (totaal, welvaart, arbeidsverleden), laag inkomen,
#    onder/rond sociaal minimum, bijstand, AO-uitkering, Wmo, jeugdzorg, eenouder- en eenpersoonshuishoudens.
# 2. **As B — uitkomst**: Leefbaarometer 3.0 (totaal, overlast en onveiligheid, sociale samenhang) en
#    geregistreerde misdrijven.
# 3. Per as een **niveau** en een **verandering** over de laatste jaren, t.o.v. de gemeente én t.o.v. Nederland.
# 4. **Signaal** = A hoog én (A stijgend of B laag of B dalend). Een signaal is aanleiding voor een gesprek,
#    geen oordeel.
# 5. Grotere gebieden: **samenstelling** (buurten en inwoners per signaalklasse), geen verdunde klasse.
# 6. Gevoeligheid: gewichten, indicatorset, drempels ± een stap en betrouwbaarheidsgrenzen -> P(signaal).
# 7. Zwijndrecht in de **landelijke verdeling** op echte Leefbaarometer 2.0- en KWB-cijfers (geen synthetische invoer).
#
# Corporatiebezit, WOZ en leeftijdsopbouw zijn context (getoond, niet gescoord). Migratieachtergrond wordt nergens gebruikt.

# %%
import json

import pandas as pd

from analysis.config import default_paths, settings
from analysis.processed.build import load_indicators, load_regions
from analysis.resilience.analysis import compute
from analysis.resilience.robustness import sensitivity, validate_against_focus
from analysis.resilience.config import load_config
from analysis.resilience.national import kwb_placement, lbm2_placement

paths = default_paths()
cfg = load_config()
ind, regions = load_indicators(paths), load_regions(paths)
gemeente = settings()["gemeente"]["code"]
res = compute(ind, regions, cfg, settings()["min_inwoners"], gemeente)
if res.synthetic:
    print("LET OP: de invoer is (deels) SYNTHETISCH. De buurtsignalen hieronder zijn een methodedemonstratie, "
          "geen bevinding over Zwijndrecht. De landelijke vergelijking onderaan gebruikt wel echte cijfers.")
print("Peiljaar:", res.year, "venster voor de verandering:", res.years)
print("Gebruikte indicatoren:", res.indicators_used, "ontbrekend:", res.indicators_missing)
print("Drempels:", cfg.thresholds.model_dump(), "referentie van het signaal:", cfg.signal.reference)

# %% [markdown]
# ## Signaal per buurt (beide referenties)

# %%
cols = ["name", "A_niveau_gemeente", "A_trend_gemeente", "B_niveau_gemeente", "B_trend_gemeente",
        "signaal_gemeente", "signaal_nederland", "signaal_reden"]
b = res.scores.query("level == 'buurt'").set_index("region_code")
b.sort_values("A_niveau_gemeente", ascending=False)[cols].head(20)

# %%
pd.crosstab(b["A_niveauklasse_gemeente"], b["B_niveauklasse_gemeente"])

# %% [markdown]
# ## Grotere gebieden: samenstelling, geen verdunde klasse

# %%
res.composition.query("level != 'buurt'").pivot_table(
    index=["region_code", "name"], columns="signaal", values="inwoners", aggfunc="sum", fill_value=0
)

# %% [markdown]
# ## Context (getoond, niet gescoord) en uitgesloten kleine buurten

# %%
res.context.pivot_table(index="region_code", columns="indicator", values="value").head(10)

# %%
res.excluded

# %% [markdown]
# ## Validatie tegen de focusbuurten van het programma

# %%
metrics, disagreements = validate_against_focus(res)
print(json.dumps(metrics, indent=2, default=float))
disagreements

# %% [markdown]
# ## Gevoeligheid: P(signaal) en robuustheid

# %% tags=["parameters"]
# aantal trekkingen; None: n_sim uit config/resilience.yaml (500)
TREKKINGEN = None

# %%
sens, summary = sensitivity(res, cfg, n_sim=TREKKINGEN)
print(summary)
sens.sort_values("p_signaal", ascending=False).head(20)

# %%
pd.crosstab(sens["robuustheid"], sens["signaal"])

# %% [markdown]
# ## Zwijndrecht in de landelijke verdeling (echte cijfers, herkomst `snapshot`)
#
# Leefbaarometer 2.0 (meting 2016) voor alle Nederlandse wijken: percentiel = aandeel NL-wijken met een lagere
# (slechtere) klasse of score. De dimensie *bewoners* (bevolkingssamenstelling) wordt niet gebruikt.

# %%
lv, tr = lbm2_placement(paths.snapshot, gemeente)
lv.query("maat == 'klasse (1-9)'").pivot_table(index="name", columns="year", values="percentiel_nl").round(0)

# %%
lv.query("year == 2016 and maat != 'klasse (1-9)'").pivot_table(
    index="name", columns="dimensie", values="percentiel_nl"
).round(0)

# %%
tr.query("maat == 'verschil klasse'")[["name", "periode", "value", "percentiel_nl"]]

# %%
kwb_placement(paths.snapshot, gemeente).query("year == 2017").pivot_table(
    index="name", columns="indicator", values="percentiel_nl"
).round(0)
