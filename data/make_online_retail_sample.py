"""Cut the demo sample ``online-retail-sample.csv.gz`` from the shared Online Retail file.

Run from the repository root: ``python data/make_online_retail_sample.py [SOURCE] [--share 10]``.
The selection is deterministic (hashes of the file's own identifiers); data/README.md says how.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
from pathlib import Path

SOURCE = Path("../shared/data/online-retail/online_retail_2010-12-01_2011-09-30.csv.gz")
OUTPUT = Path("data/online-retail-sample.csv.gz")
FIRST, LAST = "2011-01", "2011-05"  # months kept, inclusive
GUEST_SALES, GUEST_OTHERS, GUEST_MAX_LINES = 10, 6, 40


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


def _month(invoice_date: str) -> str:
    return invoice_date[:7]  # the file's dates are ISO: "2011-05-01 08:30:00"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("source", nargs="?", type=Path, default=SOURCE)
    parser.add_argument("--share", type=int, default=10, help="percent of the customers kept (default 10)")
    args = parser.parse_args()
    with gzip.open(args.source, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if FIRST <= _month(row[4]) <= LAST]
    kept_customers = {
        row[6] for row in rows if row[6] and not row[0].startswith("C") and _hash(row[6]) % 100 < args.share
    }
    guests: dict[str, list[list[str]]] = {}
    for row in rows:
        if not row[6]:
            guests.setdefault(row[0], []).append(row)
    small = sorted((n for n, lines in guests.items() if len(lines) <= GUEST_MAX_LINES), key=_hash)
    sales = [n for n in small if all(float(r[5] or 0) > 0 for r in guests[n])][:GUEST_SALES]
    others = [n for n in small if n not in sales and any(float(r[5] or 0) == 0 for r in guests[n])][:GUEST_OTHERS]
    kept_guests = set(sales) | set(others)
    kept = [row for row in rows if row[6] in kept_customers or row[0] in kept_guests]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(kept)
    with gzip.GzipFile(OUTPUT, "wb", mtime=0) as target:  # mtime 0: the same bytes every time
        target.write(out.getvalue().encode())
    invoices = {row[0] for row in kept}
    print(f"{OUTPUT}: {len(kept)} rows, {len(invoices)} invoices, {len(kept_customers)} customers, {FIRST}..{LAST}")


if __name__ == "__main__":
    main()
