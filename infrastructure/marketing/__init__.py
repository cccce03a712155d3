"""Segments, purchase prediction and OR-Tools budget allocation."""
