"""config/resilience.yaml as a typed, validated model (pydantic).

A bad entry raises :class:`InputError` with one message ``config/resilience.yaml: <key>: <reason>``;
the CLI prints it as ``fout: ...`` and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis import config_errors
from analysis.config import CONFIG_DIR, indicator_catalog, load_yaml
from analysis.errors import InputError

if TYPE_CHECKING:  # pandas where weights are asked: `veerkracht resilience` checks this file first
    import pandas as pd

AXES = ("A", "B")
REFERENCES = ("gemeente", "nederland")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndicatorSpec(_Strict):
    direction: Literal[-1, 1]
    weight: float = Field(ge=0)


class AxisSpec(_Strict):
    label: str
    indicators: dict[str, IndicatorSpec]

    @field_validator("indicators")
    @classmethod
    def _weights(cls, v: dict[str, IndicatorSpec]) -> dict[str, IndicatorSpec]:
        if not v:
            raise ValueError("een as heeft minstens een indicator nodig")
        if sum(s.weight for s in v.values()) <= 0:
            raise ValueError("de gewichten tellen op tot 0: de as is niet te scoren")
        return v


class Thresholds(_Strict):
    level: float = Field(gt=0, description="level class threshold (SD units)")
    change: float = Field(gt=0, description="change class threshold (SD units over the window)")
    step: float = Field(ge=0, description="sensitivity shift of both thresholds")

    @model_validator(mode="after")
    def _step_smaller(self) -> Thresholds:
        if self.step >= min(self.level, self.change):
            raise ValueError("'step' moet kleiner zijn dan beide drempels ('level' en 'change')")
        return self


class SignalSpec(_Strict):
    reference: Literal["gemeente", "nederland"] = "gemeente"


class SensitivitySpec(_Strict):
    n_sim: int = Field(500, ge=10)
    seed: int = 0
    weight_sd: float = Field(0.35, ge=0)
    drop_probability: float = Field(0.15, ge=0, lt=1)
    robust_above: float = Field(0.9, gt=0, le=1)
    robust_below: float = Field(0.1, ge=0, lt=1)

    @model_validator(mode="after")
    def _order(self) -> SensitivitySpec:
        if self.robust_below >= self.robust_above:
            raise ValueError("robust_below moet kleiner zijn dan robust_above")
        return self


class ResilienceConfig(_Strict):
    year: int | Literal["latest"] = "latest"
    min_coverage: float = Field(0.5, gt=0, le=1)
    change_years: int = Field(5, ge=3, le=10)
    axes: dict[Literal["A", "B"], AxisSpec]
    context: list[str] = []
    bounds: dict[str, tuple[str, str]] = {}
    thresholds: Thresholds
    signal: SignalSpec = SignalSpec()
    sensitivity: SensitivitySpec = SensitivitySpec()

    @model_validator(mode="after")
    def _names(self) -> ResilienceConfig:
        if set(self.axes) != set(AXES):
            raise ValueError(f"'axes': A en B zijn allebei verplicht, gevonden: {sorted(self.axes)}")
        known = set(indicator_catalog())
        scored = [i for a in AXES for i in self.axes[a].indicators]
        names = scored + list(self.context) + list(self.bounds) + [b for p in self.bounds.values() for b in p]
        unknown = sorted({i for i in names if i not in known})
        if unknown:
            raise ValueError(f"onbekende indicator(en) (niet in config/indicators.yaml): {unknown}")
        twice = sorted({i for i in scored if scored.count(i) > 1})
        if twice:
            raise ValueError(f"indicator(en) op beide assen: {twice}")
        both = sorted(set(scored) & set(self.context))
        if both:
            raise ValueError(f"indicator(en) zowel gescoord als alleen context: {both}")
        stray = sorted(set(self.bounds) - set(scored))
        if stray:
            raise ValueError(f"'bounds' voor indicator(en) die niet gescoord worden: {stray}")
        if "herkomst_buiten_europa_pct" in names:
            raise ValueError("migratieachtergrond wordt in geen score of context gebruikt")
        return self

    # --- convenience -----------------------------------------------------------------------------

    @property
    def ref_year(self) -> int | None:
        return None if self.year == "latest" else int(self.year)

    def indicators(self, axis: str) -> list[str]:
        return list(self.axes[axis].indicators)

    @property
    def scored(self) -> list[str]:
        return [i for a in AXES for i in self.indicators(a)]

    def directions(self, axis: str) -> dict[str, int]:
        return {k: v.direction for k, v in self.axes[axis].indicators.items()}

    def weights(self, axis: str) -> pd.Series:
        import pandas as pd

        return pd.Series({k: float(v.weight) for k, v in self.axes[axis].indicators.items()})

    def axis_of(self, indicator: str) -> str:
        return next(a for a in AXES if indicator in self.axes[a].indicators)

    def with_thresholds(self, level: float | None = None, change: float | None = None) -> ResilienceConfig:
        t = self.thresholds.model_copy(
            update={k: v for k, v in (("level", level), ("change", change)) if v is not None}
        )
        return self.model_copy(update={"thresholds": t})


def load_config(path: str | Path = "resilience.yaml") -> ResilienceConfig:
    """Read and validate; any problem is one InputError naming the file and the key."""
    p = Path(path) if Path(path).is_absolute() else CONFIG_DIR / path
    raw = load_yaml(p)
    shown = f"config/{p.name}" if p.parent == CONFIG_DIR else str(p)
    try:
        return ResilienceConfig.model_validate(raw)
    except ValidationError as exc:
        raise InputError(config_errors.message(shown, exc, ResilienceConfig)) from None
