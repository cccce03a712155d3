"""The settings: every environment variable Storewise reads, parsed once at start-up.

:data:`VARIABLES` lists them with their meaning (README's configuration table is generated from
it, and a test fails when code reads a variable it does not list); :meth:`Settings.from_env`
is the only place that reads them. Everything else gets the :class:`Settings` object, or the
part of it it needs, from the composition root.

``STOREWISE_DATABASE_URL``:
- unset: an embedded SQLite database under ``./var/`` (``var/storewise.sqlite``);
- ``sqlite:///PATH``: the read models at PATH, and beside it one event-store
  file per bounded context (``<stem>.<context>-events.sqlite``) and the
  personal-data key store (``<stem>.keys.sqlite``);
- ``postgresql://user[:password]@host[:port]/db[?schema=NAME]``: everything in
  that PostgreSQL database (in schema NAME if given): one events table per context
  (``customers_events``...), the key store table, the read models.

``STOREWISE_KEK``: the key-encryption key that wraps every customer's personal-data
key (32 bytes, URL-safe base64). If unset, one is generated once into
``<var>/storewise.kek`` (fine for a laptop; in production, set it from a secret store).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from application.analytics_clock import parse_as_of
from application.errors import ConfigurationError
from application.model_health import ModelHealthPolicy, parse_thresholds
from domain.contexts import CONTEXT_NAMES
from domain.shared import AttributionWindow, DomainError
from graphql_api.hardening import HardeningSettings, Limits

from .health import HealthSettings
from .http_guards import GuardSettings

__all__ = ["VARIABLES", "ConfigurationError", "Settings", "Variable"]


@dataclass(frozen=True)
class Variable:
    """An environment variable Storewise reads: its name, default and meaning."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "STOREWISE_DATABASE_URL",
        "embedded SQLite",
        "unset: embedded SQLite under `STOREWISE_VAR_DIR`. `sqlite:///PATH`: read models at PATH, and beside it "
        "one event-store file per context (`<stem>.<context>-events.sqlite`) and the personal-data key store "
        "(`<stem>.keys.sqlite`). `postgresql://user[:password]@host[:port]/db[?schema=NAME]`: everything in that "
        "database (one `<context>_events` table per context, the key table, the read models).",
    ),
    Variable(
        "STOREWISE_KEK",
        "generated",
        "key-encryption key (32 bytes, URL-safe base64) wrapping each customer's personal-data key. Unset: one "
        "is generated once into `var/storewise.kek` — fine on a laptop; set it from a secret store in production.",
    ),
    Variable("STOREWISE_VAR_DIR", "`var`", "where the embedded database, the generated key and model artifacts live."),
    Variable(
        "STOREWISE_DB_POOL_MAX",
        "from `STOREWISE_DB_CONNECTIONS`",
        "the most PostgreSQL connections each of a process's two pools (write, read) opens: a process holds at "
        "most twice this. Unset: `serve --workers N` gives each worker `STOREWISE_DB_CONNECTIONS / (2 N)` "
        "(2 to 10), a `projections run` worker 3.",
    ),
    Variable(
        "STOREWISE_DB_CONNECTIONS",
        "32",
        "the PostgreSQL connections one `storewise serve` may open in all, its `--workers` and both pools "
        "together (each pool gets an equal share, at least 2); `serve` prints the split. Default: "
        "`serve --workers 8` (32) plus two `projections run` workers (3 each) stay under 40.",
    ),
    Variable(
        "STOREWISE_DB_POOL_TIMEOUT",
        "2",
        "seconds to wait for a PostgreSQL connection before a request fails (retryable) instead of hanging.",
    ),
    Variable("STOREWISE_GRAPHQL_MAX_DEPTH", "10", "query depth allowed per document; 0 switches it off."),
    Variable("STOREWISE_GRAPHQL_MAX_ALIASES", "20", "aliases allowed per document; 0 switches it off."),
    Variable("STOREWISE_GRAPHQL_MAX_TOKENS", "3000", "tokens allowed per document; 0 switches it off."),
    Variable(
        "STOREWISE_GRAPHQL_MAX_COST",
        "5000",
        "query cost limit (0 = off): each field costs 1, a connection multiplies its selection by `first`. "
        "Refused with `QUERY_TOO_COSTLY` and the computed cost.",
    ),
    Variable(
        "STOREWISE_GRAPHQL_INTROSPECTION", "on", "`off` refuses `__schema` / `__type` (`INTROSPECTION_DISABLED`)."
    ),
    Variable(
        "STOREWISE_GRAPHQL_ALLOWLIST",
        "unset: any document",
        "path to a JSON list of SHA-256 hashes (or `{hash: query}` map) of the only documents allowed (persisted "
        "queries; Apollo's `extensions.persistedQuery` shape works too).",
    ),
    Variable(
        "STOREWISE_RATE_LIMIT",
        "off",
        "requests per second per bearer token, or per client address without one, on `/graphql`; over it: HTTP "
        "429, `Retry-After`, `RATE_LIMITED` (one process's memory; set it in production).",
    ),
    Variable("STOREWISE_RATE_BURST", "the rate", "requests allowed at once above the rate (the bucket's size)."),
    Variable("STOREWISE_MAX_REQUEST_BYTES", "1048576", "largest request body; larger: HTTP 413, `REQUEST_TOO_LARGE`."),
    Variable("STOREWISE_CORS_ORIGINS", "empty", "comma-separated origins allowed by CORS; empty: no CORS headers."),
    Variable(
        "STOREWISE_READY_MAX_LAG",
        "1000",
        "`/readyz` answers 503 when a projection lags more events than this behind its log.",
    ),
    Variable("STOREWISE_LOG_FORMAT", "`json`", "`json`: one JSON object per line; `text`: plain lines for people."),
    Variable("STOREWISE_LOG_LEVEL", "`INFO`", "the log level."),
    Variable(
        "STOREWISE_AUDIT_KEY", "derived from the KEK", "the key that signs the event logs' chain heads (`audit head`)."
    ),
    Variable(
        "STOREWISE_SEGMENT_RULES",
        "the shipped `segments.toml`",
        "a TOML file of RFM segment rules and campaign templates replacing `infrastructure/marketing/segments.toml`.",
    ),
    Variable(
        "PROMETHEUS_MULTIPROC_DIR",
        "unset",
        "prometheus-client's multiprocess directory: `serve --workers N` sets it (to a fresh directory) so that "
        "`/metrics` adds up every worker's counters.",
    ),
    Variable(
        "STOREWISE_MODEL_HEALTH_THRESHOLDS",
        "`recommender:click_through_rate:drop:0.3:100,forecast:band_coverage:min:0.6:30,"
        "purchase-prediction:auc:min:0.65:30,sentiment:corrected_accuracy:min:0.8:30`",
        "when a model has degraded, per kind: `kind:figure:rule:limit[:min_count]`, comma-separated; rule `min` "
        "(below the limit), `max` (above it) or `drop` (below the previous version's figure by more than the "
        "fraction); judged once the figure rests on `min_count` observations.",
    ),
    Variable(
        "STOREWISE_MODEL_HEALTH_DAYS",
        "7",
        "how many recent days a model's current health figures (and a health check) cover.",
    ),
    Variable(
        "STOREWISE_ATTRIBUTION_CLICK_DAYS",
        "7",
        "days after a click on a recommendation within which an order of the product is attributed to it.",
    ),
    Variable(
        "STOREWISE_ATTRIBUTION_VIEW_DAYS",
        "1",
        "days after a recommendation was shown (not clicked) within which an order of it is attributed to it.",
    ),
    Variable(
        "STOREWISE_SERVE_OPTIONS",
        "unset",
        "internal: the options `serve --workers N` hands to its worker processes. Not for people to set.",
    ),
    Variable(
        "STOREWISE_DB_STARTUP_WAIT",
        "30",
        "seconds `storewise serve` keeps retrying a PostgreSQL server that cannot be reached or is still starting "
        "(e.g. started together by compose) before it gives up with one line saying why; 0: try once.",
    ),
    Variable(
        "STOREWISE_AS_OF",
        "now, or the data's end",
        "the instant analytics measure from (RFM recency, segments, purchase probabilities, KPI windows), ISO 8601 "
        "(UTC if no offset). Unset: now, unless the newest order is more than 30 days old (historical data, e.g. "
        "the demo): then that order's time.",
    ),
    Variable(
        "STOREWISE_DB_POOL_IDLE",
        "1",
        "PostgreSQL connections each of a process's two pools (writes: event stores, key store, projections; "
        "reads: GraphQL) keeps open while idle; the rest up to `STOREWISE_DB_POOL_MAX` close when unused.",
    ),
    Variable(
        "STOREWISE_DB_APPLICATION_NAME",
        "unset: libpq's `PGAPPNAME`",
        "the `application_name` of every PostgreSQL connection (what `pg_stat_activity` shows).",
    ),
    Variable(
        "STOREWISE_DB_PGBOUNCER",
        "off",
        "`on` when `STOREWISE_DATABASE_URL` points at PgBouncer in transaction mode: no prepared statements "
        "(psycopg, asyncpg) and no session settings; use the `public` schema (PgBouncer drops `search_path`).",
    ),
)

_DECLARED = frozenset(v.name for v in VARIABLES)


class _Environment:
    """The environment, read only through declared variables (a test relies on that)."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def get(self, name: str) -> str:
        if name not in _DECLARED:
            raise KeyError(f"{name} is read but not declared in infrastructure.settings.VARIABLES")
        return (self.env.get(name) or "").strip()

    def whole_number(self, name: str) -> int | None:
        """A limit: a whole number, 0 (off) or more; None if unset."""
        raw = self.get(name)
        if not raw:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
        if value < 0:
            raise ConfigurationError(f"{name} must be 0 (off) or more")
        return value

    def number(self, name: str) -> float | None:
        """A rate or a size: a finite number, 0 (off) or more; None if unset."""
        raw = self.get(name)
        if not raw:
            return None
        try:
            value = float(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ConfigurationError(f"{name} must be 0 (off) or more")
        return value

    def switch(self, name: str) -> bool | None:
        raw = self.get(name).lower()
        if not raw:
            return None
        if raw not in _ON | _OFF:
            raise ConfigurationError(f"{name} must be on or off, not {raw!r}")
        return raw in _ON


_OFF = {"off", "false", "0", "no", "disabled"}
_ON = {"on", "true", "1", "yes", "enabled"}


def limits_from(env: Mapping[str, str]) -> Limits:
    """The GraphQL depth, alias and token limits."""
    read = _Environment(env)
    values = {
        name: read.whole_number(variable)
        for name, variable in (
            ("max_depth", "STOREWISE_GRAPHQL_MAX_DEPTH"),
            ("max_aliases", "STOREWISE_GRAPHQL_MAX_ALIASES"),
            ("max_tokens", "STOREWISE_GRAPHQL_MAX_TOKENS"),
        )
    }
    return Limits(**{name: value for name, value in values.items() if value is not None})


def hardening_from(env: Mapping[str, str]) -> HardeningSettings:
    """The GraphQL cost limit, introspection switch and allow-list."""
    read = _Environment(env)
    max_cost = read.whole_number("STOREWISE_GRAPHQL_MAX_COST")
    introspection = read.switch("STOREWISE_GRAPHQL_INTROSPECTION")
    return HardeningSettings(
        max_cost=HardeningSettings.max_cost if max_cost is None else max_cost,
        introspection=True if introspection is None else introspection,
        allowlist_path=read.get("STOREWISE_GRAPHQL_ALLOWLIST") or None,
    )


def guards_from(env: Mapping[str, str]) -> GuardSettings:
    """The HTTP guards: request size, rate limit, CORS."""
    read = _Environment(env)
    size, rate, burst = (
        read.number("STOREWISE_MAX_REQUEST_BYTES"),
        read.number("STOREWISE_RATE_LIMIT"),
        read.number("STOREWISE_RATE_BURST"),
    )
    origins = read.get("STOREWISE_CORS_ORIGINS")
    return GuardSettings(
        max_request_bytes=GuardSettings.max_request_bytes if size is None else int(size),
        rate_limit=0.0 if rate is None else rate,
        rate_burst=0 if burst is None else int(burst),
        cors_origins=tuple(origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()),
    )


def model_health_from(env: Mapping[str, str]) -> ModelHealthPolicy:
    """The thresholds per model kind, the health window and the attribution window."""
    read = _Environment(env)
    default = ModelHealthPolicy()
    try:
        thresholds = parse_thresholds(read.get("STOREWISE_MODEL_HEALTH_THRESHOLDS")) or default.thresholds
    except (ValueError, DomainError) as error:
        raise ConfigurationError(f"STOREWISE_MODEL_HEALTH_THRESHOLDS: {error}") from None
    days = read.whole_number("STOREWISE_MODEL_HEALTH_DAYS")
    click, view = read.number("STOREWISE_ATTRIBUTION_CLICK_DAYS"), read.number("STOREWISE_ATTRIBUTION_VIEW_DAYS")
    return ModelHealthPolicy(
        thresholds=thresholds,
        window_days=max(1, days) if days is not None else default.window_days,
        history_days=default.history_days,
        attribution=AttributionWindow(
            after_click=timedelta(days=click) if click is not None else default.attribution.after_click,
            after_view=timedelta(days=view) if view is not None else default.attribution.after_view,
        ),
    )


def health_from(env: Mapping[str, str]) -> HealthSettings:
    """What readiness allows."""
    max_lag = _Environment(env).whole_number("STOREWISE_READY_MAX_LAG")
    return HealthSettings() if max_lag is None else HealthSettings(max_lag)


#: A ``projections run`` worker's connections when STOREWISE_DB_POOL_MAX is not set.
PROJECTION_WORKER_POOL_MAX = 3


@dataclass(frozen=True)
class Settings:
    """Where Storewise keeps its data, the key that protects personal data, and how each part of
    the process is configured."""

    database_url: str
    kek: bytes
    var_dir: Path
    #: A read-model database apart from the event stores (e.g. one replayed to a past instant).
    read_model_url: str | None = None
    db_pool_max: int = 10
    db_pool_timeout: int = 2
    limits: Limits = field(default_factory=Limits)
    hardening: HardeningSettings = field(default_factory=HardeningSettings)
    guards: GuardSettings = field(default_factory=GuardSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    log_format: str = "json"
    log_level: str = "INFO"
    #: Signs the chain heads; derived from the KEK when not given.
    given_audit_key: bytes | None = field(default=None, repr=False)
    segment_rules: Path | None = None
    metrics_dir: str | None = None
    serve_options: str = ""
    model_health: ModelHealthPolicy = field(default_factory=ModelHealthPolicy)
    #: Seconds ``serve`` waits for a database that cannot be reached yet (STOREWISE_DB_STARTUP_WAIT).
    db_startup_wait: float = 30.0
    #: The analytics clock's fixed instant (None: the rule of ``application.analytics_clock``).
    as_of: datetime | None = None
    db_pool_idle: int = 1
    db_application_name: str = ""
    pgbouncer: bool = False
    #: STOREWISE_DB_CONNECTIONS: what one ``serve`` (all its workers) may open.
    db_connections: int = 32
    #: Whether STOREWISE_DB_POOL_MAX was set (else ``serve`` and ``projections run`` derive it).
    db_pool_max_given: bool = False
    #: Processes a rebuild shares the projections out between (``projections rebuild --processes``;
    #: None: three where there are two cores or more, ``bootstrap.rebuild_processes``).
    rebuild_processes: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings of ``env`` (the process's environment by default). Raises ConfigurationError
        naming the variable that is wrong."""
        env = os.environ if env is None else env
        read = _Environment(env)
        var_dir = Path(read.get("STOREWISE_VAR_DIR") or "var")
        pool_max = read.whole_number("STOREWISE_DB_POOL_MAX")
        pool_timeout = read.whole_number("STOREWISE_DB_POOL_TIMEOUT")
        rules = read.get("STOREWISE_SEGMENT_RULES")
        audit_key = read.get("STOREWISE_AUDIT_KEY")
        settings = cls(
            database_url=read.get("STOREWISE_DATABASE_URL") or f"sqlite:///{var_dir / 'storewise.sqlite'}",
            kek=_load_kek(read.get("STOREWISE_KEK"), var_dir),
            var_dir=var_dir,
            db_pool_max=10 if pool_max is None else max(1, pool_max),
            db_pool_timeout=2 if not pool_timeout else pool_timeout,
            limits=limits_from(env),
            hardening=hardening_from(env),
            guards=guards_from(env),
            health=health_from(env),
            log_format=(read.get("STOREWISE_LOG_FORMAT") or "json").lower(),
            log_level=(read.get("STOREWISE_LOG_LEVEL") or "INFO").upper(),
            given_audit_key=audit_key.encode() if audit_key else None,
            segment_rules=Path(rules) if rules else None,
            metrics_dir=read.get("PROMETHEUS_MULTIPROC_DIR") or None,
            serve_options=read.get("STOREWISE_SERVE_OPTIONS"),
            model_health=model_health_from(env),
            db_startup_wait=max(0.0, startup_wait)
            if (startup_wait := read.number("STOREWISE_DB_STARTUP_WAIT")) is not None
            else 30.0,
            as_of=_as_of(read.get("STOREWISE_AS_OF")),
            db_pool_idle=1 if (pool_idle := read.whole_number("STOREWISE_DB_POOL_IDLE")) is None else pool_idle,
            db_application_name=read.get("STOREWISE_DB_APPLICATION_NAME"),
            pgbouncer=bool(read.switch("STOREWISE_DB_PGBOUNCER")),
            db_connections=max(1, budget) if (budget := read.whole_number("STOREWISE_DB_CONNECTIONS")) else 32,
            db_pool_max_given=pool_max is not None,
        )
        settings.url  # noqa: B018 - refuse a malformed URL now rather than at first use
        return settings

    def described(self) -> dict[str, object]:
        """The settings in force, as an operator checks them: secrets shown only as set or generated."""
        shown: dict[str, object] = {
            "database": self.url.render_as_string(hide_password=True),
            "backend": self.backend,
            "var_dir": str(self.var_dir),
            "kek": "set",
            "audit_key": "set" if self.given_audit_key else "derived from the KEK",
        }
        for name in (
            "read_model_url",
            "db_pool_max",
            "db_pool_timeout",
            "log_format",
            "log_level",
            "segment_rules",
            "as_of",
            "db_pool_idle",
            "db_application_name",
            "pgbouncer",
            "db_connections",
        ):
            shown[name] = getattr(self, name)
        for name in ("limits", "hardening", "guards", "health"):
            shown[name] = asdict(getattr(self, name))
        return shown

    @property
    def url(self) -> URL:
        try:
            url = make_url(self.database_url)
        except Exception as error:
            raise ConfigurationError(f"STOREWISE_DATABASE_URL is not a database URL: {error}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ConfigurationError("STOREWISE_DATABASE_URL must be sqlite:///PATH or postgresql://...")
        if url.get_backend_name() == "sqlite" and not url.database:
            raise ConfigurationError("sqlite:///PATH needs a file path (an in-memory database would lose everything)")
        return url

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def postgres_schema(self) -> str:
        """The PostgreSQL schema holding Storewise's tables (``public`` unless given)."""
        return str(self.url.query.get("schema") or "public")

    @property
    def artifacts_dir(self) -> Path:
        """Where trained models' artifacts are saved (``<var>/artifacts/<kind>/<version>``)."""
        return self.var_dir / "artifacts"

    @property
    def audit_key(self) -> bytes:
        """The key that signs chain heads: ``STOREWISE_AUDIT_KEY`` if set, else derived from the KEK."""
        return self.given_audit_key or hmac.new(self.kek, b"storewise audit heads", hashlib.sha256).digest()

    def sqlite_path(self, part: str = "") -> Path:
        """The read-model file (no part), or the file of a part beside it."""
        base = Path(self.url.database or "")
        return base if not part else base.with_name(f"{base.stem}.{part}{base.suffix or '.sqlite'}")

    def event_store_env(self) -> dict[str, str]:
        """The eventsourcing library's environment for every context's application."""
        env = {
            "STOREWISE_KEK": base64.urlsafe_b64encode(self.kek).decode(),
            # Keep recently used aggregates in memory; each get still reads (fast-forwards
            # through) any events recorded since, by this process or another.
            "AGGREGATE_CACHE_MAXSIZE": "20000",
            "STOREWISE_MAPPER_FACTORY_TOPIC": "infrastructure.event_mapping:build_mapper",
        }
        if self.backend == "sqlite":
            env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
            env["PROCESS_RECORDER_TOPIC"] = "infrastructure.event_chain:ChainedSQLiteProcessRecorder"
            env["SQLITE_LOCK_TIMEOUT"] = "30"
            for context in CONTEXT_NAMES:
                env[f"{context.upper()}_SQLITE_DBNAME"] = str(self.sqlite_path(f"{context.lower()}-events"))
            env["STOREWISE_KEYS_URL"] = f"sqlite:///{self.sqlite_path('keys')}"
        else:
            url = self.url
            env.update(
                # One pool per process, shared by every context (infrastructure.connections).
                PERSISTENCE_MODULE="infrastructure.connections:SharedPostgresFactory",
                PROCESS_RECORDER_TOPIC="infrastructure.event_chain:ChainedPostgresProcessRecorder",
                POSTGRES_DBNAME=url.database or "postgres",
                POSTGRES_HOST=url.host or "127.0.0.1",
                POSTGRES_PORT=str(url.port or 5432),
                POSTGRES_USER=url.username or "postgres",
                POSTGRES_PASSWORD=url.password or "",
                POSTGRES_SCHEMA=self.postgres_schema,
                POSTGRES_POOL_SIZE=str(self.write_pool_idle),
                POSTGRES_MAX_OVERFLOW=str(self.db_pool_max - self.write_pool_idle),
                POSTGRES_APPLICATION_NAME=self.db_application_name,
                POSTGRES_NO_PREPARE="y" if self.pgbouncer else "",
                # Survive a database outage: test pooled connections before use, and give up
                # waiting for one soon (the event store tries 10 times), so requests fail
                # (retryable) instead of hanging.
                POSTGRES_PRE_PING="y",
                POSTGRES_CONNECT_TIMEOUT=str(max(1, self.db_pool_timeout)),
            )
            env["STOREWISE_KEYS_URL"] = self.database_url
        return env

    def serve_pool_max(self, workers: int) -> int:
        """Each pool's maximum in one of ``serve``'s ``workers``: STOREWISE_DB_POOL_MAX if set, else an equal
        share of STOREWISE_DB_CONNECTIONS between the workers' two pools (2 to 10: one write, one read
        connection would make concurrent requests queue for it)."""
        if self.db_pool_max_given:
            return self.db_pool_max
        return max(2, min(10, self.db_connections // (2 * workers)))

    def projection_worker_pool_max(self) -> int:
        """The write pool's maximum in a ``projections run`` worker: STOREWISE_DB_POOL_MAX if set, else 3 (it
        runs one batch at a time: the projection's transaction, the log read and the key store's look-ups)."""
        return self.db_pool_max if self.db_pool_max_given else PROJECTION_WORKER_POOL_MAX

    @property
    def write_pool_idle(self) -> int:
        """Connections the write pool keeps open while idle (no more than it may open)."""
        return min(self.db_pool_idle, self.db_pool_max)

    def for_read_models(self) -> Settings:
        """Settings whose database is the read-model one (itself unless ``read_model_url`` is set)."""
        if not self.read_model_url:
            return self
        return replace(self, database_url=self.read_model_url, read_model_url=None)

    def with_database(self, url: str) -> Settings:
        """The same settings on another database (an audit's scratch database, a replay's target)."""
        return replace(self, database_url=url, read_model_url=None)

    def read_model_sync_url(self) -> str:
        """The read-model database for synchronous SQLAlchemy (Alembic)."""
        if self.read_model_url:
            return self.for_read_models().read_model_sync_url()
        if self.backend == "sqlite":
            return f"sqlite:///{self.sqlite_path()}"
        url = self.url.set(drivername="postgresql+psycopg", query={})
        if self.postgres_schema != "public":
            url = url.set(query={"options": f"-csearch_path={self.postgres_schema}"})
        return url.render_as_string(hide_password=False)

    def postgres_conninfo(self) -> str:
        """A libpq connection string (for psycopg) without the schema option."""
        url = self.url
        return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False)

    def prepare(self) -> None:
        """Create what must exist before the stores open (directories, the schema)."""
        if self.backend == "sqlite":
            self.sqlite_path().parent.mkdir(parents=True, exist_ok=True)
        elif self.postgres_schema != "public":
            import psycopg

            with psycopg.connect(self.postgres_conninfo(), autocommit=True) as connection:
                connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.postgres_schema}"')


def markdown_table() -> str:
    """README's configuration table."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(lines)


def _as_of(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return parse_as_of(text)
    except ValueError as error:
        raise ConfigurationError(f"STOREWISE_AS_OF: {error}") from None


def _load_kek(encoded: str, var_dir: Path) -> bytes:
    if not encoded:
        path = var_dir / "storewise.kek"
        if not path.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        encoded = path.read_text().strip()
    try:
        kek = base64.urlsafe_b64decode(encoded)
    except ValueError:
        kek = b""
    if len(kek) != 32:
        raise ConfigurationError("STOREWISE_KEK must be 32 bytes in URL-safe base64")
    return kek
