"""Enums of the Campaign context."""

from enum import Enum

import strawberry

from domain.campaign import CampaignStatus


@strawberry.enum(name="CampaignStatus", description=CampaignStatus.__doc__)
class CampaignStatusEnum(Enum):
    DRAFT = strawberry.enum_value(CampaignStatus.DRAFT, description="Planned, not launched.")
    LIVE = strawberry.enum_value(CampaignStatus.LIVE, description="Running.")
    PAUSED = strawberry.enum_value(CampaignStatus.PAUSED, description="Launched, paused for now.")
    ENDED = strawberry.enum_value(CampaignStatus.ENDED, description="Ended for good.")


@strawberry.enum(description="What a campaign list can be sorted by.")
class CampaignSortField(Enum):
    DRAFTED_AT = strawberry.enum_value("DRAFTED_AT", description="When the campaign was drafted.")
    NAME = strawberry.enum_value("NAME", description="The campaign's name.")
