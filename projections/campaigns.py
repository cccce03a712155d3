"""Read models of the Campaign context: campaigns and each recorded outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from domain.campaign import Campaign, CampaignStatus

from .base import Projection, handles, insert, select, update
from .tables import campaign_outcomes, campaigns


class CampaignProjection(Projection):
    name = "campaigns"
    leader = "Campaigns"
    tables = (campaigns, campaign_outcomes)

    @handles(Campaign.Drafted)
    def drafted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        insert(
            connection,
            campaigns,
            {
                "id": event.originator_id,
                "name": event.name,
                "segment": event.segment,
                "channel": event.channel,
                "status": CampaignStatus.DRAFT,
                "currency": event.budget.currency,
                "budget": event.budget.amount,
                "spend": 0,
                "reach": 0,
                "conversions": 0,
                "revenue": 0,
                "drafted_at": event.timestamp,
                "launched_at": None,
                "ended_at": None,
            },
        )

    @handles(Campaign.Budgeted)
    def budgeted(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, budget=event.budget.amount)

    @handles(Campaign.Launched)
    def launched(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, status=CampaignStatus.LIVE, launched_at=event.at)

    @handles(Campaign.Paused)
    def paused(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, status=CampaignStatus.PAUSED)

    @handles(Campaign.Resumed)
    def resumed(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, status=CampaignStatus.LIVE)

    @handles(Campaign.Ended)
    def ended(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        self._set(connection, event, status=CampaignStatus.ENDED, ended_at=event.at)

    @handles(Campaign.OutcomeRecorded)
    def outcome(self, connection: Connection, event: Any, metadata: dict[str, str]) -> None:
        [campaign] = select(connection, campaigns, {"id": event.originator_id})
        update(
            connection,
            campaigns,
            {"id": event.originator_id},
            add={
                "spend": event.spend.amount,
                "reach": event.reach,
                "conversions": event.conversions,
                "revenue": event.revenue.amount,
            },
        )
        insert(
            connection,
            campaign_outcomes,
            {
                "campaign_id": event.originator_id,
                "version": event.originator_version,
                "segment": campaign.segment,
                "channel": campaign.channel,
                "spend": event.spend.amount,
                "reach": event.reach,
                "conversions": event.conversions,
                "revenue": event.revenue.amount,
                "currency": event.spend.currency,
                "at": event.at,
            },
        )

    @staticmethod
    def _set(connection: Connection, event: Any, **values: Any) -> None:
        update(connection, campaigns, {"id": event.originator_id}, set=values)
