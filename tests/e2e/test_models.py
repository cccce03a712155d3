"""The model registry over GraphQL: staff see every trained model and what it was trained on;
only an admin activates one."""

from __future__ import annotations

import asyncio

MODEL = "model { version status activatedAt metrics { name value } dataPosition { context position } }"
LIST = (
    '{ trainedModels(kind: "recommender") '
    "{ totalCount edges { node { id version status artifactChecksum hyperparameters } } } }"
)


async def record(api, version: str) -> None:
    storewise = api.storewise

    def write() -> None:
        storewise.models.record_training(
            "recommender",
            version,
            hyperparameters={"model": "lightgcn", "layers": 3},
            data_position=storewise.event_counts(),
            metrics={"recall@20": 0.17},
            artifact_checksum="ef" * 32,
            artifact_path=f"var/artifacts/recommender/{version}",
        )
        api.services.read_side.run_until_idle()

    await asyncio.to_thread(write)


async def test_trained_models_are_listed_and_an_admin_activates_one(api):
    await record(api, "v1")
    await record(api, "v2")
    auditor = await api.as_role("auditor")
    listed = (await auditor.data(LIST))["trainedModels"]
    assert listed["totalCount"] == 2
    nodes = {edge["node"]["version"]: edge["node"] for edge in listed["edges"]}
    assert nodes["v1"]["status"] == "TRAINED" and nodes["v1"]["hyperparameters"] == {"model": "lightgcn", "layers": 3}

    activated = await api.mutate("activateModel", {"modelId": nodes["v1"]["id"]}, MODEL)
    assert activated["userErrors"] == [] and activated["model"]["status"] == "ACTIVE"
    assert activated["model"]["metrics"] == [{"name": "recall@20", "value": 0.17}]
    assert {"context": "Models", "position": 0} in activated["model"]["dataPosition"]  # v1 was the first
    swapped = await api.mutate("activateModel", {"modelId": nodes["v2"]["id"]}, MODEL)
    assert swapped["model"]["status"] == "ACTIVE"
    statuses = {e["node"]["version"]: e["node"]["status"] for e in (await auditor.data(LIST))["trainedModels"]["edges"]}
    assert statuses == {"v1": "SUPERSEDED", "v2": "ACTIVE"}

    refused = await auditor.post(
        "mutation($id: ID!) { activateModel(input: {modelId: $id}) { model { version } } }", {"id": nodes["v1"]["id"]}
    )
    assert refused["data"]["activateModel"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_activating_something_that_is_not_a_model_is_a_clear_error(api):
    body = await api.post(
        'mutation { activateModel(input: {modelId: "bm90LWEtbW9kZWw="}) { model { version } userErrors { code } } }'
    )
    assert body["data"]["activateModel"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
