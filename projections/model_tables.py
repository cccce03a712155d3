"""Read models of the model registry and the recommender (issue 6)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from .tables import MONEY, WHEN, metadata  # noqa: F401
