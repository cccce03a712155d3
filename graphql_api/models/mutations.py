"""Mutations of the Models context."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from ..auth import Role, requires
from ..core.errors import UserError
from ..core.ids import decode_id
from ..core.inputs import INPUT, USER_ERRORS, CommandInput
from ..core.request import key_of, run_command
from .queries import load_trained_model
from .types import TrainedModelType


@strawberry.input(description="Serve this model from now on; its kind's model served until now is superseded.")
class ActivateModelInput(CommandInput):
    model_id: strawberry.ID = strawberry.field(description="The trained model's global ID.")


@strawberry.type(description="The result of activating a model.")
class TrainedModelPayload:
    model: TrainedModelType | None = strawberry.field(description="The model once activated (null if refused).")
    user_errors: list[UserError] = strawberry.field(description=USER_ERRORS)


@strawberry.type
class ModelMutations:
    @strawberry.mutation(
        description="Make a trained model the one its engine serves.", extensions=[requires(Role.ADMIN)]
    )
    async def activate_model(
        self, info: Info, input: Annotated[ActivateModelInput, strawberry.argument(description=INPUT)]
    ) -> TrainedModelPayload | None:
        model_id, key = decode_id(input.model_id, "TrainedModel", field="modelId"), key_of(input.idempotency_key)
        result: Any
        result, errors = await run_command(
            info, lambda s: s.models.activate_model(model_id, at=input.at, idempotency_key=key)
        )
        model = await load_trained_model(info, result) if result is not None else None
        return TrainedModelPayload(model=model, user_errors=errors)
