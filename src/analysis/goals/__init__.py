"""Programme goals: catalogue, forecasts with intervals, target arithmetic and status."""
