"""Plain leaf fields read directly (``graphql_api.core.execution``) answer exactly as graphql-core's
own execution does, errors included."""

from __future__ import annotations

import enum

import strawberry

from graphql_api.core import execution
from graphql_api.core.execution import PlainFieldsExecutionContext


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    note: str | None
    colour: Colour
    count: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return [
            Item(name="mug", note=None, colour=Colour.RED, count=2),
            Item(name="cup", note="blue one", colour=Colour.BLUE, count=3),
        ]

    @strawberry.field
    def broken(self) -> Item:
        return Item(name=None, note=None, colour="green", count="many")  # type: ignore[arg-type]


QUERY = "{ items { name note colour count shout alias: name } }"
BROKEN = "{ broken { name } }"
BROKEN_LEAVES = "{ broken { colour count } }"


def answers(query: str) -> tuple[object, object]:
    plain = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutionContext)
    usual = strawberry.Schema(query=Query)
    ours, theirs = plain.execute_sync(query), usual.execute_sync(query)
    return (ours.data, [(e.message, e.path) for e in ours.errors or []]), (
        theirs.data,
        [(e.message, e.path) for e in theirs.errors or []],
    )


def test_plain_fields_answer_as_graphql_core_does():
    ours, theirs = answers(QUERY)
    assert ours == theirs
    assert ours[0] == {
        "items": [
            {"name": "mug", "note": None, "colour": "RED", "count": 2, "shout": "MUG", "alias": "mug"},
            {"name": "cup", "note": "blue one", "colour": "BLUE", "count": 3, "shout": "CUP", "alias": "cup"},
        ]
    }


def test_a_bad_plain_value_gets_graphql_cores_error():
    for query in (BROKEN, BROKEN_LEAVES):
        ours, theirs = answers(query)
        assert ours == theirs
        assert ours[1], "an error is reported"


def test_only_plain_leaves_take_the_short_way():
    schema = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutionContext)
    schema.execute_sync(QUERY)
    item = schema._schema.get_type("Item")
    plans = {name: execution._PLANS.get((item, name)) for name in ("name", "note", "shout")}
    assert plans["name"] is not None and plans["note"] is not None
    assert plans["shout"] is None  # a resolver: graphql-core's way
