"""Cut this sample from ../shared/data/reviews (see README.md here): rows chosen by the lowest
sha256 of their text within each label, copied field for field; run from the project root."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from pathlib import Path

SOURCE = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/reviews")
TARGET = Path(__file__).parent


def _key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _pick(rows: list, text_of, label_of, per_label: dict) -> list:
    chosen = []
    for label, n in per_label.items():
        group = sorted((r for r in rows if label_of(r) == label), key=lambda r: _key(text_of(r)))
        chosen.extend(group[:n])
    return sorted(chosen, key=lambda r: _key(text_of(r)))


def _write(path: Path, header: list, rows: list, delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=delimiter,
        lineterminator="\n",
        quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE,
        escapechar=None if delimiter == "," else "\\",
    )
    writer.writerow(header)
    writer.writerows(rows)
    with gzip.GzipFile(path, "wb", mtime=0) as file:
        file.write(buffer.getvalue().encode())


def main() -> None:
    with gzip.open(SOURCE / "en/womens_clothing_ecommerce_reviews.csv.gz", "rt", encoding="utf-8") as file:
        reader = csv.reader(file)
        header = next(reader)
        rows = [r for r in reader if r[4].strip()]
    en = _pick(rows, lambda r: r[4], lambda r: r[5], {"1": 70, "2": 70, "3": 80, "4": 80, "5": 100})
    _write(TARGET / "en/womens_clothing_ecommerce_reviews.csv.gz", header, en)

    with gzip.open(SOURCE / "en/multi_domain_amazon_reviews.csv.gz", "rt", encoding="utf-8") as file:
        reader = csv.reader(file)
        amazon_header = next(reader)
        amazon = [r for r in reader if len(r) == 5 and r[4].strip() and len(r[4]) < 1000]
    amazon = _pick(
        amazon,
        lambda r: r[4],
        lambda r: (r[0], r[2]),
        {(d, y): 25 for d in ("books", "dvd", "electronics", "kitchen_and_housewares") for y in "01"},
    )
    _write(TARGET / "en/multi_domain_amazon_reviews.csv.gz", amazon_header, amazon)

    def tsv(name: str) -> list:
        with gzip.open(SOURCE / f"zh/chnsenticorp/{name}.tsv.gz", "rt", encoding="utf-8") as file:
            lines = file.read().splitlines()
        return [line.split("\t", 1) for line in lines[1:] if "\t" in line and "\t" not in line.split("\t", 1)[1]]

    dev = tsv("dev")
    dev_texts = {t for _, t in dev}
    train = [r for r in tsv("train") if r[1] not in dev_texts]
    for name, rows, n in (("train", train, 150), ("dev", dev, 50)):
        picked = _pick(rows, lambda r: r[1], lambda r: r[0], {"0": n, "1": n})
        path = TARGET / f"zh/chnsenticorp/{name}.tsv.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(path, "wb", mtime=0) as file:
            file.write(("label\ttext_a\n" + "".join(f"{label}\t{text}\n" for label, text in picked)).encode())

    with gzip.open(SOURCE / "zh/online_shopping_10_cats.csv.gz", "rt", encoding="utf-8") as file:
        reader = csv.reader(file)
        shop_header = next(reader)
        shop = [r for r in reader if len(r) == 3 and r[2].strip() and r[2] not in dev_texts and len(r[2]) < 300]
    picked = _pick(shop, lambda r: r[2], lambda r: r[1], {"0": 100, "1": 100})
    _write(TARGET / "zh/online_shopping_10_cats.csv.gz", shop_header, picked)

    # Demo reviews for `storewise reviews demo`: short ones, both languages, every rating.
    demo = []
    for row in _pick(
        [r for r in en if len(r[4]) < 400], lambda r: r[4], lambda r: r[5], {"1": 6, "2": 6, "3": 6, "4": 8, "5": 10}
    ):
        demo.append([row[4], row[5], "en"])
    for row in _pick([r for r in picked if len(r[2]) < 150], lambda r: r[2], lambda r: r[1], {"0": 12, "1": 12}):
        demo.append([row[2], "5" if row[1] == "1" else "1", "zh"])
    with open(TARGET / "demo-reviews.csv", "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["text", "rating", "language"])
        writer.writerows(sorted(demo, key=lambda r: _key(r[0])))


if __name__ == "__main__":
    main()
