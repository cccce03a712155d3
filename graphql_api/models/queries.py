"""Queries of the Models context."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
import strawberry
from strawberry.types import Info

from projections.models_tables import trained_models

from ..auth import STAFF, requires
from ..core.db import loader, row_loader
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
from .types import ModelStatusEnum, TrainedModelType

models_by_id = row_loader(trained_models, "id")


async def load_trained_model(info: Info, pk: Any) -> TrainedModelType | None:
    row = await loader(info, models_by_id).load(pk)
    return None if row is None else TrainedModelType.from_row(row)


#: The trained models: of one kind, in one status.
TRAINED_MODELS = Listing(
    trained_models,
    Filters(
        kind=trained_models.c.kind == sa.bindparam("kind"),
        status=trained_models.c.status == sa.bindparam("status"),
    ),
)


@strawberry.type
class ModelQueries:
    @strawberry.field(
        description=(
            "Every trained model, newest first: what it was trained on (data position, hyperparameters), "
            'how well it validated, and whether it is served — the answer to "which model produced this, '
            'trained on what".'
        ),
        extensions=[requires(*STAFF)],
    )
    async def trained_models(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)] = DEFAULT_PAGE_SIZE,
        after: Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)] = None,
        kind: Annotated[
            str | None, strawberry.argument(description="Only models of this kind, e.g. `recommender`.")
        ] = None,
        status: Annotated[
            ModelStatusEnum | None, strawberry.argument(description="Only models in this status.")
        ] = None,
    ) -> Connection[TrainedModelType] | None:
        order = ordering("trainedAt", trained_models.c.trained_at, trained_models.c.id, SortDirection.DESC)
        return await TRAINED_MODELS.page(
            info.context.reader, order, first, after, TrainedModelType.from_row, kind=kind, status=status
        )

    @strawberry.field(
        description="One trained model, by global ID.", extensions=[requires(*STAFF, object_type="TrainedModel")]
    )
    async def trained_model(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The model's global ID.")]
    ) -> TrainedModelType | None:
        return await load_trained_model(info, decode_id(id, "TrainedModel"))
