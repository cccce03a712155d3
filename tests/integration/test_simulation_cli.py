"""`storewise simulate recommendations --demo` fills the model-health figures once (a second run
records nothing), and `models health` / `models check-health` report them."""

from __future__ import annotations

import json

from infrastructure.bootstrap import bootstrap
from infrastructure.cli import main
from infrastructure.settings import Settings

DEMO = ["simulate", "recommendations", "--demo", "--json", "--customers", "30", "--products", "12", "--sessions", "40"]


def test_the_demo_step_is_idempotent_and_fills_model_health(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    assert main(DEMO) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["slates"] > 0 and first["clicks"] > 0
    [figures] = first["health"].values()
    assert figures["impressions"] > 0 and 0 < figures["click_through_rate"] <= 1
    with bootstrap(Settings.from_env()) as storewise:
        events = storewise.event_counts()
    assert main(DEMO) == 0
    assert json.loads(capsys.readouterr().out)["skipped"] is True
    with bootstrap(Settings.from_env()) as storewise:
        assert storewise.event_counts() == events  # nothing new recorded
    assert main(["models", "health", "--kind", "recommender"]) == 0
    assert "click_through_rate" in capsys.readouterr().out
    assert main(["models", "check-health"]) == 0
    assert "within their thresholds" in capsys.readouterr().out
