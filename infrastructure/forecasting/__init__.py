"""Demand forecasts and the OR-Tools replenishment planner."""
