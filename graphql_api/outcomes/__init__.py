"""Outcomes over GraphQL: decisions scored against what followed them, consent-checked audiences."""
