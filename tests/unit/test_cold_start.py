"""Cold start on a catalog of two product families: new products reach the customers of their family
through content, and a new customer's session folded into the graph filter finds their family."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from infrastructure.recommender.content import ContentModel, new_product_scores, session_scores
from infrastructure.recommender.ranking import build

KITCHEN = ["RED HEART MUG", "BLUE HEART MUG", "HEART TEAPOT", "HEART CAKESTAND", "SPOTTY MUG", "TEAPOT COSY"]
GARDEN = ["GARDEN SPADE", "GARDEN TROWEL", "WATERING CAN", "GARDEN GLOVES", "FLOWER POT", "SEED TIN"]
TITLES = KITCHEN + GARDEN
CATEGORIES = ["Kitchen"] * 6 + ["Garden"] * 6
PRICES = [2.5] * 12  # one price band: the families differ in words and category only


def purchases(seed: int = 0) -> sp.csr_matrix:
    """20 customers: the first ten buy kitchen products, the others garden products."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for customer in range(20):
        family = 0 if customer < 10 else 6
        for product in rng.choice(6, size=3, replace=False):
            rows.append(customer)
            cols.append(family + product)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(20, 12))


def test_new_products_reach_the_customers_of_their_family() -> None:
    r = purchases()
    content = ContentModel().fit(TITLES, CATEGORIES, PRICES)
    graph = build("bspm", rank=4).fit(r)
    new = content.transform(["HEART MUG GIFT SET", "GARDEN SPADE SET"], ["Kitchen", "Garden"], [3.0, 6.0])
    for weight in (0.0, 0.5, 1.0):
        scores = new_product_scores(graph.scores(r), content, r, new, weight=weight)
        assert (scores[:10, 0] > scores[:10, 1]).all() and (scores[10:, 1] > scores[10:, 0]).all(), weight


def test_a_new_customers_session_finds_their_family() -> None:
    r = purchases()
    content = ContentModel().fit(TITLES, CATEGORIES, PRICES)
    graph = build("bspm", rank=4).fit(r)
    session = sp.csr_matrix(([1.0, 1.0], ([0, 0], [7, 9])), shape=(1, 12))  # trowel and gloves, no history
    for weight in (0.0, 0.5, 1.0):
        scores = session_scores(graph, content, session, weight=weight)[0]
        scores[[7, 9]] = -np.inf
        assert set(np.argsort(-scores)[:4]) <= set(range(6, 12)), weight


def test_content_documents_carry_category_and_price_band() -> None:
    content = ContentModel().fit(TITLES, CATEGORIES, PRICES)
    [doc] = content.documents(["Heart Mug"], ["Mugs & cups"], [100.0])
    assert doc == f"Heart Mug zcatmugscups zband{content.bands - 1}"
    similarity = (content.vectors @ content.vectors.T).toarray()
    assert similarity[0, 1] > similarity[0, 6]  # two heart mugs are closer than a mug and a spade
    dearer = ContentModel().fit(TITLES, CATEGORIES, [float(p) for p in range(1, 13)])
    assert dearer.documents(["x"], ["Kitchen"], [0.5])[0].endswith("zband0")
    assert dearer.documents(["x"], ["Kitchen"], [50.0])[0].endswith(f"zband{dearer.bands - 1}")
