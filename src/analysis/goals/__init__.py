"""Programme goals: catalogue, forecasts with intervals, target arithmetic and status.

``analysis.goals.forecast_series(series, until)`` is the forecast every goal gets (see
:mod:`analysis.goals.series`); it is imported lazily so that ``import analysis.goals.catalog`` stays light.
"""

__all__ = ["forecast_series"]


def __getattr__(name: str):
    if name == "forecast_series":
        from analysis.goals.series import forecast_series

        return forecast_series
    raise AttributeError(f"module 'analysis.goals' has no attribute {name!r}")
