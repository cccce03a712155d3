"""Sample reviews for the demo shop: the Online Retail data has none, so ``storewise reviews demo``
submits reviews from ``data/reviews-sample/demo-reviews.csv`` (real review texts, see its README)
to a few catalog products, spread over the past months. Re-running adds nothing (idempotency keys)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DEMO_FILE = Path("data/reviews-sample/demo-reviews.csv")


def submit_demo_reviews(
    storewise: Any, *, count: int = 60, products_reviewed: int = 8, path: Path = DEMO_FILE
) -> dict[str, Any]:
    from projections.tables import products

    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))[:count]
    read_side = storewise.read_side
    read_side.run_until_idle(["catalog"])  # the products just imported
    with read_side.engine.connect() as connection:
        product_ids = list(
            connection.execute(
                sa.select(products.c.id)
                .where(products.c.is_published)
                .order_by(products.c.sku)
                .limit(products_reviewed)
            ).scalars()
        )
    if not product_ids:
        raise ValueError(
            "no published product to review: import the demo data first (`storewise import online-retail ...`)"
        )
    now = datetime.now(UTC).replace(microsecond=0)
    ids = []
    for n, row in enumerate(rows):
        ids.append(
            storewise.feedback.submit_review(
                product_ids[n % len(product_ids)],
                None,
                int(row["rating"]),
                row["text"],
                row["language"],
                at=now - timedelta(days=3 * (len(rows) - n)),
                idempotency_key=f"demo-review:{n}",
            )
        )
    reviewed = len({product_ids[n % len(product_ids)] for n in range(len(rows))})
    return {"reviews": len(ids), "products": reviewed, "analysed": storewise.feedback.analyser() is not None}
