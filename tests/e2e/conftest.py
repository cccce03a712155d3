"""The API end to end: the Starlette app with its lifespan (write side, migrations,
projections, poller), driven over HTTP with httpx on SQLite and PostgreSQL.

The ``api`` fixture acts as an admin (a user and bearer token made through the Access
application); ``await api.as_role("merchandiser")`` (or ``api.as_customer(customer_id)``,
``api.anonymous()``) gives a client acting with another role, sharing the same app.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from graphql_api.core.ids import from_global_id
from infrastructure.server import create_app
from infrastructure.settings import Settings

#: The roles a user can have (anonymous is the absence of a token).
USER_ROLES = ("admin", "merchandiser", "inventory_planner", "marketer", "auditor", "customer", "storefront")


@dataclass(frozen=True)
class Login:
    """A user made for a test, with a token issued to them."""

    user_id: uuid.UUID
    token_id: uuid.UUID
    token: str
    role: str
    customer_id: uuid.UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _uuid(customer_id: Any) -> uuid.UUID | None:
    if customer_id is None or isinstance(customer_id, uuid.UUID):
        return customer_id
    return from_global_id(customer_id)[1]


class Api:
    """A client of one running app, acting with one principal (``headers``)."""

    def __init__(
        self, app: Any, client: httpx.AsyncClient, headers: dict[str, str] | None = None, logins: dict | None = None
    ):
        self.app = app
        self.client = client
        self.headers = dict(headers or {})
        self._logins: dict[Any, Login] = {} if logins is None else logins

    def _with(self, headers: dict[str, str]) -> Api:
        return Api(self.app, self.client, headers, self._logins)

    def anonymous(self) -> Api:
        """The same app, without a token."""
        return self._with({})

    def with_token(self, token: str) -> Api:
        """The same app, with this bearer token (valid or not)."""
        return self._with({"Authorization": f"Bearer {token}"})

    async def login(
        self, role: str, *, customer_id: Any = None, ttl: timedelta = timedelta(days=1), at: datetime | None = None
    ) -> Login:
        """A fresh user with this role and a token, made through the Access application, and
        the read models brought up to date so the token works at once."""
        customer = _uuid(customer_id)

        def make() -> Login:
            access = self.storewise.access
            user_id = access.register_user(f"{role}-{uuid.uuid4().hex[:10]}", role, customer_id=customer)
            issued = access.issue_token(user_id, ttl=ttl, at=at)
            self.services.read_side.run_until_idle(["access"])
            return Login(user_id, issued.token_id, issued.token, role, customer)

        return await asyncio.to_thread(make)

    async def as_role(self, role: str, customer_id: Any = None) -> Api:
        """The same app acting as a user of this role (one user per role and customer, made once)."""
        key = (role, _uuid(customer_id))
        if key not in self._logins:
            self._logins[key] = await self.login(role, customer_id=customer_id)
        return self._with(self._logins[key].headers)

    async def as_customer(self, customer_id: Any) -> Api:
        """The same app acting as the customer user of this customer (global ID or UUID)."""
        return await self.as_role("customer", customer_id)

    @property
    def services(self) -> Any:
        return self.app.state.services

    @property
    def storewise(self) -> Any:
        return self.app.state.storewise

    async def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers={**self.headers, **headers}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a request that must succeed without GraphQL errors."""
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def mutate(self, name: str, input: dict[str, Any], selection: str) -> dict[str, Any]:
        """Run mutation ``name`` with ``input``; returns its payload (userErrors included)."""
        type_name = name[0].upper() + name[1:] + "Input"
        query = (
            f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ "
            f"{selection} userErrors {{ field message code }} }} }}"
        )
        return (await self.data(query, input=input))[name]

    def event_counts(self) -> dict[str, int]:
        return {app.name: app.recorder.max_notification_id() or 0 for app in self.storewise.applications}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    """A client of a running app, acting as an admin."""
    app = create_app(settings, poll_interval=0.2)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield await Api(app, client).as_role("admin")


class AsgiWebSocket:
    """A websocket client that drives the ASGI app directly, on the test's event loop."""

    def __init__(self, app: Any, path: str = "/graphql", subprotocols: tuple[str, ...] = ("graphql-transport-ws",)):
        self.app = app
        self.to_app: asyncio.Queue = asyncio.Queue()
        self.from_app: asyncio.Queue = asyncio.Queue()
        self.scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "http_version": "1.1",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"test"), (b"sec-websocket-protocol", ", ".join(subprotocols).encode())],
            "subprotocols": list(subprotocols),
            "client": ("127.0.0.1", 50000),
            "server": ("test", 80),
        }
        self.accepted: dict[str, Any] = {}

    async def __aenter__(self) -> AsgiWebSocket:
        self.task = asyncio.create_task(self.app(self.scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "websocket.connect"})
        self.accepted = await asyncio.wait_for(self.from_app.get(), 10)
        assert self.accepted["type"] == "websocket.accept", self.accepted
        return self

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive_json(self, timeout: float = 10) -> dict[str, Any]:
        message = await asyncio.wait_for(self.from_app.get(), timeout)
        assert message["type"] == "websocket.send", message
        return json.loads(message["text"])

    async def __aexit__(self, *exc: object) -> None:
        await self.to_app.put({"type": "websocket.disconnect", "code": 1000})
        try:
            await asyncio.wait_for(self.task, 10)
        except Exception:  # the handler may end with the disconnect; it must not hang
            self.task.cancel()


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Await ``check()`` until it returns something truthy (or fail after ``timeout`` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"still not true after {timeout}s: {result!r}")
        await asyncio.sleep(interval)
