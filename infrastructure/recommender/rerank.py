"""A graph neural network that re-ranks the graph filter's top 100 with side information, and its
benchmark on Online Retail-format data (``storewise bench rerank``).

The filter sees only who bought what. The re-ranker adds what the shop also knows: each product's
category, price and how its sales move (the last 14 / 28 / 91 days against the whole history, its
age, the days since it last sold), each customer's recency, orders and price level, and the
filter's scores of the customer's last 90 days alone (the recency of their interactions). A
bipartite graph network (torch-geometric ``GraphConv``, mean aggregation, customers <-> products, two
hops; each edge weighted by how recently the customer last bought the product) turns the
products' side information and the purchase graph into customer and product embeddings; an MLP
scores each (customer, candidate) pair from their product and the pair's features.

Time is what it is trained on: the history is cut into windows of ``weeks``; for each window the
filter is fitted on the sales before it, and the re-ranker learns which of each customer's 100
candidates they bought for the first time in the window. The benchmark scores each of the last
two windows with a model trained on the windows before it only (later months, as the shop meets
them), beside the filter alone, gradient-boosted trees on the same pair features, and the same
network without message passing (what the graph adds).

Serving (``rerank_shop``, at each ``train recommender``): the same windows carved from the shop's dated
purchases; the re-ranker trained on all but the last is compared with the filter on the last, and only
if it finds more of what was bought there is it trained on every window and used to re-order each
customer's candidates as of now: it serves when it wins.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .metrics import ranking_metrics

CANDIDATES = 100
K = 20
#: The pair features, in column order (``cat`` is the trees' categorical; the network reads categories
#: from the product nodes instead).
FEATURES = (
    "score",  # the filter's score
    "rank",  # the candidate's place in the filter's list
    "score_share",  # the score over the customer's best candidate's
    "recent_score",  # the filter's score of the customer's last 90 days alone
    "sold_ever",  # log(1 + customers who bought the product), all history
    "sold_14",
    "sold_28",
    "sold_91",  # the same over the last 14 / 28 / 91 days
    "trend",  # log of the last 28 days' rate over the last 91 days'
    "age",  # days since the product first sold
    "since_sold",  # days since it last sold
    "log_price",
    "price_gap",  # |log price - the customer's mean log price|
    "category_share",  # the share of the customer's products in the candidate's category
    "cat",
    "customer_recency",  # days since the customer's last purchase
    "customer_orders",
    "customer_products",
)
#: Why the re-ranker put a product up for a customer, each reason the pair features it sums and the side of
#: the average the first of them must lie on for the phrase to be true (+1 above, -1 below).
REASONS = (
    ("like the customer's purchases", ("score", "rank", "score_share"), 1),
    ("like the customer's recent purchases", ("recent_score",), 1),
    ("selling to many customers lately", ("sold_28", "sold_14", "sold_91"), 1),
    ("a best seller", ("sold_ever",), 1),
    ("sales rising", ("trend",), 1),
    ("new in the shop", ("age",), -1),
    ("sold in the last few days", ("since_sold",), -1),
    ("at the customer's usual prices", ("price_gap",), -1),
    ("in a category the customer buys often", ("category_share",), 1),
)
#: The graph's part of the score (what message passing adds).
GRAPH_REASON = "bought by customers who buy alike"
_LOGGED = {
    "score",
    "recent_score",
    "age",
    "since_sold",
    "customer_recency",
    "customer_orders",
    "customer_products",
    "rank",
}
RECENT_DAYS = 90
#: An edge of the purchase graph weighs exp(-days since the customer last bought the product / EDGE_DAYS).
EDGE_DAYS = 30
#: Windows the shop's training reads: the last validates, at least two before it train.
SHOP_WINDOWS, MIN_WINDOWS = 6, 3


@dataclass
class Window:
    """One window: the filter's candidates for the customers who bought a product new to them in it."""

    start: pd.Timestamp
    features: np.ndarray  # (customers x CANDIDATES) x FEATURES
    labels: np.ndarray  # 1 where the customer bought the candidate in the window
    candidates: np.ndarray  # customers x CANDIDATES product columns, the filter's order
    customers: np.ndarray  # rows of ``graph``
    customer_ids: list[str]  # every row of ``graph``
    product_ids: list[str]  # every column of ``graph``
    truth: sp.csr_matrix  # customers x products bought new in the window (all, not only candidates)
    graph: sp.csr_matrix  # every customer x every known product, bought before the window
    edge_weights: sp.csr_matrix  # the graph's edges weighted exp(-days since the last purchase / EDGE_DAYS)
    product_features: np.ndarray  # products x (categories one-hot, log price, sales, age)
    filter_seconds: float


def _matrix(pairs: pd.DataFrame, rows: dict[str, int], cols: dict[str, int]) -> sp.csr_matrix:
    pairs = pairs[pairs["customer"].isin(rows) & pairs["sku"].isin(cols)].drop_duplicates(["customer", "sku"])
    return sp.csr_matrix(
        (np.ones(len(pairs), np.float32), (pairs["customer"].map(rows), pairs["sku"].map(cols))),
        shape=(len(rows), len(cols)),
    )


def window(
    sales: pd.DataFrame,
    products: pd.DataFrame,
    start: pd.Timestamp,
    weeks: int,
    graph_model: Any,
    categories: list[str],
    *,
    every_customer: bool = False,
) -> Window | None:
    """The window of ``weeks`` from ``start``: everything but its labels read from the sales before it.
    Its customers: those who bought a product new to them in it, or (``every_customer``: the window to
    serve) every customer with a purchase before it. None where there is nobody to rank."""
    before = sales[sales["at"] < start]
    inside = sales[(sales["at"] >= start) & (sales["at"] < start + pd.Timedelta(weeks=weeks))]
    first_sold = before.groupby("sku")["at"].min()
    known = sorted(first_sold.index)
    customer_ids = sorted(before["customer"].unique())
    rows = {c: n for n, c in enumerate(customer_ids)}
    cols = {s: n for n, s in enumerate(known)}
    graph = _matrix(before, rows, cols)
    last = before.groupby(["customer", "sku"], sort=False)["at"].max().reset_index()
    edge_weights = sp.csr_matrix(
        (
            np.exp(-(start - last["at"]).dt.days.to_numpy(dtype=float) / EDGE_DAYS).astype(np.float32),
            (last["customer"].map(rows), last["sku"].map(cols)),
        ),
        shape=graph.shape,
    )
    truth = _matrix(inside, rows, cols)
    truth = (truth - truth.multiply(graph)).tocsr()
    truth.eliminate_zeros()
    customers = np.arange(len(customer_ids)) if every_customer else np.flatnonzero(np.diff(truth.indptr) > 0)
    n = min(CANDIDATES, graph.shape[1] - int(np.diff(graph.indptr).max(initial=0)))  # none already bought
    if len(customers) == 0 or n < 1:
        return None

    started = time.perf_counter()
    model = graph_model.fit(graph)
    scores = model.scores(graph[customers])
    scores[graph[customers].nonzero()] = -np.inf
    candidates = np.argsort(-scores, axis=1, kind="stable")[:, :n]
    score = np.take_along_axis(scores, candidates, 1)
    recent = _matrix(before[before["at"] >= start - pd.Timedelta(days=RECENT_DAYS)], rows, cols)
    recent_score = np.take_along_axis(model.scores(recent[customers]), candidates, 1)
    filter_seconds = time.perf_counter() - started

    def sold(days: int | None) -> np.ndarray:
        part = before if days is None else before[before["at"] >= start - pd.Timedelta(days=days)]
        buyers = part.drop_duplicates(["customer", "sku"]).groupby("sku").size()
        return np.log1p(buyers.reindex(known).fillna(0).to_numpy())

    sold_ever, sold_14, sold_28, sold_91 = sold(None), sold(14), sold(28), sold(91)
    age = (start - first_sold.reindex(known)).dt.days.to_numpy(dtype=float)
    since_sold = (start - before.groupby("sku")["at"].max().reindex(known)).dt.days.to_numpy(dtype=float)
    meta = products.reindex(known)
    category = pd.Categorical(meta["category"], categories=categories).codes
    prices = meta["price"].fillna(meta["price"].median())
    log_price = np.log(prices.clip(lower=0.01).to_numpy(dtype=float))
    products_bought = np.diff(graph.indptr)
    shares = np.zeros((len(customer_ids), len(categories)))
    edges = graph.tocoo()
    np.add.at(shares, (edges.row, category[edges.col]), 1)
    shares /= np.maximum(shares.sum(axis=1, keepdims=True), 1)
    mean_log_price = (graph @ log_price) / np.maximum(products_bought, 1)
    by_customer = before.groupby("customer")
    recency = (start - by_customer["at"].max()).dt.days.reindex(customer_ids).to_numpy(dtype=float)
    orders = by_customer["invoice"].nunique().reindex(customer_ids).to_numpy(dtype=float)

    def per_customer(values: np.ndarray) -> np.ndarray:
        return np.broadcast_to(values[customers][:, None], candidates.shape)

    columns = {
        "score": score,
        "rank": np.broadcast_to(np.arange(n), candidates.shape),
        "score_share": score / np.maximum(score[:, :1], 1e-9),
        "recent_score": recent_score,
        "sold_ever": sold_ever[candidates],
        "sold_14": sold_14[candidates],
        "sold_28": sold_28[candidates],
        "sold_91": sold_91[candidates],
        "trend": sold_28[candidates] - sold_91[candidates] + np.log(91 / 28),
        "age": age[candidates],
        "since_sold": since_sold[candidates],
        "log_price": log_price[candidates],
        "price_gap": np.abs(log_price[candidates] - mean_log_price[customers][:, None]),
        "category_share": shares[customers[:, None], category[candidates]],
        "cat": category[candidates],
        "customer_recency": per_customer(recency),
        "customer_orders": per_customer(orders),
        "customer_products": per_customer(products_bought.astype(float)),
    }
    features = np.stack([np.asarray(columns[name], np.float32).ravel() for name in FEATURES], axis=1)
    labels = np.asarray(truth[customers[:, None], candidates].todense(), dtype=np.float32).ravel()
    product_features = np.column_stack(
        [np.eye(len(categories))[category], log_price, sold_ever, sold_14, sold_28, sold_91, np.log1p(age)]
    ).astype(np.float32)
    return Window(
        start,
        features,
        labels,
        candidates,
        customers,
        customer_ids,
        known,
        truth[customers],
        graph,
        edge_weights,
        product_features,
        filter_seconds,
    )


def recall(window: Window, scores: np.ndarray) -> dict[str, float]:
    """Recall, NDCG and precision at 20 of the candidates re-ordered by ``scores`` (one per candidate),
    against every product the customers bought new in the window."""
    order = np.argsort(-scores.reshape(window.candidates.shape), axis=1, kind="stable")[:, :K]
    top = np.take_along_axis(window.candidates, order, 1)
    figures = ranking_metrics(top, window.truth, np.arange(len(window.customers)), K, window.graph.shape[1])
    return {key: round(float(value), 4) for key, value in figures.items()}


def _recalls(window: Window, scores: np.ndarray) -> np.ndarray:
    """Each customer's Recall@20 of the candidates re-ordered by ``scores``."""
    order = np.argsort(-scores.reshape(window.candidates.shape), axis=1, kind="stable")[:, :K]
    hits = np.take_along_axis(window.labels.reshape(window.candidates.shape), order, 1).sum(axis=1)
    return hits / np.diff(window.truth.indptr)


@dataclass
class GraphReRanker:
    """A bipartite graph network over customers and products (edges weighted by recency), then an MLP over
    (customer ⊙ product, pair features), plus a linear term on the pair features; trained with binary
    cross-entropy on every training window's candidates. ``message_passing=False`` zeroes the graph's part
    (the ablation)."""

    hidden: int = 32
    epochs: int = 120
    learning_rate: float = 3e-3
    weight_decay: float = 1e-5
    message_passing: bool = True
    seed: int = 0

    def hyperparameters(self) -> dict[str, Any]:
        return {
            "model": "gnn-rerank",
            "hidden": self.hidden,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "message_passing": self.message_passing,
            "candidates": CANDIDATES,
        }

    def _pair_columns(self, window: Window) -> np.ndarray:
        keep = [i for i, name in enumerate(FEATURES) if name != "cat"]
        x = window.features[:, keep].astype(np.float64)
        for j, i in enumerate(keep):
            if FEATURES[i] in _LOGGED:
                x[:, j] = np.sign(x[:, j]) * np.log1p(np.abs(x[:, j]))
        return x

    def _inputs(self, window: Window) -> dict[str, Any]:
        import torch

        edges = window.edge_weights.tocoo()
        return {
            "pairs": torch.tensor((self._pair_columns(window) - self.mean) / self.scale, dtype=torch.float32),
            "labels": torch.tensor(window.labels),
            "products": torch.tensor(window.product_features),
            "customers": torch.tensor(np.log1p(np.diff(window.graph.indptr))[:, None], dtype=torch.float32),
            "edges": torch.tensor(np.stack([edges.row, edges.col]), dtype=torch.long),
            "edge_weights": torch.tensor(edges.data, dtype=torch.float32),
            "rows": torch.tensor(window.customers, dtype=torch.long),
            "candidates": torch.tensor(window.candidates, dtype=torch.long),
        }

    def fit(self, windows: list[Window]) -> GraphReRanker:
        import torch

        torch.manual_seed(self.seed)
        stacked = np.concatenate([self._pair_columns(w) for w in windows])
        self.mean, self.scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
        inputs = [self._inputs(w) for w in windows]
        self.network = _network(windows[0].product_features.shape[1], stacked.shape[1], self.hidden)
        self.network.message_passing = self.message_passing
        optimiser = torch.optim.Adam(self.network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        loss = torch.nn.functional.binary_cross_entropy_with_logits
        self.network.train()
        for _ in range(self.epochs):
            for batch in inputs:  # one window a step: each has its own graph
                optimiser.zero_grad()
                loss(self.network(batch), batch["labels"]).backward()
                optimiser.step()
        return self

    def scores(self, window: Window) -> np.ndarray:
        import torch

        self.network.eval()
        with torch.no_grad():
            return self.network(self._inputs(window)).numpy()

    def explained_scores(self, window: Window, top: int = 2) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """The scores, and for each candidate the ``top`` reasons (``REASONS``, ``GRAPH_REASON``) that raised
        its score most: gradient x input, against the average candidate for the pair features (they are
        standardised) and against no message passing for the graph's part; a reason only where it raised
        the score and its phrase is true of the candidate."""
        self.network.eval()
        batch = self._inputs(window)
        pairs = batch["pairs"].requires_grad_(True)
        parts: dict[str, Any] = {}
        scores = self.network(batch, parts)
        scores.sum().backward()  # each score depends on its own row of the pair inputs only
        contributions = (pairs.grad * pairs).detach().numpy()
        values = pairs.detach().numpy()
        columns = [name for name in FEATURES if name != "cat"]
        by_reason = []
        for _, names, side in REASONS:
            summed = contributions[:, [columns.index(n) for n in names]].sum(axis=1)
            by_reason.append(np.where(np.sign(values[:, columns.index(names[0])]) == side, summed, 0.0))
        by_reason.append((parts["pair"].grad * parts["pair"]).sum(dim=1).detach().numpy())
        table = np.stack(by_reason, axis=1)
        phrases = [phrase for phrase, _, _ in REASONS] + [GRAPH_REASON]
        best = np.argsort(-table, axis=1, kind="stable")[:, :top]
        reasons = [
            tuple(phrases[j] for j in row if contribution[j] > 0) for row, contribution in zip(best, table, strict=True)
        ]
        return scores.detach().numpy(), reasons


def _network(product_dim: int, pair_dim: int, hidden: int) -> Any:
    import torch
    from torch_geometric.nn import GraphConv

    class Network(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.product_in = torch.nn.Linear(product_dim, hidden)
            self.customer_in = torch.nn.Linear(1, hidden)
            self.to_customers = GraphConv((hidden, hidden), hidden, aggr="mean")
            self.to_products = GraphConv((hidden, hidden), hidden, aggr="mean")
            self.to_customers_again = GraphConv((hidden, hidden), hidden, aggr="mean")
            self.pair = torch.nn.Sequential(
                torch.nn.Linear(pair_dim + hidden, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1)
            )
            self.linear = torch.nn.Linear(pair_dim, 1)
            self.message_passing = True

        def forward(self, batch: dict[str, Any], parts: dict[str, Any] | None = None) -> Any:
            products = torch.relu(self.product_in(batch["products"]))
            customers = torch.relu(self.customer_in(batch["customers"]))
            bought, bought_by, weights = batch["edges"], batch["edges"].flip(0), batch["edge_weights"]
            customers1 = torch.relu(self.to_customers((products, customers), bought_by, weights))
            products1 = torch.relu(self.to_products((customers, products), bought, weights))
            customers2 = self.to_customers_again((products1, customers1), bought_by, weights)
            pair = customers2[batch["rows"]][:, None, :] * products1[batch["candidates"]]
            pair = pair.reshape(-1, pair.shape[-1])
            if not self.message_passing:
                pair = torch.zeros_like(pair)
            if parts is not None:  # kept for the explanations' gradients
                pair.retain_grad()
                parts["pair"] = pair
            return (self.pair(torch.cat([batch["pairs"], pair], 1)) + self.linear(batch["pairs"])).squeeze(1)

    return Network()


def _trees(windows: list[Window], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=100,
        l2_regularization=1.0,
        categorical_features=[name == "cat" for name in FEATURES],
        random_state=seed,
    ).fit(np.concatenate([w.features for w in windows]), np.concatenate([w.labels for w in windows]))


def run(
    path: Path,
    *,
    weeks: int = 4,
    windows: int = 6,
    model: str = "sgfcf",
    parameters: dict[str, Any] | None = None,
    seeds: int = 3,
    epochs: int = 120,
) -> dict[str, Any]:
    """The benchmark: each of the last two windows scored by re-rankers trained on the windows before it."""
    from .coldstart import read_sales
    from .ranking import build

    if windows < 3:
        raise ValueError("windows must be at least 3 (one to train on, two to test)")
    started = time.perf_counter()
    sales, products = read_sales(path)
    if sales.empty:
        raise ValueError(f"{path}: no sales of known customers")
    end = sales["at"].max() + pd.Timedelta(seconds=1)
    categories = sorted(products["category"].unique())
    starts = [end - pd.Timedelta(weeks=weeks * k) for k in range(windows, 0, -1)]
    if starts[0] <= sales["at"].min():
        raise ValueError(f"{path}: too short for {windows} windows of {weeks} weeks")
    carved = [window(sales, products, s, weeks, build(model, **(parameters or {})), categories) for s in starts]
    if any(w is None for w in carved):
        raise ValueError(f"{path}: a window of {weeks} weeks without a customer buying something new")
    report: dict[str, Any] = {
        "data": str(path),
        "filter": model,
        "weeks": weeks,
        "candidates": CANDIDATES,
        "windows": [
            {"start": str(w.start.date()), "customers": len(w.customers), "new_purchases": int(w.truth.nnz)}
            for w in carved
        ],
        "tests": [],
    }
    for test in (len(carved) - 2, len(carved) - 1):
        train, scored = carved[:test], carved[test]
        rows: dict[str, Any] = {"filter alone": recall(scored, -np.arange(scored.labels.size, dtype=float))}
        clock = time.perf_counter()
        rows["trees on the pair features"] = recall(scored, _trees(train, 0).predict_proba(scored.features)[:, 1])
        seconds = {"trees on the pair features": round(time.perf_counter() - clock, 1)}
        for name, passing in (("gnn re-ranker", True), ("same network, no message passing", False)):
            runs = []
            clock = time.perf_counter()
            for seed in range(seeds):
                reranker = GraphReRanker(epochs=epochs, message_passing=passing, seed=seed).fit(train)
                runs.append(recall(scored, reranker.scores(scored)))
            seconds[name] = round((time.perf_counter() - clock) / seeds, 1)
            rows[name] = {key: round(float(np.mean([r[key] for r in runs])), 4) for key in runs[0]}
            rows[name]["recall@20 by seed"] = [r["recall@20"] for r in runs]
        report["tests"].append(
            {
                "window": str(scored.start.date()),
                "trained_on": [str(w.start.date()) for w in train],
                "figures": rows,
                "training_seconds": seconds,
                "filter_seconds": round(scored.filter_seconds, 1),
            }
        )
    report["hyperparameters"] = GraphReRanker(epochs=epochs).hyperparameters()
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def shop_sales(
    purchases: Sequence[tuple[Any, Any, Any, Any]], catalog: Sequence[tuple[Any, str, str, float | None]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shop's purchases (customer, product, order, placed at) and catalog (product, title, category,
    price) as the frames ``window`` reads (ids as text, instants in UTC)."""
    sales = pd.DataFrame(
        [(str(c), str(o), str(p), at) for c, p, o, at in purchases], columns=["customer", "invoice", "sku", "at"]
    )
    sales["at"] = pd.to_datetime(sales["at"], utc=True).dt.tz_localize(None)
    products = pd.DataFrame(
        [(title, category or "", np.nan if price is None else float(price)) for _, title, category, price in catalog],
        columns=["title", "category", "price"],
        index=[str(p) for p, *_ in catalog],
    )
    return sales, products


@dataclass
class ReRanking:
    """What a training learnt of re-ranking: whether it serves, why, the validation figures of the filter and
    the re-ranker on the last window, and (when it serves) each customer's products, best first, with the
    re-ranker's probability that they buy it and the reasons that raised it most."""

    served: bool
    reason: str
    metrics: dict[str, float]
    hyperparameters: dict[str, Any]
    lists: dict[str, list[tuple[str, float, tuple[str, ...]]]]

    def record(self) -> dict[str, Any]:
        """What the model registry keeps of it."""
        return {**self.hyperparameters, "served": self.served, "reason": self.reason}


def rerank_shop(
    sales: pd.DataFrame,
    products: pd.DataFrame,
    graph_model: Callable[[], Any],
    *,
    weeks: int = 4,
    windows: int = SHOP_WINDOWS,
    epochs: int = 120,
    seed: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> ReRanking:
    """Validate the re-ranker against the filter on the last window of the shop's purchases and, if it
    finds more, re-rank every customer's candidates as of the last purchase (``graph_model`` makes the
    filter, fresh for each window)."""
    reranker = GraphReRanker(epochs=epochs, seed=seed)
    hyperparameters = {**reranker.hyperparameters(), "weeks": weeks}
    if sales.empty:
        return ReRanking(False, "no purchases", {}, hyperparameters, {})
    end = sales["at"].max() + pd.Timedelta(seconds=1)
    categories = sorted(set(products["category"]))
    starts = [end - pd.Timedelta(weeks=weeks * k) for k in range(windows, 0, -1)]
    carved: list[Window] = []
    for start in starts:
        if start > sales["at"].min() and (part := window(sales, products, start, weeks, graph_model(), categories)):
            carved.append(part)
    if len(carved) < MIN_WINDOWS:
        reason = f"{len(carved)} of the last {windows} windows of {weeks} weeks have something to learn from"
        reason += f"; needs {MIN_WINDOWS}"
        return ReRanking(False, reason, {}, hyperparameters, {})
    last = carved[-1]
    scores, in_order = reranker.fit(carved[:-1]).scores(last), -np.arange(last.labels.size, dtype=float)
    figures, baseline = recall(last, scores), recall(last, in_order)
    # Serve only a gain larger than its standard error over the window's customers (paired): one
    # window of a small shop is noisy, and the filter's lists are the safe default.
    gains = _recalls(last, scores) - _recalls(last, in_order)
    gain, error = float(gains.mean()), float(gains.std(ddof=1) / np.sqrt(len(gains))) if len(gains) > 1 else np.inf
    metrics = {
        f"recall@{K}": figures[f"recall@{K}"],
        f"ndcg@{K}": figures[f"ndcg@{K}"],
        f"filter_recall@{K}": baseline[f"recall@{K}"],
        f"filter_ndcg@{K}": baseline[f"ndcg@{K}"],
        f"recall@{K}_gain_standard_error": round(error, 4),
        "customers": float(len(last.customers)),
    }
    found = (
        f"Recall@{K} {figures[f'recall@{K}']:.4f} against the filter's {baseline[f'recall@{K}']:.4f} "
        f"(gain {gain:+.4f}, standard error {error:.4f}) on the {len(last.customers)} customers who bought "
        f"something new from {last.start.date()}"
    )
    progress(f"gnn re-ranker: {found}")
    if not gain - error > 0:
        return ReRanking(False, f"not clearly better than the filter: {found}", metrics, hyperparameters, {})
    final = GraphReRanker(epochs=epochs, seed=seed).fit(carved)
    now = window(sales, products, end, weeks, graph_model(), categories, every_customer=True)
    if now is None:  # some customer has bought every product: no candidates to re-rank
        return ReRanking(False, "no product left to rank for some customer", metrics, hyperparameters, {})
    flat, why = final.explained_scores(now)
    scores = flat.reshape(now.candidates.shape)
    order = np.argsort(-scores, axis=1, kind="stable")
    probabilities = 1 / (1 + np.exp(-np.take_along_axis(scores, order, 1)))
    width = now.candidates.shape[1]
    lists = {
        now.customer_ids[row]: [
            (now.product_ids[now.candidates[n, slot]], float(p), why[n * width + slot])
            for slot, p in zip(order[n], probabilities[n], strict=True)
        ]
        for n, row in enumerate(now.customers)
    }
    return ReRanking(True, f"beat the filter on the last window: {found}", metrics, hyperparameters, lists)
