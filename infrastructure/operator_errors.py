"""What an operator is told when the database is not there or not right: one line saying what is
wrong and what to do, a non-zero exit (:data:`DATABASE_EXIT`), and no traceback (that goes to the
log at debug level).

:func:`explain` recognises the failure from the exception and what it was caused by, whichever
layer raised it (psycopg, asyncpg, sqlite3, SQLAlchemy, the eventsourcing library, Alembic);
:func:`wait_for_database` lets ``storewise serve`` wait for a database that is still starting;
:func:`check_read_models` and :func:`check_kek` catch a read-model database behind the code and a
key-encryption key that does not open the stored keys before anything else goes wrong.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from application.errors import ConfigurationError

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger("storewise.operator")

#: The exit status of a command stopped by a database failure (2: a bad argument or setting).
DATABASE_EXIT = 3


class OperatorError(Exception):
    """A failure an operator can fix, already explained in one line."""

    def __init__(self, message: str, exit_code: int = DATABASE_EXIT):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class ReadModelsBehind(OperatorError):
    """The read-model database is not at the migrations this code ends at."""


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _where(settings: Settings | None) -> str:
    if settings is None:
        return "the database"
    try:
        url = settings.url
    except ConfigurationError:
        return "the database"
    if settings.backend == "sqlite":
        return f"the SQLite database {url.database}"
    return f"the PostgreSQL server at {url.host or '127.0.0.1'}:{url.port or 5432}"


_UNREACHABLE = re.compile(
    r"connection refused|could not connect|timeout expired|timed out|could not translate host name|"
    r"name or service not known|no route to host|server closed the connection|connection is bad|"
    r"connection reset|network is unreachable|failed to resolve host|temporary failure in name resolution",
    re.IGNORECASE,
)
_STARTING = re.compile(r"the database system is (starting up|shutting down|in recovery mode)", re.IGNORECASE)
_AUTH = re.compile(
    r'password authentication failed for user "([^"]+)"|role "([^"]+)" does not exist|'
    r"no pg_hba\.conf entry|authentication failed|password .*not supplied|fe_sendauth",
    re.IGNORECASE,
)
_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist', re.IGNORECASE)
_NO_SCHEMA = re.compile(r'schema "([^"]+)" does not exist', re.IGNORECASE)
_NO_TABLE = re.compile(r'no such table: (\S+)|relation "([^"]+)" does not exist', re.IGNORECASE)
_UNKNOWN_REVISION = re.compile(r"Can't locate revision identified by '([^']+)'", re.IGNORECASE)
_PERMISSION = re.compile(r"permission denied for (\w+) (\S+)", re.IGNORECASE)
_SQLITE_OPEN = re.compile(r"unable to open database file", re.IGNORECASE)
_LOCKED = re.compile(r"database is locked", re.IGNORECASE)


def is_starting(error: BaseException) -> bool:
    """The database cannot be reached or is starting: worth waiting for (``serve``)."""
    text = " ".join(str(e) for e in _chain(error))
    return bool(_STARTING.search(text) or _UNREACHABLE.search(text)) and not (
        _AUTH.search(text) or _NO_DATABASE.search(text)
    )


def explain(error: BaseException, settings: Settings | None = None) -> str | None:
    """One line saying what is wrong and what to do, or None if ``error`` is no database failure."""
    for link in _chain(error):
        if isinstance(link, OperatorError):
            return link.message
    text = " | ".join(str(e) for e in _chain(error))
    where = _where(settings)
    url = _typed_url(settings)
    if match := _UNKNOWN_REVISION.search(text):
        return (
            f"the read-model database is at migration {match.group(1)}, which this Storewise does not know (a newer "
            "version wrote it): run that version, or restore a backup into an empty database"
        )
    if match := _AUTH.search(text):
        user = match.group(1) or match.group(2) or (settings.url.username if settings else None)
        who = f" as {user}" if user else ""
        return (
            f"{where} refused the login{who}: check the user name and password in STOREWISE_DATABASE_URL "
            f"({url}) and that the server lets it connect (pg_hba.conf)"
        )
    if match := _NO_DATABASE.search(text):
        return (
            f"{where} has no database named {match.group(1)}: create it (createdb {match.group(1)}) "
            f"or correct STOREWISE_DATABASE_URL ({url})"
        )
    if match := _NO_SCHEMA.search(text):
        return f"there is no schema {match.group(1)} in the database: create it, or correct ?schema= in {url}"
    if match := _PERMISSION.search(text):
        return (
            f"the database user may not use {match.group(1)} {match.group(2)}: grant it, or use another user in "
            f"STOREWISE_DATABASE_URL ({url})"
        )
    if _STARTING.search(text):
        return f"{where} is still starting: try again in a moment (`serve` waits STOREWISE_DB_STARTUP_WAIT seconds)"
    if _UNREACHABLE.search(text):
        return (
            f"cannot reach {where} ({_reason(text)}): start PostgreSQL there, or correct STOREWISE_DATABASE_URL ({url})"
        )
    if match := _NO_TABLE.search(text):
        table = match.group(1) or match.group(2)
        return (
            f"the database has no table {table}: its migrations were not applied; run `storewise migrate` "
            f"(with the same STOREWISE_DATABASE_URL: {url})"
        )
    if _SQLITE_OPEN.search(text):
        return f"cannot open {where}: check that its directory exists and may be written (STOREWISE_DATABASE_URL)"
    if _LOCKED.search(text):
        return f"{where} stayed locked by another process: try again when it has finished"
    if "cannot be unwrapped" in text or "STOREWISE_KEK" in text and "InvalidTag" in text:
        return kek_message()
    return None


def kek_message() -> str:
    return (
        "STOREWISE_KEK does not open the personal-data keys stored in this database: set the key-encryption key "
        "this store was made with (a restored backup needs its source's KEK)"
    )


def _reason(text: str) -> str:
    match = _UNREACHABLE.search(text)
    return match.group(0).lower() if match else "no answer"


def _typed_url(settings: Settings | None) -> str:
    if settings is None:
        return "STOREWISE_DATABASE_URL"
    try:
        return settings.url.render_as_string(hide_password=True)
    except ConfigurationError:
        return settings.database_url


def wait_for_database(settings: Settings, wait: float, *, interval: float = 1.0) -> None:
    """Connect to the database, retrying for up to ``wait`` seconds while it cannot be reached or is
    starting; raise :class:`OperatorError` with the explanation once it gives up (at once for a
    refused login or a missing database: waiting would not help)."""
    if settings.backend != "postgresql":
        return
    import psycopg

    deadline = time.monotonic() + wait
    attempt = 0
    while True:
        attempt += 1
        try:
            with psycopg.connect(settings.postgres_conninfo(), connect_timeout=max(1, min(5, int(wait) or 1))):
                return
        except psycopg.Error as error:
            if not is_starting(error) or time.monotonic() + interval > deadline:
                raise OperatorError(explain(error, settings) or str(error).strip().splitlines()[0]) from error
            log.warning("database not ready (%s); attempt %d, retrying", str(error).strip().splitlines()[0], attempt)
            time.sleep(interval)


def check_read_models(settings: Settings) -> None:
    """Refuse a read-model database that was migrated before but is not at this code's head
    (a Storewise upgraded without `storewise migrate`). A database never migrated passes: the
    command creating it (``migrate``, ``serve``) brings it to the head."""
    import sqlalchemy as sa

    from .health import database_revisions, migration_heads
    from .read_model_db import sync_engine

    read_models = settings.for_read_models()
    if read_models.backend == "sqlite" and not read_models.sqlite_path().exists():
        return
    engine = sync_engine(settings)
    try:
        if not sa.inspect(engine).has_table("alembic_version"):
            return
        found, heads = database_revisions(engine, settings), migration_heads(settings)
    finally:
        engine.dispose()
    if found and set(found) != set(heads):
        unknown = set(found) - _known_revisions(settings)
        if unknown:
            raise ReadModelsBehind(
                f"the read-model database is at migration {', '.join(sorted(unknown))}, which this Storewise does not "
                "know (a newer version wrote it): run that version, or restore a backup into an empty database"
            )
        raise ReadModelsBehind(
            f"the read-model database is at migration {', '.join(found)}, this Storewise needs {', '.join(heads)}: "
            "run `storewise migrate` first"
        )


def _known_revisions(settings: Settings) -> set[str]:
    from alembic.script import ScriptDirectory

    from .migrations import alembic_config

    return {script.revision for script in ScriptDirectory.from_config(alembic_config(settings)).walk_revisions()}


def check_kek(settings: Settings) -> None:
    """Refuse a KEK that does not open the stored personal-data keys (tried on one of them)."""
    from .personal_data import PersonalDataVault, key_store_for

    store = key_store_for(settings.event_store_env()["STOREWISE_KEYS_URL"])
    try:
        if not PersonalDataVault(store, settings.kek).opens_stored_keys():
            raise OperatorError(kek_message(), exit_code=2)
    finally:
        store.close()
