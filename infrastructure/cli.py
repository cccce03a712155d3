"""The ``storewise`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from .settings import ConfigurationError, Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server import create_app

    app = create_app(Settings.from_env(), projections_in_process=not args.no_projections)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=10)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .migrations import upgrade

    with bootstrap():  # creates the event-store and key-store tables
        pass
    upgrade(Settings.from_env())
    print("event stores ready; read-model migrations at head")
    return 0


def _import_online_retail(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap
    from .importers.online_retail import import_online_retail

    with bootstrap() as storewise:
        report = import_online_retail(
            storewise, args.path, limit=args.limit, warehouse=args.warehouse, progress=not args.quiet
        )
    print(report.summary())
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    return 0


def _status(args: argparse.Namespace) -> int:
    from .bootstrap import bootstrap

    with bootstrap() as storewise:
        counts = {app.name: app.recorder.max_notification_id() or 0 for app in storewise.applications}
    print(json.dumps({"database": Settings.from_env().backend, "events": counts}, indent=2))
    return 0


def _projections(args: argparse.Namespace) -> int:
    import signal
    import threading
    import time

    from .bootstrap import bootstrap, projection_runner
    from .migrations import upgrade

    settings = Settings.from_env()
    upgrade(settings)
    with bootstrap(settings) as storewise:
        runner = projection_runner(storewise)
        names = [args.name] if getattr(args, "name", None) else None
        if names and names[0] not in runner.projections:
            print(f"storewise: no projection {names[0]!r}; known: {', '.join(runner.projections)}", file=sys.stderr)
            return 2
        if args.action == "status":
            rows = [
                {"name": s.name, "leader": s.leader, "position": s.position, "head": s.head, "lag": s.lag}
                for s in runner.status()
            ]
            print(json.dumps(rows, indent=2))
        elif args.action == "rebuild":
            started = time.perf_counter()
            moved = runner.rebuild(names)
            print(f"rebuilt {', '.join(names or runner.projections)}: {moved} positions in {time.perf_counter() - started:.1f} s")
        else:  # run: a worker process, until SIGTERM / Ctrl-C; each batch finishes before it stops
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            print("projection worker running (Ctrl-C to stop)", flush=True)
            while not stop.is_set():
                if not runner.run_until_idle(names):
                    stop.wait(args.interval)
        runner.engine.dispose()
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="storewise", description="Storewise: an event-sourced online shop backend.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve HTTP (GraphQL at /graphql, health at /healthz)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--no-projections",
        action="store_true",
        help="do not run the projections in this process (a `storewise projections run` worker keeps the read models; "
        "mutations then wait for it to reach their writes)",
    )
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="create the event stores and bring the read models to the latest schema")
    migrate.set_defaults(run=_migrate)

    status = commands.add_parser("status", help="print the number of events recorded per bounded context")
    status.set_defaults(run=_status)

    projections = commands.add_parser("projections", help="read models: status, rebuild, or run as a worker")
    actions = projections.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="position, head of the log and lag of each projection").set_defaults(run=_projections)
    rebuild = actions.add_parser("rebuild", help="empty a projection's tables (all if no NAME) and replay from position 0")
    rebuild.add_argument("name", nargs="?", help="customers, catalog, inventory, campaigns or feedback")
    rebuild.set_defaults(run=_projections)
    worker = actions.add_parser("run", help="keep the read models up to date (a separate worker process)")
    worker.add_argument("name", nargs="?", help="only this projection")
    worker.add_argument("--interval", type=float, default=0.5, help="seconds between polls when idle")
    worker.set_defaults(run=_projections)

    imports = commands.add_parser("import", help="import real data through the application layer")
    sources = imports.add_subparsers(dest="source", required=True, metavar="SOURCE")
    retail = sources.add_parser(
        "online-retail", help="the UCI Online Retail invoice lines (CSV, plain or gzipped); re-running adds nothing"
    )
    retail.add_argument("path", help="CSV file with InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country")
    retail.add_argument("--limit", type=_positive_int, default=None, help="read at most this many rows")
    retail.add_argument("--warehouse", default="main", help="the warehouse orders are fulfilled from")
    retail.add_argument("--quiet", action="store_true", help="no progress bar")
    retail.add_argument("--json", action="store_true", help="also print the report as JSON")
    retail.set_defaults(run=_import_online_retail)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigurationError as error:
        print(f"storewise: configuration error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:  # bad file, bad argument: say so, no traceback
        print(f"storewise: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
