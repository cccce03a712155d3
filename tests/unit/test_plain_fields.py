"""Plain leaf fields read directly, and sub-selections of plain fields completed in one pass
(``graphql_api.core.execution``), answer exactly as graphql-core's own execution does, errors,
``__typename``, aliases and key order included."""

from __future__ import annotations

import enum
import json

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
class Tag:
    label: str
    weight: int | None


@strawberry.type
class Shelf:
    name: str
    tags: list[Tag]
    maybe_tags: list[Tag | None] | None
    top: Tag | None
    first: Tag


@strawberry.type
class Query:
    @strawberry.field
    def shelves(self) -> list[Shelf]:
        return [
            Shelf(
                name="a",
                tags=[Tag(label="x", weight=1), Tag(label="y", weight=None)],
                maybe_tags=[None, Tag(label="z", weight=3)],
                top=None,
                first=Tag(label="f", weight=0),
            ),
            Shelf(name="b", tags=[], maybe_tags=None, top=Tag(label="t", weight=2), first=Tag(label="g", weight=1)),
        ]

    @strawberry.field
    def broken_shelves(self) -> list[Shelf | None]:
        return [
            Shelf(
                name="c", tags=[Tag(label=None, weight=1)], maybe_tags=None, top=None, first=Tag(label="h", weight=1)
            ),  # type: ignore[arg-type]
            Shelf(name="d", tags=[], maybe_tags=[Tag(label="w", weight="heavy")], top=None, first=None),  # type: ignore[arg-type]
        ]

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


NESTED = (
    "{ shelves { __typename name first { label } tags { ...T } "
    "maybeTags { weight label } top { label } again: name } } fragment T on Tag { __typename label weight }"
)
BROKEN_NESTED = "{ brokenShelves { name tags { label } maybeTags { weight } first { label } } }"


def answers(query: str) -> tuple[object, object]:
    """Both executions' data (as JSON text, so that key order counts) and errors."""
    plain = strawberry.Schema(query=Query, execution_context_class=PlainFieldsExecutionContext)
    usual = strawberry.Schema(query=Query)
    ours, theirs = plain.execute_sync(query), usual.execute_sync(query)
    return (json.dumps(ours.data), [(e.message, e.path) for e in ours.errors or []]), (
        json.dumps(theirs.data),
        [(e.message, e.path) for e in theirs.errors or []],
    )


def test_plain_fields_answer_as_graphql_core_does():
    ours, theirs = answers(QUERY)
    assert ours == theirs
    assert json.loads(ours[0]) == {
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


def test_plain_sub_selections_are_completed_in_one_pass(monkeypatch):
    """Each shelf, with everything under it, is completed by the compiled path."""
    completed: list[object] = []
    complete = execution._complete

    def counting(fields, source, is_awaitable):
        completed.append(source)
        return complete(fields, source, is_awaitable)

    monkeypatch.setattr(execution, "_complete", counting)
    ours, theirs = answers(NESTED)
    assert ours == theirs and not ours[1]
    assert json.loads(ours[0])["shelves"][0] == {
        "__typename": "Shelf",
        "name": "a",
        "first": {"label": "f"},
        "tags": [{"__typename": "Tag", "label": "x", "weight": 1}, {"__typename": "Tag", "label": "y", "weight": None}],
        "maybeTags": [None, {"weight": 3, "label": "z"}],
        "top": None,
        "again": "a",
    }
    assert [source.name for source in completed if isinstance(source, Shelf)] == ["a", "b"]

    completed.clear()
    answers(QUERY)  # ``shout`` has a resolver: graphql-core completes the items
    assert completed == []


def test_a_bad_value_deep_in_a_plain_sub_selection_gets_graphql_cores_error():
    ours, theirs = answers(BROKEN_NESTED)
    assert ours == theirs
    paths = [path for _, path in ours[1]]
    assert ["brokenShelves", 0, "tags", 0, "label"] in paths
    assert ["brokenShelves", 1, "maybeTags", 0, "weight"] in paths


def test_an_operation_without_directives_is_compiled_once_for_all_its_requests(monkeypatch):
    from strawberry.extensions import ParserCache

    # the parser cache hands every request of a query text the same document, as in the server
    schema = strawberry.Schema(
        query=Query, execution_context_class=PlainFieldsExecutionContext, extensions=[ParserCache(maxsize=8)]
    )
    usual = strawberry.Schema(query=Query)
    compiles: list[str] = []
    compile_ = PlainFieldsExecutionContext._compile

    def counting(self, object_type, field_details_list):
        compiles.append(object_type.name)
        return compile_(self, object_type, field_details_list)

    monkeypatch.setattr(PlainFieldsExecutionContext, "_compile", counting)
    assert all(schema.execute_sync(NESTED).data == usual.execute_sync(NESTED).data for _ in range(3))
    assert compiles.count("Shelf") == 1

    # with a directive, the selection depends on the variables: compiled per request, right for each
    query = "query ($t: Boolean!) { shelves { name ...S } } fragment S on Shelf { top @include(if: $t) { label } }"
    compiles.clear()
    for shown in (True, False, True):
        result = schema.execute_sync(query, {"t": shown})
        assert ("top" in result.data["shelves"][1]) is shown
        assert result.data == usual.execute_sync(query, {"t": shown}).data
    assert compiles.count("Shelf") == 3
