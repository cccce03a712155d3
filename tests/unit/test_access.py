"""Access: a user's name and role, the customer a customer user is, tokens issued by
fingerprint only, expired or revoked."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from uuid import uuid4

import pytest

from domain.access import USER_ROLES, Role, UnknownToken, User
from domain.shared import InvalidArgument, InvalidTransition
from tests.unit.support import AT, LATER, Log, names, raises, refused

CUSTOMER = uuid4()
HASH = hashlib.sha256(b"a secret token").hexdigest()


def registered(role: str = "merchandiser", customer_id=None) -> User:
    user = User.register("sam", role, AT, customer_id=customer_id)
    user.collect_events()
    return user


def logged(role: str = "merchandiser") -> tuple[User, Log]:
    """A new user, with a log of their events from the start (so they can be replayed)."""
    user = User.register("sam", role, AT)
    log = Log(user)
    assert names(log.take()) == ["Registered"]
    return user, log


def test_register_a_user_of_each_role():
    assert USER_ROLES == ("admin", "merchandiser", "inventory_planner", "marketer", "auditor", "customer", "storefront")
    for role in USER_ROLES:
        customer_id = CUSTOMER if role == "customer" else None
        user = User.register(f"user-{role}", Role(role), AT, customer_id=customer_id)
        [event] = user.collect_events()
        assert isinstance(event, User.Registered)
        assert (event.name, event.role, event.customer_id, event.at) == (f"user-{role}", role, customer_id, AT)
        assert (user.role, user.customer_id, user.tokens) == (role, customer_id, {})


def test_one_user_per_name():
    assert User.register("sam", "admin", AT).id == User.create_id("sam") == User.register("sam", "auditor", LATER).id
    assert User.create_id("sam") != User.create_id("Sam")


@pytest.mark.parametrize(
    ("name", "role", "customer_id", "field"),
    [
        ("", "admin", None, "name"),
        ("sam smith", "admin", None, "name"),  # no spaces: names are typed on command lines
        ("x" * 101, "admin", None, "name"),
        ("sam", "anonymous", None, "role"),  # anonymous is the absence of a user
        ("sam", "superuser", None, "role"),
        ("sam", "customer", None, "customer_id"),  # a customer user is one customer
        ("sam", "marketer", CUSTOMER, "customer_id"),  # and only a customer user is one
    ],
)
def test_registration_rules(name, role, customer_id, field):
    raises(InvalidArgument, "INVALID_ARGUMENT", field, lambda: User.register(name, role, AT, customer_id=customer_id))


def test_change_a_role():
    user, log = logged("merchandiser")
    user.change_role("customer", LATER, customer_id=CUSTOMER)
    assert names(log.take()) == ["RoleChanged"]
    assert (user.role, user.customer_id) == ("customer", CUSTOMER)
    user.change_role(Role.AUDITOR, LATER)
    assert (user.role, user.customer_id) == ("auditor", None)
    refused(user, InvalidTransition, "INVALID_TRANSITION", "role", lambda: user.change_role("auditor", LATER))
    refused(user, InvalidArgument, "INVALID_ARGUMENT", "role", lambda: user.change_role("anonymous", LATER))
    refused(user, InvalidArgument, "INVALID_ARGUMENT", "customer_id", lambda: user.change_role("customer", LATER))
    log.assert_replays()


def test_issue_and_revoke_tokens():
    user, log = logged()
    first, second = uuid4(), uuid4()
    user.issue_token(first, HASH, AT + timedelta(days=30), AT)
    user.issue_token(second, hashlib.sha256(b"another").hexdigest(), AT + timedelta(days=1), AT)
    [issued, _] = log.take()
    assert isinstance(issued, User.TokenIssued)
    assert (issued.token_id, issued.token_hash, issued.expires_at, issued.at) == (
        first,
        HASH,
        AT + timedelta(days=30),
        AT,
    )
    assert user.tokens[first].is_valid_at(LATER)
    assert not user.tokens[second].is_valid_at(AT + timedelta(days=1))  # expired: valid strictly before its expiry

    user.revoke_token(first, LATER)
    assert names(log.take()) == ["TokenRevoked"]
    assert user.tokens[first].revoked_at == LATER and not user.tokens[first].is_valid_at(LATER)
    assert user.tokens[second].revoked_at is None
    refused(user, InvalidTransition, "INVALID_TRANSITION", "token_id", lambda: user.revoke_token(first, LATER))
    refused(user, UnknownToken, "UNKNOWN_TOKEN", "token_id", lambda: user.revoke_token(uuid4(), LATER))
    log.assert_replays()


def test_token_rules():
    user = registered()
    token = uuid4()
    # only a fingerprint may be recorded: a token itself (or anything else) is refused
    refused(
        user,
        InvalidArgument,
        "INVALID_ARGUMENT",
        "token_hash",
        lambda: user.issue_token(token, "a secret token", LATER, AT),
    )
    refused(
        user,
        InvalidArgument,
        "INVALID_ARGUMENT",
        "token_hash",
        lambda: user.issue_token(token, HASH.upper(), LATER, AT),
    )
    refused(user, InvalidArgument, "INVALID_ARGUMENT", "expires_at", lambda: user.issue_token(token, HASH, AT, AT))
    user.issue_token(token, HASH, LATER, AT)
    refused(user, InvalidTransition, "INVALID_TRANSITION", "token_id", lambda: user.issue_token(token, HASH, LATER, AT))
