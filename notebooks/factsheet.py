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

# %% tags=["reset"]
# Clean namespace: the batch runner reuses one kernel for many sheets. (Unlike `%reset -f`
# this skips a full garbage collection, which cost ~0.2 s per sheet.)
# %reset_selective -f .

# %% tags=["parameters"]
gebied = "GM0642"  # gebiedscode: GM..., WK..., BU..., FG... (zie outputs/<GM>/factsheets/index.html)
jaar = None  # peiljaar (None: laatste jaar met gegevens)
taal = "nl"  # alleen Nederlands wordt ondersteund
forceer_fout = False  # alleen voor tests van de batchrunner
paden = None  # mappen (raw/processed/outputs) en gemeente van de batchrunner; None: standaardmappen

# %%
from analysis.factsheets.sheet import Sheet

if taal != "nl":
    raise ValueError(f"taal {taal!r} wordt niet ondersteund; alleen 'nl'")
sheet = Sheet.load(gebied, jaar, forceer_fout=forceer_fout, paden=paden)
sheet.display("kop")

# %%
sheet.display("kerncijfers")

# %%
sheet.display("tijdreeksen")

# %%
sheet.display("veerkracht")

# %%
sheet.display("doelen")

# %%
sheet.display("kaart")

# %%
sheet.display("bronnen")
