"""Projection rebuild rate beside the raw rate of reading the notification logs.

Imports Online Retail rows into a fresh SQLite (or the given) database unless
``--database-url`` points at one already filled, then measures, in one run:
- raw: reading every context's notification log in batches, no decoding;
- decode: the same plus decoding each event (personal data opened, metadata);
- rebuild: emptying every read model and replaying all events into them (the
  projections of one context read and decode each event once, in batches of
  ``--rebuild-batch-size``).

    .venv/bin/python bench/projection_rebuild.py --import-file ../shared/data/online-retail/...csv.gz [--import-limit N]

Each phase reports wall and CPU seconds of this process (on a shared machine the CPU seconds
are the steadier figure; on PostgreSQL the server's own CPU is not in them); a rebuild shared
between processes (``--processes``, default two on two cores) also those of the others, apart.
``--profile FILE`` writes cProfile statistics of the timed rebuild (this process only).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infrastructure.bootstrap import bootstrap, projection_runner  # noqa: E402
from infrastructure.logging_setup import configure_logging  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

BATCH = 500


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed(events: int, seconds: float, cpu: float) -> dict:
    return {
        "events": events,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "events_per_s": round(events / seconds, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def server_cpu(engine) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving this database (a server on this machine:
    read from /proc); empty on SQLite or where /proc does not show them."""
    if engine.dialect.name != "postgresql":
        return {}
    import sqlalchemy as sa

    with engine.connect() as connection:
        pids = connection.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        ticks = os.sysconf("SC_CLK_TCK")
        result = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            result[pid] = (int(fields[11]) + int(fields[12])) / ticks
        return result


def read_all(storewise, decode: bool) -> tuple[int, float]:
    count, started = 0, time.perf_counter()
    for app in storewise.applications:
        position = 0
        while batch := app.recorder.select_notifications(start=position, limit=BATCH, inclusive_of_start=False):
            if decode:
                for notification in batch:
                    app.mapper.decode(notification)
            count += len(batch)
            position = batch[-1].id
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="an already imported database (else a fresh SQLite one)")
    parser.add_argument("--import-file", default=None)
    parser.add_argument("--import-limit", type=int, default=None)
    parser.add_argument(
        "--rebuild-batch-size", type=int, default=None, help="events per rebuild batch (the runner's default)"
    )
    parser.add_argument(
        "--processes", type=int, default=None, help="processes a rebuild shares the projections out between"
    )
    parser.add_argument("--no-warm-up", action="store_true", help="time the first rebuild (no warm-up rebuild)")
    parser.add_argument("--skip-reads", action="store_true", help="measure the rebuild only (no raw / decoded reads)")
    parser.add_argument("--profile", default=None, help="write cProfile statistics of the timed rebuild here")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "projection_rebuild.json"))
    args = parser.parse_args()

    if args.database_url:
        settings = Settings.from_env({**os.environ, "STOREWISE_DATABASE_URL": args.database_url})
    else:
        tmp = Path(tempfile.mkdtemp(prefix="storewise-rebuild-"))
        settings = Settings(f"sqlite:///{tmp / 'storewise.sqlite'}", os.urandom(32), tmp)
    upgrade(settings)
    configure_logging(settings.log_format, settings.log_level)  # the rebuild's phases, as `storewise` logs them
    result: dict = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d"),
        "backend": settings.backend,
    }
    with bootstrap(settings) as storewise:
        if args.import_file:
            from infrastructure.importers.online_retail import import_online_retail

            cpu = cpu_seconds()
            result["import"] = import_online_retail(
                storewise, args.import_file, limit=args.import_limit, progress=False
            ).as_dict()
            result["import"]["cpu_seconds"] = round(cpu_seconds() - cpu, 3)
        events = None
        if not args.skip_reads:
            for key, decode in (("raw_read", False), ("read_and_decode", True)):
                cpu = cpu_seconds()
                events, seconds = read_all(storewise, decode=decode)
                result[key] = timed(events, seconds, cpu_seconds() - cpu)
        if events is None:
            events = sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)
        runner = projection_runner(storewise, processes=args.processes)
        if args.rebuild_batch_size:
            runner.rebuild_batch_size = args.rebuild_batch_size
        result["rebuild_batch_size"] = runner.replay_batch_size
        result["processes"] = 1 + (runner.helpers.processes if runner.helpers else 0)
        if not args.no_warm_up:
            runner.rebuild()  # warm-up: the first run also creates the rows the timed one replaces
        profile = cProfile.Profile() if args.profile else None
        server = server_cpu(runner.engine)
        cpu, others, started = cpu_seconds(), cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
        if profile:
            profile.enable()
        runner.rebuild()
        if profile:
            profile.disable()
        cpu, others = cpu_seconds() - cpu, cpu_seconds(resource.RUSAGE_CHILDREN) - others
        result["rebuild"] = timed(events, time.perf_counter() - started, cpu + others)
        if others:  # the rebuild's other processes (ended): on a quiet machine the wall time is about the larger
            result["rebuild"].update(
                cpu_seconds_this_process=round(cpu, 3), cpu_seconds_other_processes=round(others, 3)
            )
        if server:  # backends alive at the end (those that closed meanwhile are missing)
            after = server_cpu(runner.engine)
            result["rebuild"]["server_cpu_seconds"] = round(
                sum(t - server.get(pid, 0.0) for pid, t in after.items()), 3
            )
        if profile:
            profile.dump_stats(args.profile)
        for key in ("raw_read", "read_and_decode"):
            if key in result:
                result[f"ratio_rebuild_to_{key}"] = round(
                    result["rebuild"]["events_per_s"] / result[key]["events_per_s"], 3
                )
        runner.engine.dispose()
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
