"""A rebuild shared between processes (``infrastructure.parallel_rebuild``) leaves the same read models,
positions and event-log indexes as one process, on SQLite and PostgreSQL; a failure leaves every
projection consistent with its position. And what it rests on: the lean notification reader and the
shares."""

from __future__ import annotations

import pytest
from eventsourcing.sqlite import SQLiteProcessRecorder

from infrastructure import parallel_rebuild
from infrastructure.bootstrap import projection_runner
from infrastructure.migrations import upgrade
from projections.base import share_out

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
    here = handed_out[0][-1]  # the part this process replays itself

    def failing_end_batch(connection):
        raise RuntimeError("killed")

    monkeypatch.setattr(runner.projections[here[0]], "end_batch", failing_end_batch)
    with pytest.raises(RuntimeError, match="killed"):
        runner.rebuild()
    assert event_log_indexes(runner.engine) == indexes
    monkeypatch.undo()
    positions = {row[0] for row in dump(runner.engine)["projection_positions"]}
    assert here[0] not in positions  # its batch went with the failure
    runner.run_until_idle()  # whatever the other process left, each projection goes on from its position
    assert dump(runner.engine) == reference


def test_the_projections_are_shared_out_by_cost_counting_each_log_read_once_per_process():
    leaders = {"log-a": "A", "stock": "A", "plans": "A", "log-b": "B", "orders": "B"}
    reads = {"A": 10.0, "B": 2.0}
    costs = {"log-a": 30.0, "stock": 15.0, "plans": 14.0, "log-b": 6.0, "orders": 12.0}
    # log-a: 40 with its log's reading | stock: 25 there, not 55 beside log-a | plans: 39, its log read
    # already | orders: 53 beside them (54 beside log-a) | log-b: 48 beside log-a, the costliest part last
    assert share_out(costs, leaders, reads, 2) == [["stock", "plans", "orders"], ["log-a", "log-b"]]
    assert share_out(costs, leaders, reads, 1) == [sorted(costs, key=lambda n: -costs[n])]
    assert share_out({"x": 1.0}, {"x": "A"}, reads, 3) == [["x"]]  # no empty parts


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
