"""Words that goal pages and tables share, in a module without numerical imports: a fact sheet
reads them without importing the forecast machinery (scipy)."""

from __future__ import annotations

# what a "kans doel gehaald" means (forecast.py's probabilities assume the trend continues)
TREND_LABEL = "bij voortzetting van de trend, zonder programma-effect"
