"""How fast the auditors' tools run on the full imported Online Retail data.

Imports the file into a fresh SQLite database (or uses ``--database-url``), brings the
read models up to date, then times, in one run: ``audit verify`` (the hash chains of
every context, then every projection rebuilt into a scratch database and compared table
by table) and ``audit replay`` to the middle of the data's time span, in events per
second, beside a plain projection rebuild.

    .venv/bin/python bench/audit.py --import-file ../shared/data/online-retail/...csv.gz [--import-limit N]
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

from infrastructure import audit  # noqa: E402
from infrastructure.bootstrap import bootstrap, projection_runner  # noqa: E402
from infrastructure.migrations import upgrade  # noqa: E402
from infrastructure.settings import Settings  # noqa: E402


def timed(run) -> tuple[object, float]:
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--import-file", default=None)
    parser.add_argument("--import-limit", type=int, default=None)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "audit.json"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="storewise-audit-"))
    if args.database_url:
        settings = Settings.from_env({**os.environ, "STOREWISE_DATABASE_URL": args.database_url})
    else:
        settings = Settings(f"sqlite:///{tmp / 'storewise.sqlite'}", os.urandom(32), tmp)
    upgrade(settings)
    result: dict = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus",
        "date": time.strftime("%Y-%m-%d"),
    }
    with bootstrap(settings) as storewise:
        if args.import_file:
            from infrastructure.importers.online_retail import import_online_retail

            report = import_online_retail(storewise, args.import_file, limit=args.import_limit, progress=False)
            result["import"] = {"events": report.events_recorded, "seconds": round(report.elapsed_seconds, 1)}
        runner = projection_runner(storewise)
        runner.run_until_idle()
        runner.engine.dispose()
        events = sum(app.recorder.max_notification_id() or 0 for app in storewise.applications)
        result["events"] = events

        chains, seconds = timed(lambda: audit.verify_chains(storewise))
        result["verify_chains"] = {
            "seconds": round(seconds, 1),
            "events_per_s": round(events / seconds),
            "intact": all(c.intact for c in chains),
        }
        report, seconds = timed(lambda: audit.verify_read_models(storewise))
        result["verify_read_models"] = {
            "seconds": round(seconds, 1),
            "events_per_s": round(events / seconds),
            "equal": report.equal,
        }

        first = min(n.id for n in storewise.inventory.recorder.select_notifications(start=1, limit=1))
        firsts = storewise.inventory.recorder.select_notifications(start=first, limit=1)
        last = storewise.inventory.recorder.max_notification_id()
        start_event = storewise.inventory.mapper.decode(firsts[0])[0]
        end_event = storewise.inventory.mapper.decode(
            storewise.inventory.recorder.select_notifications(start=last, limit=1)[0]
        )[0]
        middle = start_event.timestamp + (end_event.timestamp - start_event.timestamp) / 2
        _, seconds = timed(lambda: audit.replay(storewise, middle, f"sqlite:///{tmp / 'replay' / 'past.sqlite'}"))
        result["replay_to_middle"] = {"until": middle.isoformat(), "seconds": round(seconds, 1)}

        # events per second: each event is applied twice (its context's read models and the event-log index)
        rebuild = projection_runner(storewise)
        _, seconds = timed(rebuild.rebuild)
        rebuild.engine.dispose()
        result["rebuild"] = {"seconds": round(seconds, 1), "events_per_s": round(events / seconds)}
    print(json.dumps(result, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
