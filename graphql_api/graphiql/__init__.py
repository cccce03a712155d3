"""GraphiQL, served from this package: the page at ``GET /graphql`` (for a browser) and its
assets under ``/graphql/static/``, with no external URL, so it works offline and under a strict
Content-Security-Policy.

- ``static/vendor/``: React, ReactDOM, GraphiQL and its explorer plugin, copied unchanged from
  their npm packages by ``scripts/vendor_graphiql.py`` (versions, licences and sha256 of each
  file in ``static/vendor/VENDORED.json``).
- ``static/storewise-graphiql.js`` / ``.css``: ours; they start GraphiQL (no inline script, so
  the policy needs no ``'unsafe-inline'`` for scripts).
- ``examples/*.graphql``: the operations GraphiQL opens with, one tab per user group, with the
  variables in ``EXAMPLE_VARIABLES``; a test validates them against the schema.

A bearer token goes in GraphiQL's Headers editor (shown at start with a placeholder that is not
sent until it is replaced); headers are not kept in the browser's storage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
EXAMPLES = HERE / "examples"
#: Where the assets are served, and where the page finds them (relative to ``/graphql``, so
#: the page keeps working behind a proxy that adds a path prefix).
ASSETS_PATH = "/graphql/static"
_ASSETS_RELATIVE = "graphql/static"

#: The page's Content-Security-Policy: everything from this origin only; no inline script, no
#: eval; inline styles allowed (GraphiQL's menus and dialogs inject <style> elements, whose content
#: varies, so no hash fits); fonts and images from data: URLs (GraphiQL's CSS embeds its fonts); never
#: framed. ``'self'`` covers the same origin's websocket (subscriptions).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

#: What the Headers editor starts with; the page does not send this placeholder.
TOKEN_PLACEHOLDER = '{"Authorization": "Bearer <token>"}'


@dataclass(frozen=True)
class ExampleTab:
    """One of GraphiQL's opening tabs: the operations one user group starts from."""

    group: str
    query: str
    variables: dict[str, Any]

    @property
    def path(self) -> Path:
        return EXAMPLES / f"{self.group}.graphql"


#: The variables each tab opens with (placeholders where an id must be copied from a result).
EXAMPLE_VARIABLES: dict[str, dict[str, Any]] = {
    "frontend": {"search": "heart", "customerId": None, "sku": "85123A"},
    "operator": {"planId": "<id of a PROPOSED plan>", "allocationId": "<id of a PROPOSED allocation>"},
    "auditor": {"eventType": None, "aggregateId": "<an aggregateId from EventHistory>", "version": None},
}


def example_tabs() -> list[ExampleTab]:
    """The opening tabs, in order: frontend, operator, auditor."""
    return [
        ExampleTab(group, (EXAMPLES / f"{group}.graphql").read_text(encoding="utf-8"), variables)
        for group, variables in EXAMPLE_VARIABLES.items()
    ]


def _page() -> str:
    config = {
        "tabs": [
            {"query": tab.query, "variables": json.dumps(tab.variables, indent=2), "headers": TOKEN_PLACEHOLDER}
            for tab in example_tabs()
        ],
        "headers": TOKEN_PLACEHOLDER,
    }
    # a data block, never executed; "</" escaped so no text in it can close the element
    data = json.dumps(config).replace("</", "<\\/")
    vendor = f"{_ASSETS_RELATIVE}/vendor"
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Storewise GraphQL</title>
    <link rel="stylesheet" href="{vendor}/graphiql.min.css">
    <link rel="stylesheet" href="{vendor}/plugin-explorer.css">
    <link rel="stylesheet" href="{_ASSETS_RELATIVE}/storewise-graphiql.css">
  </head>
  <body>
    <p id="storewise-banner">Storewise GraphQL. Tabs: frontend, operator, auditor examples.
      To act as a user, replace <code>&lt;token&gt;</code> in the <b>Headers</b> editor (below the query) with a
      bearer token, e.g. from <code>storewise tokens issue NAME</code>; without one you browse the catalog.
      Headers are not stored in this browser.</p>
    <div id="graphiql">Loading GraphiQL...</div>
    <script id="storewise-graphiql-config" type="application/json">{data}</script>
    <script src="{vendor}/react.production.min.js"></script>
    <script src="{vendor}/react-dom.production.min.js"></script>
    <script src="{vendor}/graphiql.min.js"></script>
    <script src="{vendor}/plugin-explorer.umd.js"></script>
    <script src="{_ASSETS_RELATIVE}/storewise-graphiql.js"></script>
  </body>
</html>
"""


_PAGE: str | None = None


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page, with its Content-Security-Policy."""
    global _PAGE
    if _PAGE is None:  # built once: the examples are package data
        _PAGE = _page()
    return HTMLResponse(_PAGE, headers=PAGE_HEADERS)


def assets_app() -> Any:
    """The ASGI app serving ``static/`` (mount it at ``ASSETS_PATH``), gzipped (GraphiQL's
    bundle is 3.5 MB, 0.7 MB gzipped)."""
    return GZipMiddleware(StaticFiles(directory=STATIC), minimum_size=1024)
