"""The API end to end: the Starlette app with its lifespan (write side, migrations,
projections, poller), driven over HTTP with httpx on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from infrastructure.server import create_app
from infrastructure.settings import Settings


class Api:
    """A client of one running app."""

    def __init__(self, app: Any, client: httpx.AsyncClient):
        self.app = app
        self.client = client

    @property
    def services(self) -> Any:
        return self.app.state.services

    @property
    def storewise(self) -> Any:
        return self.app.state.storewise

    async def post(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
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
        query = f"mutation($input: {type_name}!) {{ {name}(input: $input) {{ {selection} userErrors {{ field message code }} }} }}"
        return (await self.data(query, input=input))[name]

    def event_counts(self) -> dict[str, int]:
        return {app.name: app.recorder.max_notification_id() or 0 for app in self.storewise.applications}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings, poll_interval=0.2)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            yield Api(app, client)


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
