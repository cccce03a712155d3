"""Exposure: what the shop put before a customer, and what the customer did with it.

A *slate* is one list of recommendations served to one customer: its products in order, its *kind*
(which list: ``recommender``, a customer's recommendations, or ``new-arrivals``, the products listed
since the recommender was trained, ranked for them), the model version that ranked them (and the
*variant*: ``champion``, or ``challenger`` when the customer's serving slot splits customers between
two versions). The storefront then records that the slate
was *shown* (an *impression*) and which of its products the customer *clicked*. An order that
contains a product of a shown slate is *attributed* to the slate as a *conversion* when it falls
inside the attribution window (``domain.shared.AttributionWindow``: by default 7 days after a
click, 1 day after a view without a click; the latest qualifying exposure takes the credit).

Online figures per kind, model version and day of the impression: *impressions* (slates shown),
*click-through rate* (shown slates with at least one click, over impressions), *precision@k* (the
article's accuracy: clicked recommendations over shown recommendations), *conversion rate* (shown
slates with an attributed order, over impressions), *attributed revenue* (of the attributed order
lines).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from .shared import DomainError, InvalidArgument, require_text


class ProductNotInSlate(DomainError):
    """A click names a product the slate did not recommend."""

    code = "PRODUCT_NOT_IN_SLATE"


class OnlineFigure:
    """The recommender's online figures, as the model-health read model names them."""

    IMPRESSIONS = "impressions"
    CLICK_THROUGH_RATE = "click_through_rate"
    PRECISION = "precision_at_k"
    CONVERSION_RATE = "conversion_rate"
    ATTRIBUTED_CONVERSIONS = "attributed_conversions"
    ATTRIBUTED_REVENUE = "attributed_revenue"


class SlateVariant:
    """Which side of a champion/challenger split served a slate."""

    CHAMPION = "champion"
    CHALLENGER = "challenger"


class Slate(Aggregate):
    """One list of recommendations served to one customer, and what became of it."""

    class Served(Aggregate.Created):
        """The list was served: to ``customer_id``, ``product_ids`` in order; ``kind``: which list
        (``recommender`` or ``new-arrivals``), ranked by ``model_version`` (``variant``: champion or
        challenger)."""

        customer_id: UUID
        kind: str
        model_version: str
        variant: str
        product_ids: tuple[UUID, ...]
        at: datetime

    @classmethod
    def serve(
        cls, customer_id: UUID, kind: str, model_version: str, variant: str, product_ids: list[UUID], at: datetime
    ) -> Slate:
        """Record a served list. Rules: at least one product, none twice; a known variant."""
        if not product_ids or len(set(product_ids)) != len(product_ids):
            raise InvalidArgument("a slate holds at least one product, each once", field="product_ids")
        if variant not in (SlateVariant.CHAMPION, SlateVariant.CHALLENGER):
            raise InvalidArgument("variant must be champion or challenger", field="variant")
        return cls(
            customer_id=customer_id,
            kind=require_text(kind, "kind", max_length=64),
            model_version=require_text(model_version, "model_version", max_length=64),
            variant=variant,
            product_ids=tuple(product_ids),
            at=at,
        )

    @event(Served)
    def __init__(
        self,
        customer_id: UUID,
        kind: str,
        model_version: str,
        variant: str,
        product_ids: tuple[UUID, ...],
        at: datetime,
    ) -> None:
        self.customer_id, self.kind, self.model_version, self.variant = customer_id, kind, model_version, variant
        self.product_ids, self.served_at = tuple(product_ids), at
        self.shown_at: datetime | None = None
        self.clicked: dict[UUID, datetime] = {}

    class Shown(Aggregate.Event):
        """The storefront showed the slate to its customer (an impression)."""

        at: datetime

    class Clicked(Aggregate.Event):
        """The customer clicked ``product_id`` on the slate."""

        product_id: UUID
        at: datetime

    def show(self, at: datetime) -> bool:
        """Record the impression; False (nothing recorded) if it was already recorded."""
        if self.shown_at is not None:
            return False
        self._shown(at)
        return True

    @event(Shown)
    def _shown(self, at: datetime) -> None:
        self.shown_at = at

    def click(self, product_id: UUID, at: datetime) -> bool:
        """Record a click on one of the slate's products (a slate clicked is shown too); False
        (nothing recorded) if that product's click was already recorded. Rule: a product of the slate."""
        if product_id not in self.product_ids:
            raise ProductNotInSlate("the slate did not recommend this product", field="product_id")
        if product_id in self.clicked:
            return False
        self.show(at)
        self._clicked(product_id, at)
        return True

    @event(Clicked)
    def _clicked(self, product_id: UUID, at: datetime) -> None:
        self.clicked[product_id] = at
