"""The Access context on SQLite and PostgreSQL: users and tokens as events, the read model
the API authenticates with (fingerprints only, who granted what), the authenticator and
its short cache, and the command line that bootstraps the first admin."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from application.access import token_hash
from application.context import acting_as
from domain.access import Role
from graphql_api.auth.authentication import Authenticator, bearer_token
from infrastructure.bootstrap import projection_runner
from infrastructure.cli import main
from infrastructure.migrations import upgrade
from infrastructure.read_model_db import async_engine, sync_engine
from projections.tables import api_tokens, users
from tests.integration.test_personal_data import raw_database_contains


@pytest.fixture
def read_side(storewise):
    upgrade(storewise.settings)
    engine = sync_engine(storewise.settings)
    yield projection_runner(storewise, engine)
    engine.dispose()


def test_users_and_tokens_are_events_and_the_read_model_keeps_fingerprints(storewise, read_side):
    access = storewise.access
    with acting_as("cli:ops"):
        admin = access.register_user("ada", Role.ADMIN)
    customer_id = storewise.customers.register_customer("Ann Lee", "ann@example.com")
    with acting_as(f"user:{admin}:admin"):
        ann = access.register_user("ann", "customer", customer_id=customer_id)
        issued = access.issue_token(ann, ttl=timedelta(days=7))
        spare = access.issue_token(ann)
        access.revoke_token(ann, spare.token_id)
        access.change_role(ann, "marketer")
    assert "token=" not in repr(issued) and issued.token not in repr(issued)  # never printed by accident
    read_side.run_until_idle()

    with read_side.engine.connect() as connection:
        user_rows = {row.name: row for row in connection.execute(sa.select(users)).all()}
        token_rows = {row.id: row for row in connection.execute(sa.select(api_tokens)).all()}
    assert (user_rows["ada"].role, user_rows["ada"].registered_by) == ("admin", "cli:ops")
    assert (user_rows["ann"].role, user_rows["ann"].customer_id) == ("marketer", None)
    assert user_rows["ann"].registered_by == user_rows["ann"].role_changed_by == f"user:{admin}:admin"
    token = token_rows[issued.token_id]
    assert token.token_hash == hashlib.sha256(issued.token.encode()).hexdigest() == token_hash(issued.token)
    assert (token.user_id, token.issued_by, token.revoked_at) == (ann, f"user:{admin}:admin", None)
    assert abs((token.expires_at - token.issued_at) - timedelta(days=7)) < timedelta(seconds=1)
    assert (
        token_rows[spare.token_id].revoked_at is not None
        and token_rows[spare.token_id].revoked_by == f"user:{admin}:admin"
    )

    # the events carry the fingerprint; no table or file holds the token itself
    decoded = [access.mapper.decode(n)[0] for n in access.recorder.select_notifications(start=1, limit=100)]
    assert [getattr(e, "token_hash", None) for e in decoded if type(e).__name__ == "TokenIssued"] == [
        token_hash(issued.token),
        token_hash(spare.token),
    ]
    for secret in (issued.token, spare.token):
        assert not raw_database_contains(storewise.settings, secret)
    assert raw_database_contains(storewise.settings, token_hash(issued.token))

    rebuilt_before = sorted(map(str, token_rows))
    read_side.rebuild(["access"])
    with read_side.engine.connect() as connection:
        assert sorted(str(r.id) for r in connection.execute(sa.select(api_tokens.c.id)).all()) == rebuilt_before


async def test_the_authenticator_honours_expiry_and_revocation_within_its_cache(storewise, read_side):
    access = storewise.access
    customer_id = storewise.customers.register_customer("Ann Lee", "ann@example.com")
    ann = access.register_user("ann", "customer", customer_id=customer_id)
    live = access.issue_token(ann)
    old = access.issue_token(ann, ttl=timedelta(hours=1), at=datetime.now(UTC) - timedelta(hours=2))
    read_side.run_until_idle()
    db = async_engine(storewise.settings)
    try:
        authenticator = Authenticator(ttl=60)
        principal = await authenticator.principal(f"Bearer {live.token}", db)
        assert (principal.role, principal.user_id, principal.customer_id, principal.token_id) == (
            Role.CUSTOMER,
            ann,
            customer_id,
            live.token_id,
        )
        assert principal.actor == f"user:{ann}:customer" and principal.is_authenticated
        assert (
            await authenticator.principal(f"bearer   {live.token}", db)
        ).user_id == ann  # the scheme is case-insensitive
        assert (await authenticator.principal(None, db)).actor == "anonymous"
        assert (await authenticator.principal(f"Bearer {old.token}", db)).refused == "the token has expired"
        assert (await authenticator.principal("Bearer nope", db)).refused == "unknown token"
        assert (await authenticator.principal(f"Token {live.token}", db)).refused.startswith("the Authorization header")

        access.revoke_token(ann, live.token_id)
        read_side.run_until_idle()
        # cached for up to ``ttl`` seconds: still accepted by this long-lived cache...
        assert not (await authenticator.principal(f"Bearer {live.token}", db)).refused
        # ...refused as soon as the cache is past it (the server's is 2 seconds)
        authenticator.forget_cached()
        assert (await authenticator.principal(f"Bearer {live.token}", db)).refused == "the token was revoked"
        assert (await Authenticator(ttl=0).principal(f"Bearer {live.token}", db)).refused == "the token was revoked"
    finally:
        await db.dispose()


def test_bearer_tokens_are_parsed_strictly():
    assert bearer_token(None) is None
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("BEARER abc ") == "abc"
    for malformed in ("", "Bearer", "Bearer ", "Basic abc", "Bearer a b", "Bearer " + "x" * 201, "abc"):
        assert bearer_token(malformed) == "", malformed


def test_the_command_line_bootstraps_the_first_admin(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    assert main(["users", "create", "admin", "--role", "admin"]) == 0
    user_id = capsys.readouterr().out.strip()
    assert main(["users", "create", "admin", "--role", "auditor"]) == 2
    assert f"a user named 'admin' already exists (id {user_id})" in capsys.readouterr().err
    assert main(["users", "create", "eve", "--role", "customer"]) == 2
    assert "must name the customer" in capsys.readouterr().err
    assert (
        main(["users", "create", "eve", "--role", "customer", "--customer-id", "3f0c1e0e-0000-4000-8000-000000000000"])
        == 2
    )
    assert "no customer with id" in capsys.readouterr().err

    assert main(["tokens", "issue", user_id, "--ttl-days", "3"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert len(token) >= 40 and "token id" in err and "cannot be shown again" in err
    token_id = err.split("token id ")[1].split(",")[0]
    assert main(["tokens", "issue", "admin"]) == 0  # by name too
    second = capsys.readouterr().out.strip()

    assert main(["users", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["name"], listed["role"]) == (user_id, "admin", "admin")
    assert [t["active"] for t in listed["tokens"]] == [True, True] and listed["tokens"][0]["id"] == token_id
    assert listed["registered_by"].startswith("cli")

    assert main(["tokens", "revoke", token_id]) == 0
    assert f"revoked {token_id}" in capsys.readouterr().out
    assert main(["tokens", "revoke", token_id]) == 2
    assert "INVALID_TRANSITION" in capsys.readouterr().err
    assert main(["users", "list"]) == 0
    table = capsys.readouterr().out
    assert "admin" in table and table.strip().splitlines()[-1].endswith(" 1")  # one active token left
    # neither token is anywhere on disk
    for secret in (token, second):
        assert not any(secret.encode() in path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
