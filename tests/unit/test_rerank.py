"""The GNN re-ranker of the filter's candidates: what a window is built from, and that it learns what
the filter cannot see (how a product's sales move)."""

from __future__ import annotations

from datetime import UTC
from uuid import NAMESPACE_URL, uuid5

import numpy as np
import pandas as pd
import pytest

from infrastructure.recommender.artifact import ServingArtifact
from infrastructure.recommender.engine import RecommenderEngine
from infrastructure.recommender.ranking import build
from infrastructure.recommender.rerank import EDGE_DAYS, FEATURES, GraphReRanker, recall, rerank_shop, run, window

START = pd.Timestamp("2011-01-01")
CATEGORIES = ["Bags", "Candles"]


def _shop(seed: int = 0, days: int = 126) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two taste groups buying long-selling products of their category, and every fortnight new products
    that everyone buys for four weeks from their launch: what sells next is what started selling lately."""
    rng = np.random.default_rng(seed)
    products = {f"E{n}": CATEGORIES[n % 2] for n in range(40)}
    rows = []
    for day in range(days):
        period = day // 14
        hot = [f"H{period}-{n}" for n in range(4)] + ([f"H{period - 1}-{n}" for n in range(4)] if period else [])
        for sku in hot:
            products[sku] = CATEGORIES[int(sku[-1]) % 2]
        for customer in rng.choice(120, size=12, replace=False):
            group = customer % 2
            evergreen = f"E{2 * rng.integers(20) + group}"
            sku = hot[rng.integers(len(hot))] if rng.random() < 0.5 else evergreen
            rows.append((str(customer), f"{day}-{customer}", sku, START + pd.Timedelta(days=day, hours=10)))
    sales = pd.DataFrame(rows, columns=["customer", "invoice", "sku", "at"])
    catalogue = pd.DataFrame(
        {"title": list(products), "category": list(products.values()), "price": 2.0}, index=list(products)
    )
    return sales, catalogue


def _windows(sales: pd.DataFrame, products: pd.DataFrame, starts: list[pd.Timestamp]) -> list:
    return [window(sales, products, s, 2, build("item-graph"), CATEGORIES) for s in starts]


def test_a_window_reads_only_the_sales_before_it_and_labels_first_purchases_in_it() -> None:
    sales, products = _shop()
    start = START + pd.Timedelta(weeks=10)
    before = sales[sales["at"] < start]
    other_future = _shop(seed=1)[0]
    other_future = other_future[other_future["at"] >= start]
    original = window(sales, products, start, 2, build("item-graph"), CATEGORIES)
    changed = window(pd.concat([before, other_future]), products, start, 2, build("item-graph"), CATEGORIES)

    # Another future leaves the graph and every product's side information as they were.
    assert (original.graph != changed.graph).nnz == 0
    np.testing.assert_array_equal(original.edge_weights.toarray(), changed.edge_weights.toarray())
    # The edges weighed by recency: the same edges, each by the age of the pair's last purchase.
    np.testing.assert_array_equal(original.edge_weights.toarray() > 0, original.graph.toarray() > 0)
    latest = before.iloc[-1]
    row, column = original.customer_ids.index(latest["customer"]), original.product_ids.index(latest["sku"])
    assert original.edge_weights[row, column] == pytest.approx(np.exp(-(start - latest["at"]).days / EDGE_DAYS))
    np.testing.assert_array_equal(original.product_features, changed.product_features)
    assert not np.array_equal(original.labels, changed.labels)
    # A label is a product bought in the window and never before by that customer.
    bought_before = original.graph[original.customers].toarray() > 0
    assert not (original.truth.toarray().astype(bool) & bought_before).any()
    rows, columns = np.nonzero(original.labels.reshape(original.candidates.shape))
    assert original.truth[rows, original.candidates[rows, columns]].min() == 1
    assert original.features.shape == (original.labels.size, len(FEATURES))


def test_the_re_ranker_learns_what_started_selling_lately_and_beats_the_filter() -> None:
    sales, products = _shop()
    starts = [START + pd.Timedelta(weeks=w) for w in (6, 8, 10, 12, 14, 16)]
    train, scored = _windows(sales, products, starts[:-1]), _windows(sales, products, starts[-1:])[0]

    filter_alone = recall(scored, -np.arange(scored.labels.size, dtype=float))["recall@20"]
    reranker = GraphReRanker(epochs=60, seed=0).fit(train)
    reranked = recall(scored, reranker.scores(scored))["recall@20"]

    assert reranked > filter_alone + 0.1
    young = scored.features[:, FEATURES.index("age")] < 28
    scores = reranker.scores(scored)
    assert scores[young].mean() > scores[~young].mean()


def test_the_benchmark_refuses_data_too_short_for_its_windows(tmp_path) -> None:
    sales, _ = _shop(days=30)
    path = tmp_path / "short.csv"
    pd.DataFrame(
        {
            "InvoiceNo": sales["invoice"],
            "StockCode": sales["sku"],
            "Description": "RED CANDLE",
            "Quantity": 1,
            "InvoiceDate": sales["at"],
            "UnitPrice": 2.0,
            "CustomerID": sales["customer"],
        }
    ).to_csv(path, index=False)
    with pytest.raises(ValueError, match="too short for 6 windows of 4 weeks"):
        run(path, weeks=4, windows=6)
    with pytest.raises(ValueError, match="at least 3"):
        run(path, windows=2)


def _as_shop(sales: pd.DataFrame, products: pd.DataFrame) -> tuple[list, list]:
    """The synthetic shop as the read models give it: (customer, product, order, placed at) with ids, and the
    catalog (product, title, category, price)."""
    uid = lambda text: uuid5(NAMESPACE_URL, text)  # noqa: E731
    purchases = [
        (uid(c), uid(s), uid(o), at.to_pydatetime().replace(tzinfo=UTC))
        for c, o, s, at in sales[["customer", "invoice", "sku", "at"]].itertuples(index=False)
    ]
    catalog = [(uid(sku), row.title, row.category, row.price) for sku, row in products.iterrows()]
    return purchases, catalog


def test_a_training_serves_the_re_ranked_lists_where_the_re_ranker_beats_the_filter(tmp_path) -> None:
    sales, products = _shop()
    purchases, catalog = _as_shop(sales, products)
    weights = {(c, p): 5.0 for c, p, _, _ in purchases}
    engine = RecommenderEngine(tmp_path, registry=None)
    fitted = engine.fit(
        [(c, p, w) for (c, p), w in weights.items()],
        [("item-graph", {})],
        validation_fraction=0.2,
        k=20,
        progress=lambda line: None,
        purchases=purchases,
        catalog=catalog,
    )
    reranking = fitted.reranking
    assert reranking is not None and reranking["served"], reranking
    assert reranking["metrics"]["recall@20"] > reranking["metrics"]["filter_recall@20"]

    directory, _ = engine.save(fitted, "recommender", "v1", n=10, manifest={}, progress=lambda line: None)
    artifact = ServingArtifact.load(directory)
    lists = fitted.reranked.lists
    customer = next(iter(lists))
    served = artifact.recommend(customer, 10)
    assert [r.item for r in served] == [item for item, _, _ in lists[customer][:10]]
    assert [r.score for r in served] == pytest.approx([score for _, score, _ in lists[customer][:10]])
    assert all(r.because for r in served[:3])  # still explained by the customer's own products
    assert [r.reasons for r in served] == [why for _, _, why in lists[customer][:10]]
    assert all(artifact.reasons_for(customer, r.item) == r.reasons for r in served)
    bought = {str(p) for c, p, _, _ in purchases if str(c) == customer}
    assert not bought & {r.item for r in served}
    # What sells next in this shop is what started selling lately: it leads the re-ranked lists far more
    # often than the filter's own.
    fitted.reranked.served = False
    plain = ServingArtifact.load(
        engine.save(fitted, "recommender", "v2", n=10, manifest={}, progress=lambda line: None)[0]
    )
    launched = {str(uuid5(NAMESPACE_URL, sku)) for sku in products.index if sku.startswith("H")}

    def leading(top: ServingArtifact) -> float:
        firsts = [top.recommend(c, 1)[0].item for c in lists]
        return sum(item in launched for item in firsts) / len(firsts)

    assert leading(artifact) > 2 * leading(plain)


def test_each_reason_raised_the_score_and_is_true_of_its_candidate() -> None:
    sales, products = _shop()
    starts = [START + pd.Timedelta(weeks=w) for w in (6, 8, 10, 12, 14, 16)]
    train, scored = _windows(sales, products, starts[:-1]), _windows(sales, products, starts[-1:])[0]
    reranker = GraphReRanker(epochs=60, seed=0).fit(train)
    scores, reasons = reranker.explained_scores(scored)
    np.testing.assert_allclose(scores, reranker.scores(scored), rtol=1e-5)
    assert len(reasons) == scored.labels.size and all(len(why) <= 2 for why in reasons)
    age, sold = scored.features[:, FEATURES.index("age")], scored.features[:, FEATURES.index("sold_28")]
    new = [n for n, why in enumerate(reasons) if "new in the shop" in why]
    selling = [n for n, why in enumerate(reasons) if "selling to many customers lately" in why]
    assert new and selling  # in this shop, what sells next is new and selling: the reasons say so
    assert age[new].max() < age.mean() and sold[selling].min() > sold.mean()
    # The launched products' reasons are about their launch far more often than the long-selling products'.
    launched = age < 28
    about_launch = {"new in the shop", "selling to many customers lately", "sales rising"}
    share = lambda rows: np.mean([bool(set(reasons[n]) & about_launch) for n in np.flatnonzero(rows)])  # noqa: E731
    assert share(launched) > 0.8 and share(launched) > 3 * share(~launched)


def test_too_little_history_trains_no_re_ranker_and_says_why() -> None:
    sales, products = _shop(days=30)
    reranking = rerank_shop(sales, products, lambda: build("item-graph"), weeks=2)
    assert not reranking.served and reranking.lists == {}
    assert reranking.reason == "2 of the last 6 windows of 2 weeks have something to learn from; needs 3"
    assert not rerank_shop(sales.iloc[:0], products, lambda: build("item-graph")).served
