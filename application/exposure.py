"""Exposure commands of the Customers context: recommendation slates served, shown and clicked
(``domain.exposure``). Cheap and idempotent: showing a slate again or clicking the same product
again records nothing new."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.exposure import Slate

from .base import StorewiseApplication


class SlateCommands(StorewiseApplication):
    """The slate commands, part of the Customers context's application."""

    def serve_slate(
        self,
        customer_id: UUID,
        kind: str,
        model_version: str,
        variant: str,
        product_ids: list[UUID],
        *,
        at: datetime | None = None,
    ) -> UUID:
        """Record a list of recommendations served to a customer; returns the slate's id."""

        def action() -> tuple[list[Any], UUID]:
            slate = Slate.serve(customer_id, kind, model_version, variant, list(product_ids), self.now(at))
            return [slate], slate.id

        return self.execute("serve_slate", None, action)

    def record_slate_shown(
        self, slate_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """The storefront showed the slate (once counts: again records nothing)."""

        def action() -> tuple[list[Any], UUID]:
            slate = self.get(slate_id, Slate)
            return ([slate] if slate.show(self.now(at)) else []), slate.id

        return self.execute("record_slate_shown", idempotency_key, action, retries=3)

    def record_slate_clicked(
        self, slate_id: UUID, product_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """The customer clicked one of the slate's products (the same product again records nothing)."""

        def action() -> tuple[list[Any], UUID]:
            slate = self.get(slate_id, Slate)
            return ([slate] if slate.click(product_id, self.now(at)) else []), slate.id

        return self.execute("record_slate_clicked", idempotency_key, action, retries=3)

    def slate_customer(self, slate_id: UUID) -> UUID | None:
        """The customer a slate was served to (None if there is no such slate)."""
        slate = self.find(slate_id, Slate)
        return None if slate is None else slate.customer_id
