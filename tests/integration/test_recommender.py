"""The recommender's use cases on a running system (SQLite and PostgreSQL): training on the
interaction feature view, the training and activation recorded in the model registry, and
serving with the shop's exclusion rules and the cold-start fallback."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from application.recommendations import NothingToLearn, Source
from domain.models import HealthThreshold
from domain.shared import Money
from infrastructure.artifacts import checksum
from infrastructure.cli import main
from infrastructure.migrations import upgrade

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PRICE = Money(Decimal("5.00"), "GBP")
KITCHEN = [f"K{n}" for n in range(6)]
GARDEN = [f"G{n}" for n in range(6)]


@pytest.fixture
def shop(settings, tmp_path):
    """Two communities: kitchen and garden shoppers, each buying three of their own six products;
    and a newcomer who has done nothing yet."""
    import dataclasses

    from infrastructure.bootstrap import bootstrap

    storewise = bootstrap(dataclasses.replace(settings, var_dir=tmp_path))  # artifacts in the test's folder
    upgrade(storewise.settings)
    products = {}
    for sku in KITCHEN + GARDEN:
        products[sku] = storewise.catalog.list_product(sku, f"Product {sku}", "Kitchen" if sku in KITCHEN else "Garden")
        storewise.catalog.price_product(products[sku], PRICE)
        storewise.catalog.publish_product(products[sku])
        storewise.inventory.receive_stock(sku, "main", 50)
    customers = {}
    for n in range(6):
        for side, skus in (("kitchen", KITCHEN), ("garden", GARDEN)):
            customer = storewise.customers.register_customer(f"{side} {n}", f"{side}{n}@example.com")
            customers[f"{side}{n}"] = customer
            bought = [skus[(n + shift) % 6] for shift in range(3)]
            storewise.customers.place_order(customer, [(sku, 1, PRICE) for sku in bought])
    customers["newcomer"] = storewise.customers.register_customer("New Comer", "new@example.com")
    yield storewise, storewise.read_side.engine, products, customers
    storewise.close()


def serve(storewise, engine, customer, first=4):
    storewise.read_side.run_until_idle()
    return storewise.recommendations.for_customer(customer, first)


def test_training_is_recorded_and_served(shop) -> None:
    storewise, engine, products, customers = shop
    before = serve(storewise, engine, customers["kitchen0"])  # no model yet: popular products, from the read model
    assert before and all(r.source is Source.POPULAR and r.model_version is None for r in before)

    outcome = storewise.recommendations.train(
        models=("gf-cf", "item-graph"),
        parameters={"gf-cf": {"rank": 4}},
    )

    record = storewise.models.trained_model(outcome.model_id)
    assert record.kind == "recommender" and record.version == outcome.version
    assert record.hyperparameters["model"] == outcome.model in ("gf-cf", "item-graph")
    assert [c["model"] for c in record.hyperparameters["candidates"]] == ["gf-cf", "item-graph"]
    assert record.data_position["Customers"] > 0 and record.data_position == outcome.data_position
    assert {"recall@20", "ndcg@20", "gf-cf.ndcg@20", "item-graph.ndcg@20"} <= set(record.metrics)
    assert record.artifact_checksum == checksum(Path(record.artifact_path))
    assert Path(record.artifact_path).is_relative_to(storewise.settings.var_dir / "artifacts" / "recommender")
    assert storewise.models.active_model("recommender").id == outcome.model_id

    kitchen = {products[sku] for sku in KITCHEN}
    for n in range(6):
        bought = {products[KITCHEN[(n + s) % 6]] for s in range(3)}
        served = serve(storewise, engine, customers[f"kitchen{n}"], first=3)
        assert [r.source for r in served] == [Source.MODEL] * 3
        assert all(r.model_id == outcome.model_id and r.model_version == outcome.version for r in served)
        assert {r.product_id for r in served} == kitchen - bought  # in the community, nothing bought again
        assert all(r.because and set(r.because) <= bought for r in served)  # explained by the customer's own buys

    newcomer = serve(storewise, engine, customers["newcomer"])
    assert newcomer and all(r.source is Source.POPULAR and not r.because for r in newcomer)
    assert newcomer[0].model_version == outcome.version

    # A new training, activated, replaces the served model (the previous one is superseded).
    second = storewise.recommendations.train(models=("item-graph",))
    assert serve(storewise, engine, customers["garden1"])[0].model_version == second.version
    assert (
        storewise.models.trained_model(outcome.model_id).status
        != storewise.models.trained_model(second.model_id).status
    )


def test_the_re_ranker_reads_standing_purchases_with_their_dates_and_says_why_it_does_not_serve(shop) -> None:
    storewise, engine, products, customers = shop
    kitchen0 = customers["kitchen0"]
    when = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    kept = storewise.customers.place_order(kitchen0, [("G0", 1, PRICE), ("G1", 2, PRICE)], at=when)
    cancelled = storewise.customers.place_order(kitchen0, [("G2", 1, PRICE)], at=when)
    storewise.customers.cancel_order(cancelled, "changed my mind")
    storewise.customers.pay_order(kept, Money(Decimal("15.00"), "GBP"))
    storewise.customers.ship_order(kept)
    storewise.customers.return_order_lines(kept, [("G1", 2)], "too big")  # fully returned: not a purchase
    storewise.read_side.run_until_idle()

    purchases = storewise.recommendations.data.purchases()
    assert len(purchases) == 12 * 3 + 1  # each shopper's three, and the line kept
    assert purchases[0][:3] == (kitchen0, products["G0"], kept)
    assert purchases[0][3].replace(tzinfo=UTC) == when  # oldest first, with its date

    outcome = storewise.recommendations.train(models=("item-graph",))
    # Every order but one was placed within the test: no weeks of purchases to validate a re-ranker on.
    reranker = storewise.models.trained_model(outcome.model_id).hyperparameters["reranker"]
    assert reranker["model"] == "gnn-rerank" and reranker["served"] is False
    assert reranker["reason"] == "0 of the last 6 windows of 4 weeks have something to learn from; needs 3"
    assert "reranker" not in storewise.recommendations.train(models=("item-graph",), rerank=False).hyperparameters


def test_bought_discontinued_and_out_of_stock_products_are_not_recommended(shop) -> None:
    storewise, engine, products, customers = shop
    storewise.recommendations.train(models=("item-graph",))
    customer = customers["kitchen0"]
    first = [r.product_id for r in serve(storewise, engine, customer, first=3)]
    by_id = {v: k for k, v in products.items()}

    storewise.catalog.discontinue_product(first[0], "supplier stopped it")
    stock = storewise.inventory.stock_item(by_id[first[1]], "main")
    storewise.inventory.adjust_stock(by_id[first[1]], "main", -stock.available, "water damage")
    storewise.customers.place_order(customer, [(by_id[first[2]], 1, PRICE)])

    after = serve(storewise, engine, customer, first=6)
    assert not {r.product_id for r in after} & set(first)
    # The kitchen list ran dry: the rest is popular products, labelled as such, none excluded either.
    assert after and all(r.source is Source.POPULAR for r in after)


def test_nothing_to_learn_is_refused_and_nothing_recorded(storewise, tmp_path) -> None:
    upgrade(storewise.settings)
    before = storewise.event_counts()["Models"]
    with pytest.raises(NothingToLearn):
        storewise.recommendations.train(models=("item-graph",))
    assert storewise.event_counts()["Models"] == before and storewise.models.active_model("recommender") is None


def test_bench_cli_on_a_tiny_lightgcn_file(capsys) -> None:
    code = main(
        [
            "bench",
            "recommender",
            "--train",
            str(FIXTURES / "lightgcn_tiny_train.txt"),
            "--test",
            str(FIXTURES / "lightgcn_tiny_test.txt"),
            "--model",
            "gf-cf",
            "--rank",
            "4",
            "--k",
            "2",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    # Each user's one test item is in their own community, among the two items left there.
    assert report["recall"] == 1.0 and report["precision"] == 0.5
    assert 0 < report["ndcg"] <= 1 and report["coverage"] == 1.0
    assert report["users"] == 12 and report["train_seconds"] >= 0 and report["peak_memory_mb"] > 0


def test_bench_cli_prints_every_candidate_side_by_side(capsys) -> None:
    code = main(
        [
            "bench",
            "recommender",
            "--train",
            str(FIXTURES / "lightgcn_tiny_train.txt"),
            "--test",
            str(FIXTURES / "lightgcn_tiny_test.txt"),
            "--model",
            "all",
            "--rank",
            "4",
            "--bspm-rank",
            "4",
            "--sgfcf-rank",
            "4",
            "--epochs",
            "3",
            "--dim",
            "8",
            "--k",
            "2",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["model"]: row for row in report["results"]}
    assert list(rows) == ["sgfcf", "bspm", "gf-cf", "turbo-cf", "item-graph", "lightgcn"]
    for row in rows.values():
        assert {"recall", "ndcg", "precision", "coverage", "train_seconds", "evaluate_seconds"} <= set(row)
    # The graph filters find each user's test item in their own community (two items left there).
    assert rows["sgfcf"]["recall"] == rows["bspm"]["recall"] == rows["turbo-cf"]["recall"] == 1.0


def test_bench_cold_start_refuses_other_files(capsys, tmp_path) -> None:
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert main(["bench", "cold-start", "--data", str(tmp_path / "other.csv"), "--output", ""]) == 2
    assert "not Online Retail data" in capsys.readouterr().err


def test_bench_cli_validation_split_and_bad_input(capsys, tmp_path) -> None:
    code = main(
        [
            "bench",
            "recommender",
            "--train",
            str(FIXTURES / "lightgcn_tiny_train.txt"),
            "--validate",
            "0.3",
            "--model",
            "item-graph",
            "--k",
            "2",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"].startswith("validation") and report["test_interactions"] == 12  # one of each user's three
    (tmp_path / "bad.txt").write_text("user item\n")
    assert main(["bench", "recommender", "--train", str(tmp_path / "bad.txt"), "--validate", "0.2"]) == 2
    assert "whole numbers" in capsys.readouterr().err
    for flag, value in (("--gamma", "-1"), ("--eps", "nan"), ("--alpha", "inf"), ("--sharpen-time", "-0.5")):
        with pytest.raises(SystemExit):  # refused before anything is read or trained
            main(["train", "recommender", flag, value])
        assert f"argument {flag}: must be a finite number, zero or more" in capsys.readouterr().err


def test_train_if_stale_keeps_a_model_trained_on_every_customer_event(tmp_path, monkeypatch, capsys) -> None:
    from infrastructure.bootstrap import bootstrap
    from infrastructure.settings import Settings

    monkeypatch.setenv("STOREWISE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("STOREWISE_DATABASE_URL", raising=False)
    settings = Settings.from_env()
    upgrade(settings)

    def customer_buys(storewise, n: int) -> None:
        customer = storewise.customers.register_customer(f"Buyer {n}", f"buyer{n}@example.com")
        storewise.customers.place_order(customer, [(KITCHEN[(n + shift) % 6], 1, PRICE) for shift in range(2)])

    with bootstrap(settings) as storewise:
        for sku in KITCHEN:
            storewise.catalog.price_product(storewise.catalog.list_product(sku, sku, "Kitchen"), PRICE)
            storewise.inventory.receive_stock(sku, "main", 50)
        for n in range(4):
            customer_buys(storewise, n)
    command = ["train", "recommender", "--if-stale", "--quiet", "--model", "item-graph"]

    def served_version() -> str:
        out = capsys.readouterr().out
        return out.split(":")[0].removeprefix("recommender ").strip() + (" (kept)" if "still serving" in out else "")

    assert main(command) == 0
    first = served_version()
    assert main(command) == 0
    assert served_version() == f"{first} (kept)"
    with bootstrap(settings) as storewise:
        customer_buys(storewise, 4)  # new interactions: the served model is stale
        browser = storewise.customers.register_customer("Browser", "browser@example.com")
        product = storewise.catalog.list_product("SLATE-ONLY", "Slate only", "Kitchen")
    assert main(command) == 0
    second = served_version()
    assert second != first and "kept" not in second
    with bootstrap(settings) as storewise:
        assert storewise.models.active_model("recommender").version == second
        # Recommendations served and clicked are no new interactions: the model is kept.
        slate = storewise.customers.serve_slate(browser, "recommender", second, "champion", [product])
        storewise.customers.record_slate_clicked(slate, product)
    assert main(command) == 0
    assert served_version() == f"{second} (kept)"
    with bootstrap(settings) as storewise:  # a degraded model is retrained
        threshold = HealthThreshold("recommender", "click_through_rate", "min", 0.5)
        assert storewise.models.report_degradation("recommender", second, threshold, 0.1, None, date.today())
    assert main(command) == 0
    third = served_version()
    assert third != second and "kept" not in third
