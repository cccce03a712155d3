"""The Campaign context's application: drafting, running and measuring campaigns.

It follows the Marketing context: an approved budget allocation drafts a campaign per
line with that line's budget.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.utils import get_topic

from domain.campaign import Campaign
from domain.marketing import BudgetAllocation
from domain.shared import Money

from .base import StorewiseApplication


class CampaignApplication(StorewiseApplication):
    """Runs marketing campaigns and records their outcomes."""

    name = "Campaigns"
    #: It follows Marketing for approved budget allocations only.
    topics = [get_topic(BudgetAllocation.Approved)]

    def draft_campaign(
        self, name: str, segment: str, channel: str, budget: Money, *, idempotency_key: str | None = None
    ) -> UUID:
        """Draft a campaign for a segment on a channel; returns its id."""

        def action() -> tuple[list[Any], UUID]:
            campaign = Campaign.draft(name, segment, channel, budget)
            return [campaign], campaign.id

        return self.execute("draft_campaign", idempotency_key, action)

    def set_campaign_budget(self, campaign_id: UUID, budget: Money, *, idempotency_key: str | None = None) -> UUID:
        """Change a campaign's budget."""
        return self.update(
            Campaign, campaign_id, "set_campaign_budget", idempotency_key, lambda c: c.set_budget(budget)
        )

    def launch_campaign(
        self, campaign_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Launch a drafted campaign."""
        return self.update(Campaign, campaign_id, "launch_campaign", idempotency_key, lambda c: c.launch(self.now(at)))

    def launch_measured_campaign(
        self,
        campaign_id: UUID,
        audience: list[UUID],
        *,
        holdout_share: float,
        seed: int,
        attribution_days: int,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Launch a drafted campaign with its audience; the held-out group is drawn with ``seed``."""
        return self.update(
            Campaign,
            campaign_id,
            "launch_measured_campaign",
            idempotency_key,
            lambda c: c.launch_measured(self.now(at), audience, holdout_share, seed, attribution_days),
        )

    def pause_campaign(
        self, campaign_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Pause a live campaign."""
        return self.update(Campaign, campaign_id, "pause_campaign", idempotency_key, lambda c: c.pause(self.now(at)))

    def resume_campaign(
        self, campaign_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """Resume a paused campaign."""
        return self.update(Campaign, campaign_id, "resume_campaign", idempotency_key, lambda c: c.resume(self.now(at)))

    def end_campaign(
        self, campaign_id: UUID, *, at: datetime | None = None, idempotency_key: str | None = None
    ) -> UUID:
        """End a campaign."""
        return self.update(Campaign, campaign_id, "end_campaign", idempotency_key, lambda c: c.end(self.now(at)))

    def record_campaign_outcome(
        self,
        campaign_id: UUID,
        spend: Money,
        reach: int,
        conversions: int,
        revenue: Money,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record results of a campaign (they add up over several recordings)."""
        return self.update(
            Campaign,
            campaign_id,
            "record_campaign_outcome",
            idempotency_key,
            lambda c: c.record_outcome(spend, reach, conversions, revenue, self.now(at)),
        )

    def campaign(self, campaign_id: UUID) -> Campaign:
        """The campaign as it is now."""
        return self.get(campaign_id, Campaign)

    def record_holdout_outcome(
        self,
        campaign_id: UUID,
        size: int,
        conversions: int,
        revenue: Money,
        *,
        at: datetime | None = None,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Record results of the campaign's holdout group (they add up over several recordings)."""
        return self.update(
            Campaign,
            campaign_id,
            "record_holdout_outcome",
            idempotency_key,
            lambda c: c.record_holdout(size, conversions, revenue, self.now(at)),
        )

    # --- process manager: Marketing -> Campaign --------------------------------------

    @singledispatchmethod
    def policy(self, domain_event: Any, processing_event: ProcessingEvent[UUID]) -> None:
        """Other events are not this context's concern."""

    @policy.register
    def _(self, domain_event: BudgetAllocation.Approved, processing_event: ProcessingEvent[UUID]) -> None:
        def step() -> list[Any]:
            return [
                Campaign.draft(c["name"], c["segment"], c["channel"], c["budget"], campaign_id=c["campaign_id"])
                for c in domain_event.campaigns
                if self.find(c["campaign_id"], Campaign) is None
            ]

        self.collect_safely(processing_event, step)
