"""The ``storewise`` command."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from domain.access import USER_ROLES
from domain.shared import DomainError

from .settings import ConfigurationError, Settings

if TYPE_CHECKING:
    from .bootstrap import RunningStorewise


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings, read from the environment once per command (the first time a command needs them)."""
    if getattr(args, "settings", None) is None:
        args.settings = Settings.from_env()
    return args.settings


def running(args: argparse.Namespace, *, migrate: bool = False) -> RunningStorewise:
    """The running system, built by the composition root from the command's settings (``migrate``:
    bring the read-model database to the migrations' head first)."""
    from .bootstrap import bootstrap
    from .operator_errors import check_kek, check_read_models

    settings = settings_of(args)
    if getattr(args, "as_of", None):  # a command's --as-of fixes the analytics clock
        from application.analytics_clock import parse_as_of

        settings = replace(settings, as_of=parse_as_of(args.as_of))
    settings.prepare()
    check_kek(settings)  # before any event is decoded with it
    if migrate:
        from .migrations import upgrade

        upgrade(settings)
    else:
        check_read_models(settings)
    return bootstrap(settings)


def _serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    from .logging_setup import UVICORN_LOG_CONFIG, configure_logging
    from .operator_errors import check_kek, wait_for_database
    from .server import SERVE_OPTIONS

    settings = settings_of(args)
    wait_for_database(settings, settings.db_startup_wait)  # a database still starting (compose, a restart)
    settings.prepare()
    check_kek(settings)
    if args.workers > 1 and settings.backend != "postgresql":
        print(
            "storewise: --workers needs PostgreSQL (on SQLite the processes would only queue for its write lock)",
            file=sys.stderr,
        )
        return 2
    if settings.backend == "postgresql":
        settings = replace(settings, db_pool_max=settings.serve_pool_max(args.workers))
        print(_serve_connections(settings, args.workers), file=sys.stderr, flush=True)
    configure_logging(settings.log_format, settings.log_level)  # JSON lines (STOREWISE_LOG_FORMAT=text for people)
    # The access log (denied attempts, reads of clear personal data by non-owners) is kept at INFO.
    logging.getLogger("storewise.access").setLevel(logging.INFO)
    if args.workers > 1:
        options = {
            "projections_in_process": not args.no_projections,
            "read_only": args.read_only,
            "read_model_url": args.database_url,
        }
        _migrate(args)  # once, before the workers start (each would otherwise race to migrate)
        # The worker processes read their settings from the environment: the options go there too,
        # and each worker's share of the connection budget.
        os.environ[SERVE_OPTIONS] = json.dumps(options)
        os.environ["STOREWISE_DB_POOL_MAX"] = str(settings.db_pool_max)
        if not settings.metrics_dir:  # /metrics adds up every worker's counters
            import tempfile

            os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="storewise-metrics-")
        uvicorn.run(
            "infrastructure.server:serve_app",
            factory=True,
            workers=args.workers,
            host=args.host,
            port=args.port,
            log_config=UVICORN_LOG_CONFIG,
            timeout_graceful_shutdown=args.graceful_timeout,
        )
        return 0
    from .migrations import upgrade
    from .server import create_app

    if args.as_of:
        from application.analytics_clock import parse_as_of

        settings = replace(settings, as_of=parse_as_of(args.as_of))
    if args.database_url:
        settings = replace(settings, read_model_url=args.database_url)
    upgrade(settings)  # here, where a failure is one line, rather than in the server's start-up
    app = create_app(settings, projections_in_process=not args.no_projections, read_only=args.read_only)
    # SIGTERM / Ctrl-C: stop accepting, let in-flight requests finish (up to --graceful-timeout), then shut down.
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=UVICORN_LOG_CONFIG,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _serve_connections(settings: Settings, workers: int) -> str:
    """What ``serve`` may open on PostgreSQL, in one line (the connection budget)."""
    per = settings.db_pool_max
    source = (
        "STOREWISE_DB_POOL_MAX"
        if settings.db_pool_max_given
        else f"STOREWISE_DB_CONNECTIONS={settings.db_connections} shared"
    )
    idle = 2 * settings.write_pool_idle
    over = (
        f", more than the budget of {settings.db_connections}: each pool keeps at least 2"
        if not settings.db_pool_max_given and 2 * per * workers > settings.db_connections
        else ""
    )
    return (
        f"storewise serve: PostgreSQL connections: {workers} worker(s) x 2 pools (write, read) x at most {per} "
        f"= at most {2 * per * workers} ({source}{over}); about {idle} per worker while idle"
    )


def _migrate(args: argparse.Namespace) -> int:
    from .migrations import upgrade

    with running(args, migrate=True):  # also creates the event-store and key-store tables
        pass
    upgrade(settings_of(args))
    print("event stores ready; read-model migrations at head")
    return 0


def _import_online_retail(args: argparse.Namespace) -> int:
    from .importers.online_retail import import_online_retail

    with running(args) as storewise:
        report = import_online_retail(
            storewise, args.path, limit=args.limit, warehouse=args.warehouse, progress=not args.quiet
        )
    print(report.summary())
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    return 0


def _status(args: argparse.Namespace) -> int:
    with running(args) as storewise:
        counts = storewise.event_counts()
    print(json.dumps({"database": settings_of(args).backend, "events": counts}, indent=2))
    return 0


def _projections(args: argparse.Namespace) -> int:
    import signal
    import threading
    import time

    if args.action == "run":  # one batch at a time: a small write pool (the connection budget)
        settings = settings_of(args)
        args.settings = replace(settings, db_pool_max=settings.projection_worker_pool_max())
    elif args.action == "rebuild" and args.processes is not None:
        args.settings = replace(settings_of(args), rebuild_processes=args.processes)
    with running(args, migrate=True) as storewise:
        runner = storewise.read_side
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
            print(
                f"rebuilt {', '.join(names or runner.projections)}: "
                f"{moved} positions in {time.perf_counter() - started:.1f} s"
            )
        else:  # run: a worker process, until SIGTERM / Ctrl-C; the batch under way commits before it stops
            from . import metrics
            from .logging_setup import configure_logging

            configure_logging(storewise.settings.log_format, storewise.settings.log_level)
            log = logging.getLogger("storewise.projections")
            runner.batch_size = args.batch_size
            runner.listeners.append(metrics.observe_projected)
            if args.metrics_port:
                from prometheus_client import start_http_server

                metrics.PROJECTIONS.add(runner.status)
                start_http_server(args.metrics_port, addr=args.metrics_host)
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            settings = storewise.settings
            opens = (
                f"; PostgreSQL: one write pool, {settings.write_pool_idle} connection(s) idle, "
                f"at most {settings.db_pool_max}"
                if settings.backend == "postgresql"
                else ""
            )
            print(f"projection worker running (Ctrl-C to stop){opens}", flush=True)
            next_catch_up = 0.0
            while not stop.is_set():
                moved = 0
                try:
                    if time.monotonic() >= next_catch_up:  # process managers: what other processes recorded
                        storewise.runner.catch_up()
                        next_catch_up = time.monotonic() + 1.0
                    for group in runner.groups(names):  # a context's projections together: decoded once
                        while not stop.is_set() and (step := runner.run_together(group)[0]):
                            moved += step
                except Exception as error:  # e.g. the database went away: try again after a pause
                    log.warning("projection worker failed (%s: %s); retrying", type(error).__name__, error)
                if not moved:
                    stop.wait(args.interval)
            log.info("projection worker stopped")
    return 0


# --- access: users and tokens -------------------------------------------------------------------


def _with_access(args: argparse.Namespace, work: Callable[[Any, Any], Any]) -> Any:
    """Run ``work(storewise, engine)`` on the write side, then bring the access read model up to
    date, so that what was done (a user, a token, a revocation) is in force for the API at once."""
    with running(args, migrate=True) as storewise:
        runner = storewise.read_side
        runner.run_until_idle(["access"])  # current before reading it (e.g. a token's owner)
        result = work(storewise, runner.engine)
        runner.run_until_idle(["access"])
    return result


def _uuid_of(text: str, what: str) -> UUID:
    import base64
    import binascii

    try:
        return UUID(text)
    except ValueError:
        pass
    try:  # a global ID as the API shows it, e.g. base64("Customer:<uuid>")
        kind, _, raw = base64.b64decode(text.encode(), validate=True).decode().partition(":")
        return UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError(f"{what} must be a UUID (or the API's global ID), not {text!r}") from None


def _user_id(text: str) -> UUID:
    """A user's id, given as their id or their name."""
    from application.access import AccessApplication

    try:
        return _uuid_of(text, "USER")
    except ValueError:
        return AccessApplication.user_id(text)


def _existing_user(storewise: Any, text: str) -> UUID:
    """The id of the user given (by id or name) on the command line; refused in the words typed."""
    from application.errors import NotFound

    user_id = _user_id(text)
    try:
        storewise.access.user(user_id)
    except NotFound:
        typed_id = text.strip().lower() == str(user_id)
        raise NotFound(f"no user with id {text}" if typed_id else f"no user named {text}") from None
    return user_id


def _check_customer(storewise: Any, customer_id: UUID | None) -> None:
    if customer_id is not None:
        storewise.customers.customer(customer_id)  # NotFound if there is no such customer


def _users_create(args: argparse.Namespace) -> int:
    from application.context import acting_as
    from application.errors import AlreadyExists

    customer_id = _uuid_of(args.customer_id, "--customer-id") if args.customer_id else None

    def work(storewise: Any, engine: Any) -> Any:
        _check_customer(storewise, customer_id)
        with acting_as(_cli_actor()):
            try:
                return storewise.access.register_user(args.name, args.role, customer_id=customer_id)
            except AlreadyExists:
                raise AlreadyExists(
                    f"a user named {args.name!r} already exists (id {storewise.access.user_id(args.name)})"
                ) from None

    print(_with_access(args, work))
    return 0


def _users_set_role(args: argparse.Namespace) -> int:
    from application.context import acting_as

    customer_id = _uuid_of(args.customer_id, "--customer-id") if args.customer_id else None

    def work(storewise: Any, engine: Any) -> Any:
        _check_customer(storewise, customer_id)
        with acting_as(_cli_actor()):
            return storewise.access.change_role(
                _existing_user(storewise, args.user), args.role, customer_id=customer_id
            )

    print(_with_access(args, work))
    return 0


def _users_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from projections.tables import api_tokens, users

    def work(storewise: Any, engine: Any) -> Any:
        with engine.connect() as connection:
            rows = connection.execute(sa.select(users).order_by(users.c.name)).all()
            tokens = connection.execute(sa.select(api_tokens).order_by(api_tokens.c.issued_at)).all()
        return rows, tokens

    rows, tokens = _with_access(args, work)
    from datetime import datetime

    now = datetime.now(UTC)
    listed = []
    for row in rows:
        mine = [t for t in tokens if t.user_id == row.id]
        listed.append(
            {
                "id": str(row.id),
                "name": row.name,
                "role": row.role,
                "customer_id": None if row.customer_id is None else str(row.customer_id),
                "registered_at": row.registered_at.isoformat(),
                "registered_by": row.registered_by,
                "tokens": [
                    {
                        "id": str(t.id),
                        "issued_at": t.issued_at.isoformat(),
                        "issued_by": t.issued_by,
                        "expires_at": t.expires_at.isoformat(),
                        "revoked_at": None if t.revoked_at is None else t.revoked_at.isoformat(),
                        "active": t.revoked_at is None and t.expires_at > now,
                    }
                    for t in mine
                ],
            }
        )
    if args.json:
        print(json.dumps(listed, indent=2))
        return 0
    print(f"{'id':36}  {'name':20}  {'role':17}  {'customer':36}  active tokens")
    for user in listed:
        active = sum(t["active"] for t in user["tokens"])
        print(f"{user['id']:36}  {user['name']:20}  {user['role']:17}  {user['customer_id'] or '-':36}  {active}")
    return 0


def _tokens_issue(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from application.context import acting_as

    def work(storewise: Any, engine: Any) -> Any:
        with acting_as(_cli_actor()):
            return storewise.access.issue_token(_existing_user(storewise, args.user), ttl=timedelta(days=args.ttl_days))

    issued = _with_access(args, work)
    print(issued.token)  # the only time it is ever shown
    print(
        f"token id {issued.token_id}, expires {issued.expires_at.isoformat()}: "
        "keep the token now, it cannot be shown again",
        file=sys.stderr,
    )
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from application.context import acting_as
    from projections.tables import api_tokens

    token_id = _uuid_of(args.token_id, "TOKEN_ID")

    def work(storewise: Any, engine: Any) -> Any:
        with engine.connect() as connection:
            user_id = connection.execute(sa.select(api_tokens.c.user_id).where(api_tokens.c.id == token_id)).scalar()
        if user_id is None:
            raise ValueError(f"no token {args.token_id}")
        with acting_as(_cli_actor()):
            storewise.access.revoke_token(user_id, token_id)
        return user_id

    _with_access(args, work)
    print(f"revoked {token_id}")
    return 0


def _cli_actor() -> str:
    """Who ran the command, as recorded on its events (the operating-system user)."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name to be had (some containers)
        return "cli"


def _audit(args: argparse.Namespace) -> int:
    from . import audit

    with running(args, migrate=True) as storewise:
        if args.action == "head":
            print(json.dumps(audit.heads(storewise), indent=2))
            return 0
        if args.action == "replay":
            from datetime import datetime

            until = datetime.fromisoformat(args.until.replace("Z", "+00:00"))
            if until.tzinfo is None:
                until = until.replace(tzinfo=UTC)
            from domain.shared import Clock

            clock = Clock(args.clock.upper())
            moved = audit.replay(storewise, until, args.into, clock)
            print(
                f"read models as of {until.isoformat()} ({clock.value.lower()} time) written to {args.into} "
                f"({moved} log positions); "
                f"serve them with: storewise serve --read-only --database-url {args.into}"
            )
            return 0
        if args.action == "import":
            records = [json.loads(line) for line in Path(args.file).read_text().splitlines() if line.strip()]
            print(f"recorded {audit.import_events(storewise, records)} events from {args.file}")
            return 0
        if args.action == "export":
            aggregate = UUID(args.aggregate) if args.aggregate else None
            records = audit.export_events(storewise, aggregate_id=aggregate, correlation_id=args.correlation_id)
            lines = "".join(json.dumps(record, sort_keys=True) + "\n" for record in records)
            if args.out:
                Path(args.out).write_text(lines)
                print(f"wrote {len(records)} events to {args.out}", file=sys.stderr)
            else:
                sys.stdout.write(lines)
            return 0
        ok = True
        for report in audit.verify_chains(storewise):
            if report.intact:
                print(
                    f"chain {report.context}: intact, {report.events} events, "
                    f"head {report.head_position} {report.head_hash[:16]}…"
                )
            else:
                ok = False
                print(f"chain {report.context}: BROKEN at position {report.first_broken_position}: {report.problem}")
        if args.heads:
            for problem in audit.check_heads(storewise, json.loads(Path(args.heads).read_text())):
                ok = False
                print(f"heads: {problem}")
        report = audit.verify_read_models(storewise)
        for name, (position, head) in report.positions.items():
            behind = f", {head - position} events behind the log (not verified beyond)" if head > position else ""
            print(f"projection {name}: verified up to position {position} of {head}{behind}")
        for check in report.tables:
            if check.equal:
                print(f"read model {check.table}: equal to a rebuild ({check.live_checksum[:16]}…)")
            else:
                ok = False
                print(f"read model {check.table}: DIFFERS from a rebuild")
                for row in check.only_live:
                    print(f"    only live:    {row}")
                for row in check.only_rebuilt:
                    print(f"    only rebuilt: {row}")
    print("verified: everything matches" if ok else "verification FAILED")
    return 0 if ok else 1


def _backup(args: argparse.Namespace) -> int:
    from . import backup

    settings = settings_of(args)
    if args.action == "backup":
        report = backup.backup(settings, Path(args.path), progress=not args.quiet)
        print(report.summary(f"backed up into {args.path}:"))
        print(
            "the key-encryption key is NOT in the backup: keep STOREWISE_KEK apart from it (see docs/deployment.md)",
            file=sys.stderr,
        )
    elif args.action == "restore":
        report = backup.restore(settings, Path(args.path), progress=not args.quiet)
        print(report.summary(f"restored from {args.path}:"))
        print(f"check it with: storewise audit verify --heads {Path(args.path) / backup.HEADS}")
    else:
        source, target = settings.with_database(args.from_url), settings.with_database(args.to_url)
        report = backup.migrate_store(source, target, progress=not args.quiet)
        print(report.summary("moved:"))
        print(
            f"serve it with: STOREWISE_DATABASE_URL={target.url.render_as_string(hide_password=True)} storewise serve"
        )
    return 0


def _settings(args: argparse.Namespace) -> int:
    from .settings import markdown_table

    if args.markdown:
        print(markdown_table())
        return 0
    print(json.dumps(settings_of(args).described(), indent=2, default=str))
    return 0


def _glossary(args: argparse.Namespace) -> int:
    from .glossary import OUTPUT, render, write

    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != render():
            print(f"storewise: {OUTPUT} is stale; run `storewise glossary`", file=sys.stderr)
            return 1
        print(f"{OUTPUT} is up to date")
        return 0
    print(f"wrote {write()}")
    return 0


AS_OF_HELP = (
    "the instant analytics measure from (ISO date/time, UTC if no offset; default STOREWISE_AS_OF, else now, "
    "or the newest order's time when it is more than 30 days old)"
)


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo, steps

    if args.list:
        for step in steps():
            print(f"{step.name:16} {step.title}")
        return 0
    with running(args, migrate=True) as storewise:
        run_demo(storewise, args.steps or None, say=lambda line: print(line, flush=True))
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return value


#: Modules whose ``register(commands=, train=, bench=)`` adds an engine's sub-commands.
ENGINE_COMMANDS = (
    "infrastructure.recommender.commands",
    "infrastructure.forecasting.commands",
    "infrastructure.reviews.commands",
    "infrastructure.marketing.commands",
    "infrastructure.outcomes",
    "infrastructure.health_commands",
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="storewise", description="Storewise: an event-sourced online shop backend.")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve HTTP (GraphQL at /graphql, health at /healthz)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--read-only",
        action="store_true",
        help="serve queries only (mutations are refused) and leave the read models as they are, e.g. a replay",
    )
    serve.add_argument("--database-url", help="read models from this database (e.g. one written by `audit replay`)")
    serve.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="worker processes (PostgreSQL only; migrations run once first; /metrics adds up all workers). "
        "Each holds 2 PostgreSQL connections idle (a write pool and a read pool, STOREWISE_DB_POOL_IDLE each) "
        "and at most 2 x STOREWISE_DB_POOL_MAX; unset, that is STOREWISE_DB_CONNECTIONS (32) shared: "
        "--workers 8 opens at most 8 x 2 x 2 = 32. Printed at start",
    )
    serve.add_argument(
        "--graceful-timeout",
        type=float,
        default=10.0,
        help="seconds in-flight requests get to finish on SIGTERM (default 10)",
    )
    serve.add_argument(
        "--no-projections",
        action="store_true",
        help="do not run the projections in this process (a `storewise projections run` worker keeps the read models; "
        "mutations then wait for it to reach their writes)",
    )
    serve.add_argument("--as-of", help=AS_OF_HELP)
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser(
        "migrate", help="create the event stores and bring the read models to the latest schema"
    )
    migrate.set_defaults(run=_migrate)

    audit = commands.add_parser("audit", help="for auditors: verify the logs' hash chains and the read models")
    audit_actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = audit_actions.add_parser(
        "verify",
        help="check every context's hash chain (first broken position) and that the read models equal a rebuild "
        "from the log; exit 0 only if all is well",
    )
    verify.add_argument("--heads", help="also check chain heads exported earlier by `audit head`")
    verify.set_defaults(run=_audit)
    audit_actions.add_parser("head", help="print the chain heads, signed, to keep outside the database").set_defaults(
        run=_audit
    )
    replay = audit_actions.add_parser(
        "replay", help="rebuild every read model as it was at an instant into another database (to serve read-only)"
    )
    replay.add_argument("--until", required=True, help="the instant, ISO 8601 (UTC if no offset)")
    replay.add_argument(
        "--clock",
        choices=("recorded", "business"),
        default="recorded",
        help="recorded (default): what the store had recorded by then; business: what had happened in the shop "
        "by then (e.g. imported history; see Clock in docs/ubiquitous-language.md)",
    )
    replay.add_argument(
        "--into", required=True, help="the database to write: sqlite:///PATH or postgresql://...?schema=NAME"
    )
    replay.set_defaults(run=_audit)
    export = audit_actions.add_parser(
        "export", help="write the events of one aggregate or one correlation as JSON Lines (personal data masked)"
    )
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--aggregate", help="the aggregate's UUID")
    which.add_argument("--correlation-id", help="every event of one correlation")
    export.add_argument("--out", help="file to write (default: standard output)")
    export.set_defaults(run=_audit)
    reimport = audit_actions.add_parser(
        "import", help="record the events of an export, exactly as they were stored (e.g. into a fresh database)"
    )
    reimport.add_argument("file", help="JSON Lines written by `audit export`")
    reimport.set_defaults(run=_audit)

    glossary = commands.add_parser(
        "glossary", help="write docs/ubiquitous-language.md from the domain code's docstrings and type hints"
    )
    glossary.add_argument("--check", action="store_true", help="only check that the committed file is up to date")
    glossary.set_defaults(run=_glossary)

    shown = commands.add_parser(
        "settings", help="print the settings in force (secrets hidden), or --markdown the table of every variable"
    )
    shown.add_argument("--markdown", action="store_true", help="the README's table of every environment variable")
    shown.set_defaults(run=_settings)

    status = commands.add_parser("status", help="print the number of events recorded per bounded context")
    status.set_defaults(run=_status)

    projections = commands.add_parser("projections", help="read models: status, rebuild, or run as a worker")
    actions = projections.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("status", help="position, head of the log and lag of each projection").set_defaults(
        run=_projections
    )
    rebuild = actions.add_parser(
        "rebuild", help="empty a projection's tables (all if no NAME) and replay from position 0"
    )
    rebuild.add_argument("name", nargs="?", help="customers, catalog, inventory, campaigns or feedback")
    rebuild.add_argument(
        "--processes",
        type=_positive_int,
        default=None,
        help="processes sharing the replay of long logs (default: 3 where there are two cores or more; "
        "1: this process alone, e.g. beside a busy server)",
    )
    rebuild.set_defaults(run=_projections)
    worker = actions.add_parser(
        "run",
        help="keep the read models up to date (a separate worker process; PostgreSQL: one write pool, "
        "STOREWISE_DB_POOL_IDLE connections idle, at most STOREWISE_DB_POOL_MAX, 3 if unset)",
    )
    worker.add_argument("name", nargs="?", help="only this projection")
    worker.add_argument("--interval", type=float, default=0.5, help="seconds between polls when idle")
    worker.add_argument(
        "--batch-size", type=_positive_int, default=500, help="events applied per transaction (default 500)"
    )
    worker.add_argument(
        "--metrics-port", type=int, default=0, help="serve Prometheus metrics on this port (default: none)"
    )
    worker.add_argument(
        "--metrics-host", default="127.0.0.1", help="the address of the metrics port (default 127.0.0.1)"
    )
    worker.set_defaults(run=_projections)

    users = commands.add_parser("users", help="who may use the API: create, list, change a role")
    user_actions = users.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = user_actions.add_parser("create", help="create a user with a role; prints the user's id")
    create.add_argument("name", help="a unique name: letters, digits and . - _ @")
    create.add_argument("--role", required=True, choices=USER_ROLES)
    create.add_argument("--customer-id", help="for --role customer: the customer (UUID) the user is")
    create.set_defaults(run=_users_create)
    listing = user_actions.add_parser("list", help="the users, their roles and how many active tokens they hold")
    listing.add_argument("--json", action="store_true", help="everything as JSON, tokens and who granted them included")
    listing.set_defaults(run=_users_list)
    set_role = user_actions.add_parser("set-role", help="give a user another role")
    set_role.add_argument("user", metavar="USER", help="the user's id or name")
    set_role.add_argument("role", choices=USER_ROLES)
    set_role.add_argument("--customer-id", help="for the customer role: the customer (UUID) the user is")
    set_role.set_defaults(run=_users_set_role)

    tokens = commands.add_parser("tokens", help="API tokens: issue (printed once) and revoke")
    token_actions = tokens.add_subparsers(dest="action", required=True, metavar="ACTION")
    issue = token_actions.add_parser(
        "issue", help="issue a bearer token to a user and print it (the only time it is shown)"
    )
    issue.add_argument("user", metavar="USER_ID", help="the user's id (or name)")
    issue.add_argument("--ttl-days", type=_positive_int, default=30, help="days until it expires (default 30)")
    issue.set_defaults(run=_tokens_issue)
    revoke = token_actions.add_parser("revoke", help="revoke a token (it stops working within seconds)")
    revoke.add_argument(
        "token_id", metavar="TOKEN_ID", help="the token's id (printed when issued; `users list --json`)"
    )
    revoke.set_defaults(run=_tokens_revoke)

    backup = commands.add_parser(
        "backup",
        help="write a consistent copy of the whole store (event stores, key store, read models, manifest) into a "
        "new directory, while the server keeps serving; the key-encryption key is not included",
    )
    backup.add_argument("path", help="a new (or empty) directory")
    backup.add_argument("--quiet", action="store_true", help="no progress bar")
    backup.set_defaults(run=_backup, action="backup")
    restore = commands.add_parser(
        "restore", help="restore a backup into an empty database (STOREWISE_DATABASE_URL; either backend)"
    )
    restore.add_argument("path", help="the backup's directory")
    restore.add_argument("--quiet", action="store_true", help="no progress bar")
    restore.set_defaults(run=_backup, action="restore")
    move = commands.add_parser(
        "migrate-store",
        help="move a whole shop (history, chains, positions, idempotency receipts, read models) into an empty "
        "database, e.g. from SQLite to PostgreSQL (see docs/deployment.md)",
    )
    move.add_argument(
        "--from", dest="from_url", required=True, help="the store to move: sqlite:///PATH or postgresql://..."
    )
    move.add_argument(
        "--to", dest="to_url", required=True, help="an empty database: postgresql://... or sqlite:///PATH"
    )
    move.add_argument("--quiet", action="store_true", help="no progress bar")
    move.set_defaults(run=_backup, action="migrate-store")

    imports = commands.add_parser("import", help="import real data through the application layer")
    sources = imports.add_subparsers(dest="source", required=True, metavar="SOURCE")
    retail = sources.add_parser(
        "online-retail", help="the UCI Online Retail invoice lines (CSV, plain or gzipped); re-running adds nothing"
    )
    retail.add_argument(
        "path", help="CSV file with InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    )
    retail.add_argument("--limit", type=_positive_int, default=None, help="read at most this many rows")
    retail.add_argument("--warehouse", default="main", help="the warehouse orders are fulfilled from")
    retail.add_argument("--quiet", action="store_true", help="no progress bar")
    retail.add_argument("--json", action="store_true", help="also print the report as JSON")
    retail.set_defaults(run=_import_online_retail)

    demo = commands.add_parser(
        "demo",
        help="put every engine to work on the imported data (suppliers, a plan, segments, a purchase model, "
        "campaigns, a budget allocation); each step idempotent",
    )
    demo.add_argument("steps", nargs="*", metavar="STEP", help="only these steps, in their order (default all)")
    demo.add_argument("--list", action="store_true", help="list the steps and stop")
    demo.add_argument("--as-of", help=AS_OF_HELP)
    demo.set_defaults(run=_demo)

    train = commands.add_parser("train", help="train an engine's model from the event log and record it")
    train_actions = train.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    bench = commands.add_parser("bench", help="evaluate an engine offline on your own data files (prints JSON)")
    bench_actions = bench.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    for module in ENGINE_COMMANDS:  # each engine adds its own sub-commands; imported lazily, they stay cheap
        importlib.import_module(module).register(commands=commands, train=train_actions, bench=bench_actions)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    args.settings = None  # read from the environment when the command first needs them (settings_of)
    try:
        return _run_explained(args)
    except ConfigurationError as error:
        print(f"storewise: configuration error: {error}", file=sys.stderr)
        return 2


def _run_explained(args: argparse.Namespace) -> int:
    """Run the command; a database failure an operator can fix becomes one line and exit status 3
    (the traceback goes to the log at debug level)."""
    from .operator_errors import DATABASE_EXIT, OperatorError, explain

    try:
        return _run(args)
    except ConfigurationError:
        raise
    except Exception as error:
        message = explain(error, args.settings)
        if message is None:
            raise
        logging.getLogger("storewise.operator").debug("%s", message, exc_info=True)
        print(f"storewise: {message}", file=sys.stderr)
        return error.exit_code if isinstance(error, OperatorError) else DATABASE_EXIT


def _run(args: argparse.Namespace) -> int:
    try:
        return args.run(args)
    except ConfigurationError as error:
        print(f"storewise: configuration error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:  # bad file, bad argument: say so, no traceback
        print(f"storewise: {error}", file=sys.stderr)
        return 2
    except DomainError as error:  # a rule refused the command (e.g. ALREADY_EXISTS, NOT_FOUND)
        print(f"storewise: {error.message} ({error.code})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
