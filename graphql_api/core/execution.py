"""Cheaper execution of plain fields.

Most fields of a response are leaves read straight off their parent (``sku``, ``title``,
``amount``): no resolver, no arguments, no permission. graphql-core still builds a resolve-info
object, calls strawberry's resolver and runs the generic completion for each. Here such a field
is read and serialised directly; anything else (a resolver, arguments, a ``None`` for a non-null
field, a value the scalar refuses) takes graphql-core's own path, errors included.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Per (parent type, field name): (attribute name, the default resolver, the leaf's serialiser,
#: whether it may be null) or None.
_PLANS: dict[tuple[GraphQLObjectType, str], tuple[str, Any, Any, bool] | None] = {}


def _plan(schema: Any, parent_type: GraphQLObjectType, name: str) -> tuple[str, Any, Any, bool] | None:
    key = (parent_type, name)
    if key in _PLANS:
        return _PLANS[key]
    plan = None
    field_def = schema.get_field(parent_type, name)
    resolve = getattr(field_def, "resolve", None)
    strawberry_field = (field_def.extensions or {}).get("strawberry-definition") if field_def else None
    # strawberry's resolver of a "basic" field: the attribute itself, no info, no extensions
    if resolve is not None and resolve.__name__ == "_get_basic_result" and strawberry_field is not None:
        return_type = field_def.type
        nullable = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if is_leaf_type(nullable) and not field_def.args:
            plan = (
                strawberry_field.python_name,
                strawberry_field.default_resolver,
                nullable.coerce_output_value,
                nullable is return_type,
            )
    _PLANS[key] = plan
    return plan


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with plain leaf fields read directly."""

    def execute_field(
        self, parent_type: Any, source: Any, field_details_list: Any, path: Any, position_context: Any
    ) -> Any:
        node = field_details_list[0].node
        middleware = self.middleware_manager
        # strawberry passes a manager on every request; it holds the extensions that wrap each resolver
        if not node.arguments and not node.directives and (middleware is None or not middleware.middlewares):
            plan = _plan(self.schema, parent_type, node.name.value)
            if plan is not None:
                attribute, read, serialise, may_be_null = plan
                try:
                    value = read(source, attribute)
                    if value is None and may_be_null:
                        return None
                    if value is not None and not self.is_awaitable(value):
                        coerced = serialise(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # noqa: S110 - graphql-core's own path below reports it properly
                    pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
