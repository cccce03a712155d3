"""Projections of one leader run together (their events read and decoded once, one
transaction): the read models, positions and listener calls equal those of running each
projection alone, event by event, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import sync_engine
from projections.tables import event_log, projection_positions

from .test_projections import GBP, dump, scripted_history


@pytest.fixture
def engine(storewise):
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    yield engine
    engine.dispose()


def clear(runner) -> None:
    with runner.engine.begin() as connection:
        for projection in runner.projections.values():
            projection.clear(connection)
        connection.execute(projection_positions.delete())


def one_by_one(runner) -> None:
    """Empty the read models, then run each projection alone, event by event."""
    clear(runner)
    runner.batch_size = 1
    for name in runner.projections:
        while runner.run_batch(name):
            pass


def listened(runner) -> dict[str, list[list[int]]]:
    calls: dict[str, list[list[int]]] = {}
    runner.listeners.append(lambda name, events: calls.setdefault(name, []).append([m["position"] for _, m in events]))
    return calls


def test_a_rebuild_together_equals_each_projection_alone_event_by_event(storewise, engine):
    scripted_history(storewise)
    alone = projection_runner(storewise, engine)
    alone_calls = listened(alone)
    one_by_one(alone)
    reference = dump(engine)
    assert all(len(positions) == 1 for calls in alone_calls.values() for positions in calls)

    for batch_size in (4, 7):  # batch boundaries fall between an order's placement and its changes
        together = projection_runner(storewise, engine)
        together.batch_size = batch_size
        clear(together)
        together_calls = listened(together)
        together.run_until_idle()
        assert dump(engine) == reference
        # each projection heard of its own events only, each once, in order
        assert {name: sum(calls, []) for name, calls in together_calls.items()} == {
            name: sum(calls, []) for name, calls in alone_calls.items()
        }
    rebuilt = projection_runner(storewise, engine)
    rebuilt.rebuild()
    assert dump(engine) == reference


def test_a_projection_behind_the_others_catches_up_and_joins_them(storewise, engine):
    scripted_history(storewise)
    runner = projection_runner(storewise, engine)
    one_by_one(runner)
    reference = dump(engine)

    runner = projection_runner(storewise, engine)
    clear(runner)
    runner.batch_size = 4
    runner.run_batch("customers")
    runner.run_batch("customers")  # customers ahead of event-log:customers, inventory far ahead of the rest
    runner.run_until_idle(["inventory"])
    assert runner.run_until_idle() > 0
    assert dump(engine) == reference
    assert runner.run_until_idle() == 0


def test_a_replay_until_an_instant_is_the_same_together_and_alone(storewise, engine):
    scripted_history(storewise)
    projection_runner(storewise, engine).run_until_idle()
    with engine.connect() as connection:
        instants = (
            connection.execute(sa.select(event_log.c.recorded_at).order_by(event_log.c.recorded_at)).scalars().all()
        )
    until = instants[len(instants) // 2]

    one_by_one(projection_runner(storewise, engine, until=until))
    alone = dump(engine)
    assert 0 < len(alone["event_log"]) < len(instants)
    projection_runner(storewise, engine, until=until).rebuild()
    assert dump(engine) == alone


def test_a_failure_in_one_projection_undoes_the_whole_batch_of_all(storewise, engine, monkeypatch):
    scripted_history(storewise)
    runner = projection_runner(storewise, engine)
    one_by_one(runner)
    reference = dump(engine)

    runner = projection_runner(storewise, engine)
    clear(runner)
    empty = dump(engine)
    log_projection = runner.projections["event-log:customers"]

    def failing_end_batch(connection):
        raise RuntimeError("killed")

    monkeypatch.setattr(log_projection, "end_batch", failing_end_batch)
    with pytest.raises(RuntimeError):
        runner.run_until_idle(["customers", "event-log:customers"])
    assert dump(engine) == empty  # the customers' rows of that batch went with it
    monkeypatch.undo()
    runner.run_until_idle()
    assert dump(engine) == reference


def test_projections_of_different_leaders_are_not_run_together(storewise, engine):
    runner = projection_runner(storewise, engine)
    with pytest.raises(ValueError, match="one leader"):
        runner.run_together(["customers", "inventory"])


def test_projections_stopped_at_different_positions_stop_there_together_and_alone(storewise, engine):
    scripted_history(storewise)
    heads = {app.name: app.recorder.max_notification_id() for app in storewise.applications}
    stop_at = {"customers": heads["Customers"] // 3, "event-log:customers": heads["Customers"] // 2, "inventory": 5}

    one_by_one(projection_runner(storewise, engine, stop_at=stop_at))
    alone = dump(engine)
    positions = {row[0]: int(row[2]) for row in alone["projection_positions"]}
    assert {name: positions[name] for name in stop_at} == stop_at
    projection_runner(storewise, engine, stop_at=stop_at).rebuild()
    assert dump(engine) == alone


def test_catching_up_over_a_stretch_with_none_of_its_events_goes_on_to_the_head(storewise, engine):
    for n in range(3):  # Supplier events: the event-log index reads them, the replenishment projection does not
        storewise.inventory.register_supplier(f"Supplier {n}")
    ahead_to = storewise.inventory.recorder.max_notification_id()
    storewise.inventory.receive_stock("MUG", "main", 5)
    head = storewise.inventory.recorder.max_notification_id()
    group = ["replenishment", "event-log:inventory"]

    projection_runner(storewise, engine, stop_at={"event-log:inventory": ahead_to}).run_until_idle(
        ["event-log:inventory"]
    )
    runner = projection_runner(storewise, engine)
    assert runner.run_until_idle(group) > 0
    assert {name: runner.position(name) for name in group} == dict.fromkeys(group, head)


def event_log_indexes(engine) -> set[str]:
    with engine.connect() as connection:
        return {index["name"] for index in sa.inspect(connection).get_indexes("event_log")}


def test_a_full_rebuild_sets_the_event_log_indexes_aside_and_builds_them_again_even_if_it_fails(
    storewise, engine, monkeypatch
):
    scripted_history(storewise)
    runner = projection_runner(storewise, engine)
    runner.run_until_idle()
    reference, indexes = dump(engine), event_log_indexes(engine)
    assert {index.name for index in event_log.indexes} <= indexes

    seen: list[set[str]] = []
    log_projection = runner.projections["event-log:inventory"]
    end_batch = log_projection.end_batch

    def watching_end_batch(connection):
        seen.append({index["name"] for index in sa.inspect(connection).get_indexes("event_log")})
        end_batch(connection)

    monkeypatch.setattr(log_projection, "end_batch", watching_end_batch)
    runner.rebuild()
    assert seen and all(not ({index.name for index in event_log.indexes} & names) for names in seen)
    assert event_log_indexes(engine) == indexes
    assert dump(engine) == reference

    def failing_end_batch(connection):
        raise RuntimeError("killed")

    monkeypatch.setattr(log_projection, "end_batch", failing_end_batch)
    with pytest.raises(RuntimeError):
        runner.rebuild()
    assert event_log_indexes(engine) == indexes


def test_rebuilding_some_contexts_keeps_the_event_log_indexes_and_the_other_contexts_rows(storewise, engine):
    scripted_history(storewise)
    runner = projection_runner(storewise, engine)
    runner.run_until_idle()
    reference, indexes = dump(engine), event_log_indexes(engine)
    runner.rebuild(["event-log:customers", "customers"])
    assert dump(engine) == reference
    assert event_log_indexes(engine) == indexes


def test_returns_in_the_batch_of_their_order_or_a_later_one_equal_each_event_alone(storewise, engine):
    """Returns read their order and lines from memory (placed in the batch, or read for it at once)."""
    scripted_history(storewise)
    customers = storewise.customers
    ann = customers.register_customer("Ann Other", "ann.other@example.com")
    order = customers.place_order(ann, [("MUG", 3, GBP("4.50")), ("BAG", 1, GBP("8.00"))])
    customers.pay_order(order, GBP("21.50"))
    customers.ship_order(order)
    for lines in ([("MUG", 1)], [("MUG", 1), ("BAG", 1)], [("MUG", 1)]):  # the last ones return it whole
        customers.return_order_lines(order, lines, "changed my mind")
    guest = customers.place_order(None, [("BAG", 2, GBP("8.00"))])
    customers.ship_order(guest)
    customers.return_order_lines(guest, [("BAG", 2)], "too big")
    alone = projection_runner(storewise, engine)
    one_by_one(alone)
    reference = dump(engine)
    for batch_size in (2, 3, 5, 500):
        together = projection_runner(storewise, engine)
        together.batch_size = batch_size
        clear(together)
        together.run_until_idle()
        assert dump(engine) == reference, batch_size
