"""Queries of the Campaign context."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.tables import campaigns

from ..auth import CAMPAIGN_READERS, requires
from ..core.db import loader
from ..core.ids import decode_id
from ..core.pagination import (
    AFTER_DESCRIPTION,
    DEFAULT_PAGE_SIZE,
    FIRST_DESCRIPTION,
    Connection,
    Filters,
    Listing,
    SortDirection,
    ordering,
)
from .dataloaders import campaigns_by_id
from .enums import CampaignSortField, CampaignStatusEnum
from .types import CampaignType

_SORT = {CampaignSortField.DRAFTED_AT: campaigns.c.drafted_at, CampaignSortField.NAME: campaigns.c.name}


async def load_campaign(info: Info, pk: Any) -> CampaignType | None:
    row = await loader(info, campaigns_by_id).load(pk)
    return None if row is None else CampaignType.from_row(row)


#: Campaigns: for one segment, on one channel, in one status.
CAMPAIGNS = Listing(
    campaigns,
    Filters(
        segment=campaigns.c.segment == sa.bindparam("segment"),
        channel=campaigns.c.channel == sa.bindparam("channel"),
        status=campaigns.c.status == sa.bindparam("status"),
    ),
)


@strawberry.type
class CampaignQueries:
    @strawberry.field(
        description="Marketing campaigns: filter by segment, channel and status; newest first by default.",
        extensions=[requires(*CAMPAIGN_READERS)],
    )
    async def campaigns(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        segment: Annotated[str | None, strawberry.argument(description="Only campaigns for this segment.")] = None,
        channel: Annotated[str | None, strawberry.argument(description="Only campaigns on this channel.")] = None,
        status: Annotated[
            CampaignStatusEnum | None, strawberry.argument(description="Only campaigns in this status.")
        ] = None,
        sort_by: Annotated[
            CampaignSortField, strawberry.argument(description="What to sort by.")
        ] = CampaignSortField.DRAFTED_AT,
        direction: Annotated[SortDirection, strawberry.argument(description="Which way to sort.")] = SortDirection.DESC,
    ) -> Connection[CampaignType] | None:
        order = ordering(sort_by.value, _SORT[sort_by], campaigns.c.id, direction)
        return await CAMPAIGNS.page(
            info.context.reader,
            order,
            first,
            after,
            CampaignType.from_row,
            segment=segment,
            channel=channel,
            status=status,
        )

    @strawberry.field(
        description="One campaign, by global ID.",
        extensions=[requires(*CAMPAIGN_READERS, object_type="Campaign")],
    )
    async def campaign(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The campaign's global ID.")]
    ) -> CampaignType | None:
        return await load_campaign(info, decode_id(id, "Campaign"))
