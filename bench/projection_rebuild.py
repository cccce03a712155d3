"""Projection rebuild rate beside the raw rate of reading the notification logs.

Imports Online Retail rows into a fresh SQLite (or the given) database unless
``--database-url`` points at one already filled, then measures, in one run:
- raw: reading every context's notification log in batches, no decoding;
- decode: the same plus decoding each event (personal data opened, metadata);
- rebuild: emptying every read model and replaying all events into them (the
  projections of one context read and decode each event once, in batches of
  ``--rebuild-batch-size``).

    .venv/bin/python bench/projection_rebuild.py --import-file ../shared/data/online-retail/...csv.gz [--import-limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infrastructure.bootstrap import bootstrap, projection_runner  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402

BATCH = 500


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
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "projection_rebuild.json"))
    args = parser.parse_args()

    if args.database_url:
        settings = Settings.from_env({**os.environ, "STOREWISE_DATABASE_URL": args.database_url})
    else:
        tmp = Path(tempfile.mkdtemp(prefix="storewise-rebuild-"))
        settings = Settings(f"sqlite:///{tmp / 'storewise.sqlite'}", os.urandom(32), tmp)
    upgrade(settings)
    result: dict = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d"),
        "backend": settings.backend,
    }
    with bootstrap(settings) as storewise:
        if args.import_file:
            from infrastructure.importers.online_retail import import_online_retail

            result["import"] = import_online_retail(
                storewise, args.import_file, limit=args.import_limit, progress=False
            ).as_dict()
        events, seconds = read_all(storewise, decode=False)
        result["raw_read"] = {
            "events": events,
            "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds, 1),
        }
        events, seconds = read_all(storewise, decode=True)
        result["read_and_decode"] = {
            "events": events,
            "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds, 1),
        }
        runner = projection_runner(storewise)
        if args.rebuild_batch_size:
            runner.rebuild_batch_size = args.rebuild_batch_size
        result["rebuild_batch_size"] = max(runner.batch_size, runner.rebuild_batch_size)
        runner.rebuild()  # warm-up: the first run also creates the rows the timed one replaces
        started = time.perf_counter()
        runner.rebuild()
        seconds = time.perf_counter() - started
        result["rebuild"] = {"events": events, "seconds": round(seconds, 3), "events_per_s": round(events / seconds, 1)}
        result["ratio_rebuild_to_raw_read"] = round(
            result["rebuild"]["events_per_s"] / result["raw_read"]["events_per_s"], 3
        )
        result["ratio_rebuild_to_read_and_decode"] = round(
            result["rebuild"]["events_per_s"] / result["read_and_decode"]["events_per_s"], 3
        )
        runner.engine.dispose()
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
