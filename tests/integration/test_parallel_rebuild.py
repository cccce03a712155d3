"""A rebuild shared between processes (``infrastructure.parallel_rebuild``) leaves the same read models,
positions and event-log indexes as one process, on SQLite and PostgreSQL; a failure leaves every
projection consistent with its position. And what it rests on: the lean notification reader and the
shares."""

from __future__ import annotations

import dataclasses

import pytest
from eventsourcing.sqlite import SQLiteProcessRecorder

from domain.shared import business_time
from infrastructure import parallel_rebuild
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from projections.base import ProjectionRunner, share_out

from .test_projections import dump, scripted_history
from .test_rebuild_together import event_log_indexes


@pytest.fixture
def shared_runner(storewise, monkeypatch):
    """A runner whose rebuilds share the projections out between two processes whatever the logs' length,
    and the parts each rebuild handed out."""
    upgrade(storewise.settings)
    runner = projection_runner(storewise, processes=2)
    runner.parallel_from = 0
    handed_out: list[list[list[str]]] = []
    rebuild = parallel_rebuild.RebuildHelpers.rebuild

    def watched(self, runner, parts):
        handed_out.append(parts)
        return rebuild(self, runner, parts)

    monkeypatch.setattr(parallel_rebuild.RebuildHelpers, "rebuild", watched)
    yield runner, handed_out
    runner.engine.dispose()


def test_a_rebuild_in_two_processes_equals_one_in_one(storewise, shared_runner):
    scripted_history(storewise)
    runner, handed_out = shared_runner
    alone = projection_runner(storewise, runner.engine, processes=1)
    alone.rebuild()
    reference, indexes = dump(runner.engine), event_log_indexes(runner.engine)
    assert reference["event_log"] and reference["order_lines"]

    storewise.customers.register_customer("Cy Doe", "cy@example.com")  # so that this rebuild has more to do
    assert runner.rebuild() == alone.rebuild()
    reference = dump(runner.engine)
    runner.rebuild()
    [parts] = handed_out[-1:]
    assert len(parts) == 2 and sorted(sum(parts, [])) == sorted(runner.projections)
    assert dump(runner.engine) == reference  # positions included
    assert event_log_indexes(runner.engine) == indexes
    assert runner.run_until_idle() == 0  # every projection at the head
    if storewise.settings.backend == "sqlite":  # the scratch files are gone
        assert not list(storewise.settings.sqlite_path().parent.glob(".rebuild-*"))


def test_a_failure_while_rebuilding_in_two_processes_leaves_each_projection_at_its_own_position(
    storewise, shared_runner, monkeypatch
):
    scripted_history(storewise)
    runner, handed_out = shared_runner
    runner.rebuild()
    reference, indexes = dump(runner.engine), event_log_indexes(runner.engine)
    replayed = {row[0] for row in reference["projection_positions"]}
    # a projection of the part this process replays itself, with events to apply
    failing = next(name for name in handed_out[0][-1] if name in replayed)

    def failing_end_batch(connection):
        raise RuntimeError("killed")

    monkeypatch.setattr(runner.projections[failing], "end_batch", failing_end_batch)
    with pytest.raises(RuntimeError, match="killed"):
        runner.rebuild()
    assert event_log_indexes(runner.engine) == indexes
    monkeypatch.undo()
    positions = {row[0] for row in dump(runner.engine)["projection_positions"]}
    assert failing not in positions  # its batch went with the failure
    runner.run_until_idle()  # whatever the other process left, each projection goes on from its position
    assert dump(runner.engine) == reference


def test_the_projections_are_shared_out_by_cost_in_units_that_go_together():
    units = {("log-a",): 30.0, ("stock", "plans"): 39.0, ("log-b",): 6.0, ("orders",): 14.0}
    # stock+plans: 39 | log-a: 30 | orders beside log-a: 44 | log-b beside stock+plans: 45, the costliest first
    assert share_out(units, 2) == [["stock", "plans", "log-b"], ["log-a", "orders"]]
    assert share_out(units, 1) == [["stock", "plans", "log-a", "orders", "log-b"]]
    assert share_out({("x",): 1.0}, 3) == [["x"]]  # no empty parts


def test_a_rebuild_shares_out_the_projections_that_decode_a_log_as_one_and_the_event_logs_alone(storewise):
    runner = projection_runner(storewise, processes=2)
    runner.parallel_from = 0
    parts = runner._parts(list(runner.projections))
    for part in parts:
        decoding = {runner.projections[name].leader for name in part if runner.projections[name].reads_event_fields}
        for leader in decoding:  # every projection of that leader that decodes its events is here
            assert {n for n, p in runner.projections.items() if p.leader == leader and p.reads_event_fields} <= set(
                part
            )
    assert sorted(sum(parts, [])) == sorted(runner.projections)
    assert not runner.projections["event-log:inventory"].reads_event_fields


def test_the_notification_reader_reads_what_the_library_reads(sqlite_storewise):
    scripted_history(sqlite_storewise)
    recorder = sqlite_storewise.customers.recorder
    head = recorder.max_notification_id()
    topics = sorted({n.topic for n in recorder.select_notifications(start=1, limit=head)})[:2]
    for arguments in (
        {"start": 1, "limit": head},
        {"start": 0, "limit": 3, "inclusive_of_start": False},
        {"start": 2, "limit": 100, "stop": head - 2},
        {"start": None, "limit": 100, "topics": topics},
        {"start": 3, "limit": 100, "stop": head, "topics": topics, "inclusive_of_start": False},
    ):
        ours = recorder.select_notifications(**arguments)
        assert ours == SQLiteProcessRecorder.select_notifications(recorder, **arguments)
        assert ours
    assert recorder.select_notifications(start=head, limit=5, inclusive_of_start=False) == []


def test_an_events_envelope_reads_as_the_event_itself_and_the_rest_is_not_decoded(sqlite_storewise):
    scripted_history(sqlite_storewise)
    seen = set()
    for app in sqlite_storewise.applications:
        for notification in app.recorder.select_notifications(start=1, limit=10_000):
            event, metadata = app.mapper.decode(notification)
            envelope, envelope_metadata = app.mapper.decode_envelope(notification)
            assert type(envelope) is type(event) and envelope_metadata == metadata
            for field in ("originator_id", "originator_version", "timestamp"):
                assert getattr(envelope, field) == getattr(event, field)
            assert business_time(envelope) == business_time(event)
            seen.add(type(event))
    assert len(seen) > 20
    [order_placed] = [
        n
        for n in sqlite_storewise.customers.recorder.select_notifications(start=1, limit=10_000)
        if n.topic.endswith("Order.Placed")
    ][:1]
    mapper = sqlite_storewise.customers.mapper
    assert "lines" not in mapper.decode_envelope(order_placed)[0].__dict__
    # what it cannot read plainly (an older version to upcast, a NaN orjson refuses) is decoded in full
    older = dataclasses.replace(order_placed, state=order_placed.state.replace(b'"class_version":2,', b""))
    refused = dataclasses.replace(order_placed, state=order_placed.state[:-1] + b',"x":NaN}')
    for stored in (older, refused):
        assert stored.state != order_placed.state
        assert mapper.decode_envelope(stored)[0].__dict__ == mapper.decode(stored)[0].__dict__


def test_the_rebuild_command_shares_the_replay_between_the_processes_asked_for(tmp_path, monkeypatch, capsys):
    from infrastructure.bootstrap import rebuild_processes
    from infrastructure.cli import main
    from projections.base import ProjectionRunner

    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    asked: list[int] = []

    def rebuild(self, names=None):
        asked.append(self.helpers.processes)
        return 0

    monkeypatch.setattr(ProjectionRunner, "rebuild", rebuild)
    assert main(["projections", "rebuild", "--processes", "1"]) == 0
    assert main(["projections", "rebuild"]) == 0
    assert asked == [0, rebuild_processes() - 1]
    with pytest.raises(SystemExit):
        main(["projections", "rebuild", "--processes", "0"])
    assert "--processes" in capsys.readouterr().err


def test_in_three_processes_the_event_logs_indexes_come_back_once_every_event_log_is_in(storewise, monkeypatch):
    """Put back before the rebuild's own last step (while a part without event logs may still replay),
    and the same read models as one process makes."""
    scripted_history(storewise)
    upgrade(storewise.settings)
    runner = projection_runner(storewise, processes=3)
    runner.parallel_from = 0
    try:
        alone = projection_runner(storewise, runner.engine, processes=1)
        alone.rebuild()
        reference, indexes = dump(runner.engine), event_log_indexes(runner.engine)
        put_back: list[list[str]] = []
        original = ProjectionRunner.put_back

        def watched(self, names):
            put_back.append(list(names))
            original(self, names)

        monkeypatch.setattr(ProjectionRunner, "put_back", watched)
        runner.rebuild()
        event_logs = sorted(name for name in runner.projections if name.startswith("event-log:"))
        *early, last = put_back
        assert last == list(runner.projections)  # the rebuild's own last step, for everything
        [with_event_logs] = [names for names in early if "event-log:inventory" in names]
        assert sorted(name for name in with_event_logs if name.startswith("event-log:")) == event_logs
        # Nothing else comes back early: only the event logs set anything aside.
        assert all(name.startswith("event-log:") for names in early for name in names)
        assert dump(runner.engine) == reference
        assert event_log_indexes(runner.engine) == indexes
    finally:
        runner.engine.dispose()
