"""Read models of model health (issue 16): every model version's online figures per day, the
reports of degraded models, and the recommendation exposures and attributions they are counted from.

``model_health_figures`` is shared: several projections write into it, each its own rows
(``source`` is the projection's name, or ``Models`` for figures measured through
``ModelHealth.record_figure``), and a projection's rebuild clears only its own rows.
"""

from __future__ import annotations

import sqlalchemy as sa

from .tables import MONEY, WHEN, metadata

#: One figure of one model version on one day, from one source. ``ratio``: the figure is
#: ``numerator / denominator`` (click-through rate: clicks over impressions; a measured level such
#: as AUC: value x count over count), so days and sources add up exactly; otherwise it is the
#: ``numerator`` (impressions, revenue) and ``denominator`` counts what it summed.
model_health_figures = sa.Table(
    "model_health_figures",
    metadata,
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("model_version", sa.String(64), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("figure", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("numerator", sa.Float, nullable=False),
    sa.Column("denominator", sa.Float, nullable=False),
    sa.Column("ratio", sa.Boolean, nullable=False),
    sa.Index("ix_model_health_figures_day", "day"),
)

#: Each ModelDegraded report.
model_degradations = sa.Table(
    "model_degradations",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("figure", sa.String(64), nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("baseline", sa.Float, nullable=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reported_at", WHEN, nullable=False, index=True),
    sa.Index("ix_model_degradations_version", "kind", "model_version"),
)

#: Each recommendation slate served: to whom, by which model version (and which side of a
#: champion/challenger split), when it was shown and clicked, and what it converted.
recommendation_slates = sa.Table(
    "recommendation_slates",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("variant", sa.String(16), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("served_at", WHEN, nullable=False),
    sa.Column("shown_at", WHEN, nullable=True),
    sa.Column("clicked_at", WHEN, nullable=True),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("conversions", sa.Integer, nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
)

#: The products of each slate, in order, and when each was clicked.
recommendation_slate_items = sa.Table(
    "recommendation_slate_items",
    metadata,
    sa.Column("slate_id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("shown_at", WHEN, nullable=True),
    sa.Column("clicked_at", WHEN, nullable=True),
    sa.Index("ix_recommendation_slate_items_customer_product", "customer_id", "product_id"),
)

#: Each order line attributed to a slate (see ``domain.shared.AttributionWindow``).
recommendation_attributions = sa.Table(
    "recommendation_attributions",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("product_id", sa.Uuid, primary_key=True),
    sa.Column("slate_id", sa.Uuid, nullable=False, index=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("via", sa.String(8), nullable=False),
    sa.Column("revenue", MONEY, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("ordered_at", WHEN, nullable=False),
)
