"""Settings are read in one place: every variable the code reads is declared (and so in README's
table), only the composition root's settings module reads the environment, and a malformed value
is refused with the variable's name."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from infrastructure.settings import VARIABLES, ConfigurationError, Settings, markdown_table

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "application", "projections", "graphql_api", "infrastructure")
#: A read of the process environment by a literal name: os.environ[...], os.environ.get(...), os.getenv(...).
READ = re.compile(r"""(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")
KEK = base64.urlsafe_b64encode(bytes(range(32))).decode()


def _sources(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((ROOT / package).rglob("*.py"))]


def test_every_variable_the_code_reads_is_declared():
    declared = {v.name for v in VARIABLES}
    read = {(path.relative_to(ROOT), name) for path in _sources(*PACKAGES) for name in READ.findall(path.read_text())}
    assert read, "the pattern finds the reads (infrastructure reads PROMETHEUS_MULTIPROC_DIR)"
    assert {(path, name) for path, name in read if name not in declared} == set()


def test_only_infrastructure_reads_the_environment():
    readers = [
        path.relative_to(ROOT)
        for path in _sources("domain", "application", "projections", "graphql_api")
        if re.search(r"os\.environ|getenv\(", path.read_text())
    ]
    assert readers == []


def test_readme_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings:begin -->\n", 1)[1].split("\n<!-- settings:end -->", 1)[0]
    assert table == markdown_table(), "README's configuration table is stale: `storewise settings --markdown`"


def test_an_undeclared_variable_cannot_be_read_through_the_settings():
    from infrastructure.settings import _Environment

    with pytest.raises(KeyError, match="STOREWISE_NOT_A_SETTING"):
        _Environment({}).get("STOREWISE_NOT_A_SETTING")


def test_parsed_once_into_one_object(tmp_path):
    settings = Settings.from_env(
        {
            "STOREWISE_VAR_DIR": str(tmp_path),
            "STOREWISE_KEK": KEK,
            "STOREWISE_DB_POOL_MAX": "4",
            "STOREWISE_GRAPHQL_MAX_DEPTH": "7",
            "STOREWISE_RATE_LIMIT": "2.5",
            "STOREWISE_READY_MAX_LAG": "50",
            "STOREWISE_LOG_FORMAT": "TEXT",
            "STOREWISE_SEGMENT_RULES": "rules.toml",
        }
    )
    assert settings.database_url == f"sqlite:///{tmp_path / 'storewise.sqlite'}" and settings.kek == bytes(range(32))
    assert settings.db_pool_max == 4 and settings.event_store_env().get("POSTGRES_MAX_OVERFLOW") is None
    assert (settings.limits.max_depth, settings.limits.max_aliases, settings.guards.rate_limit) == (7, 20, 2.5)
    assert (
        settings.health.max_lag == 50 and settings.log_format == "text" and settings.segment_rules == Path("rules.toml")
    )
    assert settings.described()["kek"] == "set" and KEK not in str(settings.described())


@pytest.mark.parametrize(
    "variable, value",
    [
        ("STOREWISE_DB_POOL_MAX", "lots"),
        ("STOREWISE_GRAPHQL_MAX_COST", "-1"),
        ("STOREWISE_RATE_LIMIT", "nan"),
        ("STOREWISE_GRAPHQL_INTROSPECTION", "maybe"),
        ("STOREWISE_DATABASE_URL", "mysql://nowhere/db"),
        ("STOREWISE_KEK", "too-short"),
        ("STOREWISE_AS_OF", "yesterday"),
    ],
)
def test_a_malformed_value_names_its_variable(tmp_path, variable, value):
    environment = {"STOREWISE_VAR_DIR": str(tmp_path), "STOREWISE_KEK": KEK, variable: value}
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env(environment)


def test_as_of_fixes_the_analytics_clock(tmp_path):
    from datetime import UTC, datetime

    environment = {"STOREWISE_VAR_DIR": str(tmp_path), "STOREWISE_KEK": KEK, "STOREWISE_AS_OF": "2011-05-31"}
    assert Settings.from_env(environment).as_of == datetime(2011, 5, 31, tzinfo=UTC)


def test_the_connection_budget_sizes_the_pools_of_serve_workers_and_projection_workers(tmp_path):
    base = {"STOREWISE_VAR_DIR": str(tmp_path), "STOREWISE_KEK": KEK}
    settings = Settings.from_env(base)
    # serve --workers 8 plus two projection workers: at most 32 + 6 connections, under 50.
    assert settings.serve_pool_max(8) == 2 and settings.projection_worker_pool_max() == 3
    assert 8 * 2 * settings.serve_pool_max(8) + 2 * settings.projection_worker_pool_max() < 50
    # One process gets the most a pool may have; shares never fall below 2 (one would queue every request).
    assert (settings.serve_pool_max(1), settings.serve_pool_max(2), settings.serve_pool_max(32)) == (10, 8, 2)
    budget = Settings.from_env({**base, "STOREWISE_DB_CONNECTIONS": "64"})
    assert budget.serve_pool_max(8) == 4 and budget.described()["db_connections"] == 64
    # STOREWISE_DB_POOL_MAX, when set, sizes every process's pools as it says.
    given = Settings.from_env({**base, "STOREWISE_DB_POOL_MAX": "5"})
    assert given.serve_pool_max(8) == 5 and given.projection_worker_pool_max() == 5


def test_serve_prints_what_it_may_open(tmp_path):
    from dataclasses import replace

    from infrastructure.cli import _serve_connections

    settings = Settings.from_env({"STOREWISE_VAR_DIR": str(tmp_path), "STOREWISE_KEK": KEK})
    line = _serve_connections(replace(settings, db_pool_max=settings.serve_pool_max(8)), 8)
    assert "8 worker(s) x 2 pools (write, read) x at most 2 = at most 32" in line
    assert "STOREWISE_DB_CONNECTIONS=32" in line
