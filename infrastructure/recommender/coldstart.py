"""The cold-start benchmark on Online Retail-format data (``storewise bench cold-start``).

The last ``weeks`` of the file are the test window; the ``weeks`` before it the validation window
(the blend's weight is chosen there, then applied to the test window unchanged). Training data:
every sale before the window, customers x products (bought or not).

- New products: products first sold in the window. For each customer known before the window who
  bought some of them, the new products are ranked (they have no interactions: content and the
  graph model's scores of the known products most like them) and Recall@20 counts the ones they bought.
- New customers: customers first seen in the window whose first order has at least four known
  products. Half of that order (in a seeded random order) is the session's context — what they
  viewed or carted — and the other half is what Recall@20 looks for among the known products.
  Beside the blends, what GraphQL serves such a customer (``SERVED``): the session folded in
  through the serving artifact's similar-product lists, then the popular products.
- New products' pages: for each product first sold in the window, its similar products as GraphQL
  serves them (by content) against the known products bought on the same invoices in the window.

Popularity is the baseline on both: the served popular list (sales before the window; a new product
has none, so among new products it is an arbitrary order) and, for new products, the window's own
sales counted without the customer (an oracle a shop only has later, for reference).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from application.recommendations import PRECOMPUTED

from .artifact import FOLD_IN_GRAPH_WEIGHT, precompute
from .content import ContentModel, new_product_scores, scaled_rows, session_scores
from .metrics import ranking_metrics

WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
K = 20


def read_sales(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sales of known customers: customer, invoice, sku, at; products: sku, title, category, price)."""
    from infrastructure.importers.online_retail import category_of, is_non_product

    frame = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str}, encoding_errors="replace")
    missing = {"InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"} - set(
        frame.columns
    )
    if missing:
        raise ValueError(f"{path}: not Online Retail data (missing columns: {', '.join(sorted(missing))})")
    frame = frame.dropna(subset=["InvoiceNo", "StockCode"])
    frame = frame[~frame["InvoiceNo"].str.startswith("C") & (frame["Quantity"] > 0) & (frame["UnitPrice"] > 0)]
    frame = frame[~frame["StockCode"].str.upper().map(is_non_product)]
    frame = frame.assign(sku=frame["StockCode"].str.upper(), at=pd.to_datetime(frame["InvoiceDate"], format="mixed"))
    titles = frame.dropna(subset=["Description"]).groupby("sku")["Description"].agg(lambda d: d.value_counts().index[0])
    products = pd.DataFrame({"title": titles, "price": frame.groupby("sku")["UnitPrice"].median()}).dropna(
        subset=["title"]
    )
    products["category"] = products["title"].map(category_of)
    sales = frame.dropna(subset=["CustomerID"])
    sales = pd.DataFrame(
        {
            "customer": sales["CustomerID"].str.replace(r"\.0$", "", regex=True),
            "invoice": sales["InvoiceNo"],
            "sku": sales["sku"],
            "at": sales["at"],
        }
    )
    return sales[sales["sku"].isin(products.index)], products


def _split(sales: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, first_sold: pd.Series) -> dict[str, Any]:
    before = sales[sales["at"] < start]
    window = sales[(sales["at"] >= start) & (sales["at"] < end)]
    known = sorted(first_sold[first_sold < start].index)
    new = sorted(first_sold[(first_sold >= start) & (first_sold < end)].index)
    customers = sorted(before["customer"].unique())
    return {"before": before, "window": window, "known": known, "new": new, "customers": customers}


def _matrix(pairs: pd.DataFrame, rows: list[str], cols: list[str]) -> sp.csr_matrix:
    r, c = {v: n for n, v in enumerate(rows)}, {v: n for n, v in enumerate(cols)}
    pairs = pairs[pairs["customer"].isin(r) & pairs["sku"].isin(c)].drop_duplicates(["customer", "sku"])
    return sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.float32), (pairs["customer"].map(r).to_numpy(), pairs["sku"].map(c).to_numpy())),
        shape=(len(rows), len(cols)),
    )


def _pages(window: pd.DataFrame, skus: list[str], known: list[str]) -> tuple[list[str], sp.csr_matrix]:
    """The products of ``skus`` sold in the window, and for each the known products (not itself) bought on
    the same invoices."""
    sold = window[window["sku"].isin(set(skus))]
    pairs = sold[["invoice", "sku"]].merge(window[["invoice", "sku"]], on="invoice", suffixes=("", "_with"))
    pairs = pairs[pairs["sku_with"].isin(set(known)) & (pairs["sku_with"] != pairs["sku"])]
    pairs = pairs.rename(columns={"sku": "customer", "sku_with": "sku"})  # rows: the page's product
    pages = sorted(pairs["customer"].unique())
    return pages, _matrix(pairs, pages, known)


def _kept(scores: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
    """Each customer's scores as a serving artifact ranks new products on them (``ServingArtifact.rank_new``):
    their ``PRECOMPUTED`` best products other than their own, their own at the best of those, the rest 0."""
    scores = np.array(scores, dtype=np.float64)
    mine = rows.nonzero()
    scores[mine] = -np.inf
    if PRECOMPUTED < scores.shape[1]:
        cut = np.partition(scores, -PRECOMPUTED, axis=1)[:, -PRECOMPUTED][:, None]
        scores = np.where(scores >= cut, scores, -np.inf)
    scores = np.where(np.isfinite(scores), scores, 0.0)
    scores[mine] = np.repeat(scores.max(axis=1), np.diff(rows.indptr))
    return scores


def _recall(scores: np.ndarray, truth: sp.csr_matrix, exclude: sp.csr_matrix | None = None) -> float:
    scores = np.array(scores, dtype=np.float64)
    if exclude is not None:
        scores[exclude.nonzero()] = -np.inf
    k = min(K, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(ranking_metrics(top, truth, np.arange(truth.shape[0]), k, scores.shape[1])[f"recall@{k}"])


def evaluate_window(
    sales: pd.DataFrame, products: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, graph_model: Any, seed: int = 0
) -> dict[str, Any]:
    """Recall@20 of every cold-start candidate and weight in one window."""
    first_sold = sales.groupby("sku")["at"].min()
    part = _split(sales, start, end, first_sold)
    known, new, customers = part["known"], part["new"], part["customers"]
    train = _matrix(part["before"], customers, known)
    graph = graph_model.fit(train)
    meta = products.reindex(known + new)
    content = ContentModel().fit(
        meta["title"].iloc[: len(known)], meta["category"].iloc[: len(known)], meta["price"].iloc[: len(known)]
    )
    result: dict[str, Any] = {
        "window": [start.isoformat(), end.isoformat()],
        "known_products": len(known),
        "new_products": len(new),
        "customers_before": len(customers),
    }
    popularity = np.asarray(train.sum(axis=0)).ravel()

    # New products, for customers known before the window.
    window = part["window"]
    bought_new = window[window["sku"].isin(set(new)) & window["customer"].isin(set(customers))]
    buyers = sorted(bought_new["customer"].unique())
    if buyers and new:
        truth = _matrix(bought_new, buyers, new)
        index = {c: n for n, c in enumerate(customers)}
        rows = train[[index[c] for c in buyers]]
        graph_scores = graph.scores(rows)
        new_vectors = content.transform(
            meta["title"].iloc[len(known) :], meta["category"].iloc[len(known) :], meta["price"].iloc[len(known) :]
        )
        rng = np.random.default_rng(seed)
        arbitrary = np.tile(rng.random(len(new)), (len(buyers), 1))  # served popularity has nothing on new products
        counts = np.asarray(truth.sum(axis=0)).ravel()
        oracle = counts[None, :] - truth.toarray()  # the window's sales by the other customers
        result["new_products_task"] = {
            "customers": len(buyers),
            "recall@20": {
                "popularity (served list)": _recall(arbitrary, truth),
                "new-arrival sales in the window, leave-one-out (oracle, reference)": _recall(
                    oracle + 1e-9 * arbitrary, truth
                ),
                **{
                    f"blend w={w}": _recall(
                        new_product_scores(graph_scores, content, rows, new_vectors, weight=w), truth
                    )
                    for w in WEIGHTS
                },
                **{
                    f"{SERVED_NEW} w={w}": _recall(
                        new_product_scores(_kept(graph_scores, rows), content, rows, new_vectors, weight=w), truth
                    )
                    for w in WEIGHTS
                },
            },
        }

    # A product's page: its similar products against the known products bought on the same invoices in
    # the window. New products get theirs by content (what GraphQL serves, ``CONTENT``); known products'
    # from the graph model, for reference (the same measure on what the model itself lists).
    pages, truth = _pages(window, new, known)
    if pages:
        at = {sku: n for n, sku in enumerate(new)}
        vectors = content.transform(
            meta["title"].iloc[len(known) :], meta["category"].iloc[len(known) :], meta["price"].iloc[len(known) :]
        )[[at[p] for p in pages]]
        like = np.asarray((vectors @ content.vectors.T).todense())  # pages x known
        neighbours = 20
        cut = np.partition(like, -neighbours, axis=1)[:, -neighbours][:, None]
        through = np.where(like >= cut, like, 0.0) @ graph.item_rows(np.arange(len(known)))
        result["new_product_pages_task"] = {
            "products": len(pages),
            "recall@20": {
                "popularity (served list)": _recall(np.tile(popularity, (len(pages), 1)), truth),
                SERVED_CONTENT: _recall(like, truth),
                "through the graph: the 20 nearest by content, their similar products": _recall(through, truth),
                **{
                    f"through the graph, blend w={w}": _recall(
                        w * scaled_rows(through) + (1 - w) * scaled_rows(like), truth
                    )
                    for w in WEIGHTS[1:-1]
                },
            },
        }
    pages, truth = _pages(window, known, known)
    if pages:
        at = {sku: n for n, sku in enumerate(known)}
        rows = [at[p] for p in pages]
        itself = sp.csr_matrix((np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=truth.shape)
        result["known_product_pages_task"] = {
            "products": len(pages),
            "recall@20": {
                "popularity (served list)": _recall(np.tile(popularity, (len(pages), 1)), truth, itself),
                "the graph model's similar products (served)": _recall(graph.item_rows(np.array(rows)), truth, itself),
            },
        }

    # Customers' sessions: half of a customer's first order in the window is the session (what they viewed or
    # carted), the other half what Recall@20 looks for among the known products they had not bought before.
    artifact = precompute(graph, train, customers, known, n=PRECOMPUTED, similar=50, explain=0, content=content)
    rng = np.random.default_rng(seed)
    newcomers = window[~window["customer"].isin(set(customers)) & window["sku"].isin(set(known))]
    people, session, truth = _sessions(newcomers, known, rng)
    if people:
        result["new_customers_task"] = {
            "customers": len(people),
            "recall@20": {
                "popularity (served list)": _recall(np.tile(popularity, (len(people), 1)), truth, session),
                **{
                    f"blend w={w}": _recall(session_scores(graph, content, session, weight=w), truth, session)
                    for w in WEIGHTS
                },
                **{
                    f"{SERVED} w={w}": _recall(_served(artifact, known, session, popularity, w), truth, session)
                    for w in WEIGHTS[1:]  # weight 0 would leave the graph out
                },
            },
        }
    regulars = window[window["customer"].isin(set(customers)) & window["sku"].isin(set(known))]
    people, session, truth = _sessions(regulars, known, rng, bought=train, customers=customers)
    if people:
        at = {c: n for n, c in enumerate(customers)}
        seen = session + train[[at[c] for c in people]]  # neither the session nor what they had before
        listed = np.zeros(session.shape)
        for row, customer in enumerate(people):
            for ranked in artifact.recommend(customer, PRECOMPUTED):
                listed[row, artifact.item_index[ranked.item]] = 1.0 + ranked.score / (1.0 + abs(ranked.score))
        result["known_customers_task"] = {
            "customers": len(people),
            "recall@20": {
                "their precomputed list (served before)": _recall(listed, truth, seen),
                SERVED_KNOWN: _recall(_served(artifact, known, session, listed, 1.0), truth, seen),
                "the session folded in with content first, then their list": _recall(
                    _served(artifact, known, session, listed, FOLD_IN_GRAPH_WEIGHT), truth, seen
                ),
                "the same, at most 10 from the session": _recall(
                    _served(artifact, known, session, listed, FOLD_IN_GRAPH_WEIGHT, K // 2), truth, seen
                ),
            },
        }
    return result


def _sessions(
    frame: pd.DataFrame,
    known: list[str],
    rng: np.random.Generator,
    *,
    bought: sp.csr_matrix | None = None,
    customers: list[str] | None = None,
) -> tuple[list[str], sp.csr_matrix, sp.csr_matrix]:
    """Each customer's first order in ``frame`` with at least four products (not among those they had
    before, ``bought``: rows of ``customers``), in a seeded random order: the first half is the session, the
    rest the target. Returns the customers and both as matrices over ``known``."""
    first_orders = frame.sort_values("at").groupby("customer")["invoice"].first()
    at = {c: n for n, c in enumerate(customers or [])}
    sessions, targets = [], []
    for customer, invoice in first_orders.items():
        items = sorted(frame[(frame["customer"] == customer) & (frame["invoice"] == invoice)]["sku"].unique())
        if bought is not None:
            before = {known[i] for i in bought[at[customer]].indices}
            items = [i for i in items if i not in before]
        if len(items) < 4:
            continue
        items = list(rng.permutation(items))
        half = len(items) // 2
        sessions += [(customer, s) for s in items[:half]]
        targets += [(customer, s) for s in items[half:]]
    people = sorted({c for c, _ in sessions})
    columns = ["customer", "sku"]
    return (
        people,
        _matrix(pd.DataFrame(sessions, columns=columns), people, known),
        _matrix(pd.DataFrame(targets, columns=columns), people, known),
    )


#: New products ranked for a customer as GraphQL serves them (``newArrivals``), at each weight of the graph.
SERVED_NEW = "served: through the customer's best 100 and own products, and content,"
#: A new product's similar products as GraphQL serves them (``source: CONTENT``).
SERVED_CONTENT = "served: the known products most like it by content (title words, category, price band)"
#: A known customer's list as GraphQL serves it once they have done something since the training.
SERVED_KNOWN = "served: the session folded into the graph first (ACTIVITY), then their precomputed list"
#: The new customers' candidate GraphQL serves (``source: ACTIVITY``, then ``POPULAR``), at each weight of
#: the graph beside the content profile (``ServingArtifact.fold_in``).
SERVED = "served: the session folded in through each product's 50 similar products and content, then popular,"


def _served(
    artifact: Any, known: list[str], session: sp.csr_matrix, after: Any, graph_weight: float, first: int = K
) -> np.ndarray:
    """Scores that rank as the served path does: the serving artifact's fold-in of each session
    (``ServingArtifact.fold_in``, its ``first`` best) first, then ``after`` (the popular products, or the
    customer's own list: a row of scores each, ranked below every folded-in product)."""
    after = np.asarray(after, dtype=np.float64)
    scores = np.tile(after, (session.shape[0], 1)) if after.ndim == 1 else after.copy()
    scores /= max(float(np.abs(scores).max()), 1e-12) * 2.0  # below 1: under every folded-in product
    for row in range(session.shape[0]):
        own = {known[i]: float(w) for i, w in zip(session[row].indices, session[row].data)}
        for ranked in artifact.fold_in(own, first, graph_weight=graph_weight):
            scores[row, artifact.item_index[ranked.item]] = 1.0 + ranked.score
    return scores


def run(path: Path, *, weeks: int = 4, model: str = "bspm", parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """The benchmark: the blend's weight chosen on the validation window, measured on the test window."""
    from .ranking import build

    started = time.perf_counter()
    sales, products = read_sales(path)
    if sales.empty:
        raise ValueError(f"{path}: no sales of known customers")
    end = sales["at"].max() + pd.Timedelta(seconds=1)
    test_start = end - pd.Timedelta(weeks=weeks)
    validation_start = test_start - pd.Timedelta(weeks=weeks)
    parameters = parameters or {}
    validation = evaluate_window(sales, products, validation_start, test_start, build(model, **parameters))
    test = evaluate_window(sales, products, test_start, end, build(model, **parameters))
    report: dict[str, Any] = {
        "data": str(path),
        "graph_model": model,
        "weeks": weeks,
        "validation": validation,
        "test": test,
    }
    for task in ("new_products_task", "new_customers_task"):
        if task not in validation or task not in test:
            continue
        chosen = max(WEIGHTS, key=lambda w: validation[task]["recall@20"][f"blend w={w}"])
        figures = test[task]["recall@20"]
        blend = figures[f"blend w={chosen}"]
        report[task.removesuffix("_task")] = {
            "weight_chosen_on_validation": chosen,
            "blend_recall@20": blend,
            "popularity_recall@20": figures["popularity (served list)"],
            "beats_popularity": blend > figures["popularity (served list)"],
        }
    if "new_products" in report:  # what GraphQL serves (``newArrivals``), its graph weight chosen the same way
        served = validation["new_products_task"]["recall@20"]
        chosen = max(WEIGHTS, key=lambda w: served[f"{SERVED_NEW} w={w}"])
        report["new_products"]["served_graph_weight_chosen_on_validation"] = chosen
        report["new_products"]["served_recall@20"] = test["new_products_task"]["recall@20"][f"{SERVED_NEW} w={chosen}"]
    if "new_customers" in report:  # what GraphQL serves them, its graph weight chosen the same way
        served = validation["new_customers_task"]["recall@20"]
        chosen = max(WEIGHTS[1:], key=lambda w: served[f"{SERVED} w={w}"])
        report["new_customers"]["served_graph_weight_chosen_on_validation"] = chosen
        report["new_customers"]["served_recall@20"] = test["new_customers_task"]["recall@20"][f"{SERVED} w={chosen}"]
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report
