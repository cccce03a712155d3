"""Read models of the model registry and the recommender (issue 6)."""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401

from .tables import MONEY, WHEN, metadata  # noqa: F401

# --- The model registry ------------------------------------------------------------

#: Every trained model: what it was trained on, how well it did, and whether it is served.
trained_models = sa.Table(
    "trained_models",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False, index=True),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("hyperparameters", sa.JSON, nullable=False),
    sa.Column("data_position", sa.JSON, nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("artifact_checksum", sa.String(128), nullable=False),
    sa.Column("artifact_path", sa.String(500), nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("trained_at", WHEN, nullable=False),
    sa.Column("activated_at", WHEN, nullable=True),
    sa.Column("superseded_at", WHEN, nullable=True),
    sa.Column("superseded_by", sa.Uuid, nullable=True),
    sa.UniqueConstraint("kind", "version"),
)
