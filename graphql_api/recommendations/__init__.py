"""Recommendations and similar products, served from the active recommender."""
