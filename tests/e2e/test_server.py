"""The server's lifespan: migrations and projections at start-up, a poller that brings
in events written by other processes, readiness with projection lag, GraphiQL."""

from __future__ import annotations

import asyncio

from graphql_api.core.ids import from_global_id
from infrastructure.bootstrap import bootstrap

from .conftest import eventually


async def test_events_from_another_process_reach_the_api(api, settings):
    def other_process() -> None:  # e.g. `storewise import`: its own write side on the same database
        with bootstrap(settings) as storewise:
            storewise.catalog.list_product("IMPORTED", "Imported Lamp", "Lighting")
            storewise.inventory.receive_stock("IMPORTED", "main", 4)

    await asyncio.to_thread(other_process)

    async def visible():  # both projections (catalog, inventory) have caught up
        data = await api.data('{ product(sku: "IMPORTED") { title stockLevels { available } } }')
        return data["product"] if data["product"] and data["product"]["stockLevels"] else None

    assert await eventually(visible) == {"title": "Imported Lamp", "stockLevels": [{"available": 4}]}

    async def caught_up():
        ready = (await api.client.get("/readyz")).json()
        return ready if ready["lag"] == 0 else None

    ready = await eventually(caught_up)
    assert ready["status"] == "ready" and ready["database"] == settings.backend
    assert ready["events"]["Inventory"] == 2 and ready["events"]["Catalog"] == 1
    assert ready["projections"]["inventory"] == {"position": 2, "head": 2, "lag": 0}


async def test_graphiql_and_health(api):
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    response = await api.client.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["x-correlation-id"]  # generated when the client gives none


async def test_commands_are_recorded_with_the_actor_and_the_correlation_id(api):
    response = await api.client.post(
        "/graphql",
        json={
            "query": (
                'mutation { listProduct(input: {sku: "MUG", title: "Mug", category: "Kitchen", idempotencyKey: "k-1"}) '
                "{ product { id } } }"
            )
        },
        headers={**api.headers, "X-Correlation-ID": "checkout-7"},
    )
    assert response.headers["x-correlation-id"] == "checkout-7"
    catalog = api.storewise.catalog
    listed = [n for n in catalog.recorder.select_notifications(start=1, limit=10) if n.topic.endswith("Product.Listed")]
    metadata = catalog.mapper.metadata_of(listed[0])
    admin = (await api.data("{ viewer { userId } }"))["viewer"]["userId"]
    assert (metadata["actor"], metadata["correlation_id"]) == (f"user:{from_global_id(admin)[1]}:admin", "checkout-7")
    assert (metadata["command"], metadata["idempotency_key"]) == ("list_product", "k-1")


async def test_with_projections_in_a_separate_worker_mutations_wait_for_it(settings):
    import threading

    import httpx

    from infrastructure.bootstrap import projection_runner
    from infrastructure.read_model_db import sync_engine
    from infrastructure.server import create_app

    from .conftest import Api

    app = create_app(settings, projections_in_process=False)
    async with app.router.lifespan_context(app):
        engine = sync_engine(settings)
        worker = projection_runner(app.state.storewise, engine)  # stands in for `storewise projections run`
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                worker.run_until_idle()
                stop.wait(0.05)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                api = await Api(app, client).as_role("merchandiser")
                listed = await api.mutate(
                    "listProduct", {"sku": "MUG", "title": "Mug", "category": "Kitchen"}, "product { sku }"
                )
                assert listed == {"product": {"sku": "MUG"}, "userErrors": []}
                assert (await api.data('{ product(sku: "MUG") { title } }')) == {"product": {"title": "Mug"}}
        finally:
            stop.set()
            thread.join(5)
            engine.dispose()


async def test_while_serving_the_garbage_collector_waits_for_more_allocations_and_is_put_back_after(settings):
    import gc

    from infrastructure.server import GC_THRESHOLD, create_app

    before = gc.get_threshold()
    assert before[0] < GC_THRESHOLD
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == (GC_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
