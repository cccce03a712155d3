"""A rebuild writes the event log of a SQLite log in one statement (``EventLogProjection.replay_in_bulk``
over the recorder's ``envelopes_readable_from``): the same rows and positions as event by event, and
the events whose envelope is stored otherwise (another zone, an upcast due, an id in capitals) decoded
one by one; a log with a state SQLite cannot read (a NaN) replayed event by event."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid

import sqlalchemy as sa

from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from projections.base import ProjectionRunner
from projections.event_log import EventLogProjection
from projections.tables import event_log, projection_positions

from .test_projections import scripted_history

TOPIC = "domain.inventory:StockItem.Received"


def stored(timestamp: str, *, meta: dict | None = None, **fields) -> dict:
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": timestamp}, "quantity": 1, "reference": "odd"}
    state.update(fields)
    if meta is not None:
        state["__meta__"] = meta
    return state


#: Stored events as other writers (or other versions) may have left them: (id, state, decoded one by one?).
ODD = [
    (
        None,
        stored("2011-03-01T09:00:00+00:00", at={"_type_": "datetime_iso", "_data_": "2011-03-01T10:00:00+02:00"}),
        True,
    ),
    (None, stored("2011-03-01T09:00:00+00:00"), False),  # no microseconds, no metadata
    (None, stored("2011-03-01T09:00:00.000001+00:00", meta={"actor": "a" * 250, "event_id": "e1"}), False),
    (None, stored("2011-03-01T09:00:01+00:00", at=None, meta={"correlation_id": "c" * 200}), False),
    (None, stored("2011-03-01T09:00:02+00:00", class_version=5), True),  # an upcast due: decoded in full
    ("UPPER", stored("2011-03-01T09:00:03+00:00", meta={"causation_id": "x"}), True),
    (None, stored("2011-03-01T09:00:04+00:00", at={"_type_": "datetime_iso"}), True),  # an `at` that is no time
]


def append_odd_events(path: str) -> list[int]:
    """The ODD events appended to the log in ``path``; the positions of those decoded one by one."""
    one_by_one = []
    with sqlite3.connect(path) as connection:
        for originator, state, decoded_alone in ODD:
            hex_id = uuid.uuid4().hex
            cursor = connection.execute(
                "INSERT INTO stored_events VALUES (?, 1, ?, ?)",
                (hex_id.upper() if originator == "UPPER" else hex_id, TOPIC, json.dumps(state).encode()),
            )
            if decoded_alone:
                one_by_one.append(cursor.lastrowid)
    return one_by_one


def event_logs(runner) -> tuple[list[tuple], list[tuple]]:
    names = [name for name in runner.projections if name.startswith("event-log:")]
    with runner.engine.connect() as connection:
        rows = connection.execute(sa.select(event_log).order_by(event_log.c.context, event_log.c.position)).all()
        positions = connection.execute(
            sa.select(projection_positions.c.name, projection_positions.c.position)
            .where(projection_positions.c.name.in_(names))
            .order_by(projection_positions.c.name)
        ).all()
    return [tuple(row) for row in rows], [tuple(row) for row in positions]


def test_the_event_log_written_in_bulk_is_the_one_written_event_by_event(sqlite_storewise, monkeypatch):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    scripted_history(storewise)
    runner = projection_runner(storewise, processes=1)
    inventory = runner.sources[runner.projections["event-log:inventory"].leader].recorder
    one_by_one = append_odd_events(inventory.datastore.pool.db_name)
    names = [name for name in runner.projections if name.startswith("event-log:")]

    runner.clear(names)
    runner.run_until_idle(names)
    runner.put_back(names)
    expected = event_logs(runner)
    assert len(expected[0]) > len(ODD) + 20

    applied = []
    apply = EventLogProjection.apply

    def watched(self, connection, event, metadata):
        applied.append((self.leader, metadata["position"]))
        return apply(self, connection, event, metadata)

    monkeypatch.setattr(EventLogProjection, "apply", watched)
    runner.clear(names)
    assert runner.replay(names) == len(expected[0])
    runner.put_back(names)
    assert event_logs(runner) == expected
    inventory_leader = runner.projections["event-log:inventory"].leader
    assert applied == [(inventory_leader, position) for position in one_by_one]  # the rest went in bulk
    odd_rows = {row[1]: row for row in expected[0] if row[0] == inventory_leader and row[1] > one_by_one[0] - 1}
    assert odd_rows[one_by_one[0]][-1].isoformat() == "2011-03-01T08:00:00+00:00"  # its zone's time, in UTC
    assert len(odd_rows[one_by_one[0] + 2][8]) == 200  # the actor cut to the column


def test_a_state_sqlite_cannot_read_sends_its_log_event_by_event(sqlite_storewise, monkeypatch):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    scripted_history(storewise)
    runner = projection_runner(storewise, processes=1)
    names = [name for name in runner.projections if name.startswith("event-log:")]
    inventory = runner.sources[runner.projections["event-log:inventory"].leader].recorder
    with sqlite3.connect(inventory.datastore.pool.db_name) as connection:
        state = stored("2011-03-01T09:00:05+00:00", score=float("nan"))  # Python's json writes `NaN`
        connection.execute(
            "INSERT INTO stored_events VALUES (?, 1, ?, ?)", (uuid.uuid4().hex, TOPIC, json.dumps(state).encode())
        )
    runner.clear(names)
    runner.run_until_idle(names)
    runner.put_back(names)
    expected = event_logs(runner)

    applied = []
    apply = EventLogProjection.apply

    def watched(self, connection, event, metadata):
        applied.append(self.leader)
        return apply(self, connection, event, metadata)

    monkeypatch.setattr(EventLogProjection, "apply", watched)
    runner.clear(names)
    runner.replay(names)
    runner.put_back(names)
    assert event_logs(runner) == expected
    inventory_rows = sum(row[0] == runner.projections["event-log:inventory"].leader for row in expected[0])
    assert applied == [runner.projections["event-log:inventory"].leader] * inventory_rows  # the others in bulk


def test_a_rebuild_to_an_instant_replays_event_by_event(sqlite_storewise, monkeypatch):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    scripted_history(storewise)
    runner = projection_runner(storewise, processes=1, stop_at={"event-log:inventory": 2})
    called = []
    monkeypatch.setattr(EventLogProjection, "replay_in_bulk", lambda self, *args: called.append(self) or None)
    runner.rebuild([name for name in runner.projections if name.startswith("event-log:")])
    assert called == []


def test_a_log_another_runner_began_since_it_was_cleared_goes_on_event_by_event(sqlite_storewise):
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    scripted_history(storewise)
    runner = projection_runner(storewise, processes=1)
    names = [name for name in runner.projections if name.startswith("event-log:")]
    runner.rebuild(names)
    expected = event_logs(runner)

    runner.clear(names)
    other = projection_runner(storewise, runner.engine, processes=1)  # e.g. a server's poller
    other.run_together(["event-log:customers"], batch_size=2)  # its first two events, before the replay
    runner.replay(names)  # no duplicate rows: the customers' log goes on from position 2
    runner.put_back(names)
    assert event_logs(runner) == expected


def test_a_rebuild_keeps_its_own_process_pollers_out_until_the_projections_are_replayed(sqlite_storewise, monkeypatch):
    """A server's poller shares the runner: once the rebuild has cleared the logs it waits, rather than
    beginning them event by event and leaving the bulk replay nothing to do."""
    storewise = sqlite_storewise
    upgrade(storewise.settings)
    scripted_history(storewise)
    runner = projection_runner(storewise, processes=1)
    names = [name for name in runner.projections if name.startswith("event-log:")]
    expected_events, expected = runner.rebuild(names), event_logs(runner)
    polled: list[int] = []
    pollers: list[threading.Thread] = []
    clear = ProjectionRunner.clear

    def clear_then_poll(self, cleared):
        clear(self, cleared)
        poller = threading.Thread(target=lambda: polled.append(self.run_until_idle(cleared)))
        poller.start()
        poller.join(1.0)  # had it got in, it would have replayed these few events by now
        pollers.append(poller)

    monkeypatch.setattr(ProjectionRunner, "clear", clear_then_poll)
    assert runner.rebuild(names) == expected_events > 0
    pollers[0].join(10)
    assert polled == [0]  # it found everything replayed
    assert event_logs(runner) == expected
