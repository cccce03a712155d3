"""Demand history: units sold per SKU (and warehouse) per day, with stock-out days marked.

A day on which the stock item had nothing available at some moment is *censored*:
what sold that day is a lower bound of the demand, not the demand. Forecasting
leaves such days out (see ``forecast.impute_censored``).

Two sources: the read models (``daily_demand`` net of cancellations and returns,
and this engine's ``stock_days``), and an Online Retail CSV file (for the offline
evaluation of a user's own data: ``storewise bench inventory``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class DemandHistory:
    """Daily demand in long form: one row per series (``unique_id``: SKU, or ``SKU@warehouse``) and day.

    ``frame`` columns: ``unique_id``, ``ds`` (day, as a pandas Timestamp), ``y`` (net units,
    never below zero), ``censored`` (bool) and ``revenue``. Every series has a row for each
    day from its first sale to ``end`` (days without sales are zeros).
    """

    frame: pd.DataFrame

    @property
    def series(self) -> list[str]:
        return list(self.frame["unique_id"].unique())

    @property
    def end(self) -> pd.Timestamp:
        return self.frame["ds"].max()

    def top_by_revenue(self, n: int) -> list[str]:
        """The ``n`` series with the most revenue (ties by name, so the choice is stable)."""
        revenue = self.frame.groupby("unique_id")["revenue"].sum().reset_index()
        revenue = revenue.sort_values(["revenue", "unique_id"], ascending=[False, True])
        return list(revenue["unique_id"].head(n))

    def only(self, series: list[str]) -> DemandHistory:
        return DemandHistory(self.frame[self.frame["unique_id"].isin(series)].reset_index(drop=True))

    def until(self, last_day: Any) -> DemandHistory:
        """The history up to and including ``last_day``."""
        return DemandHistory(self.frame[self.frame["ds"] <= pd.Timestamp(last_day)].reset_index(drop=True))

    def between(self, first_day: Any, last_day: Any) -> DemandHistory:
        f = self.frame
        return DemandHistory(
            f[(f["ds"] >= pd.Timestamp(first_day)) & (f["ds"] <= pd.Timestamp(last_day))].reset_index(drop=True)
        )


def series_id(sku: str, warehouse: str) -> str:
    """The name of the demand series of a SKU at a warehouse."""
    return f"{sku}@{warehouse}"


def complete_days(daily: pd.DataFrame, start: Any = None, end: Any = None) -> DemandHistory:
    """From rows (unique_id, ds, y[, revenue, censored]) to a history with every day of each series
    (from its first day, or ``start``, to ``end``); missing days are zero sales, not censored."""
    daily = daily.copy()
    daily["ds"] = pd.to_datetime(daily["ds"])
    for column, default in (("revenue", 0.0), ("censored", False)):
        if column not in daily:
            daily[column] = default
    end = pd.Timestamp(end) if end is not None else daily["ds"].max()
    daily = daily[daily["ds"] <= end]
    first = daily.groupby("unique_id")["ds"].min()
    if start is not None:
        first = first.clip(lower=pd.Timestamp(start))
    frames = []
    for uid, begin in first.items():
        frames.append(pd.DataFrame({"unique_id": uid, "ds": pd.date_range(begin, end, freq="D")}))
    grid = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["unique_id", "ds"])
    merged = grid.merge(daily, on=["unique_id", "ds"], how="left")
    merged["y"] = merged["y"].fillna(0).clip(lower=0).astype(float)
    merged["revenue"] = merged["revenue"].fillna(0).astype(float)
    merged["censored"] = merged["censored"].astype("boolean").fillna(False).astype(bool)
    return DemandHistory(merged.sort_values(["unique_id", "ds"]).reset_index(drop=True))


def _read_csv(path: str | Path, columns: list[str]) -> pd.DataFrame:
    """Columns of an Online Retail CSV, plain or gzipped (told apart by content, not name)."""
    path = Path(path)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener: Any = gzip.open if gzipped else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return pd.read_csv(handle, dtype={"InvoiceNo": str, "StockCode": str}, usecols=columns)


def read_online_retail(path: str | Path) -> pd.DataFrame:
    """Invoice lines of an Online Retail CSV (plain or gzipped) as daily net units and revenue per SKU.

    Cancellations (invoice numbers starting with ``C``) subtract on the day they happen;
    a day's net is not allowed below zero. Stock codes are upper-cased (the file spells
    some both ways); non-product codes (postage, manual, bank charges...) are left out.
    """
    frame = _read_csv(path, ["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice"])
    frame["StockCode"] = frame["StockCode"].str.strip().str.upper()
    frame = frame[frame["StockCode"].str.match(r"^\d{5}")]  # products have 5-digit codes; POST, M, DOT... do not
    frame["ds"] = pd.to_datetime(frame["InvoiceDate"]).dt.normalize()
    frame["revenue"] = frame["Quantity"] * frame["UnitPrice"]
    daily = frame.groupby(["StockCode", "ds"], as_index=False).agg(y=("Quantity", "sum"), revenue=("revenue", "sum"))
    daily = daily.rename(columns={"StockCode": "unique_id"})
    daily["y"] = daily["y"].clip(lower=0)
    return daily


def unit_prices(path: str | Path) -> dict[str, float]:
    """The most frequent positive unit price of each SKU in an Online Retail file."""
    frame = _read_csv(path, ["StockCode", "UnitPrice", "Quantity"])
    frame["StockCode"] = frame["StockCode"].str.strip().str.upper()
    frame = frame[(frame["UnitPrice"] > 0) & (frame["Quantity"] > 0)]
    return frame.groupby("StockCode")["UnitPrice"].agg(lambda s: float(s.mode().iloc[0])).to_dict()


def history_from_rows(demand_rows: list[Any], stock_day_rows: list[Any], end: date) -> DemandHistory:
    """A history from read-model rows: ``daily_demand`` (sku, warehouse, day, net_units, revenue)
    and ``stock_days`` (sku, warehouse, day, min_available, closing_available).

    A day is censored if the stock item had nothing available at some moment of it, or
    had no stock movement at all and started it with nothing available (the last closing
    balance before it was zero or less). Series are per SKU and warehouse (``SKU@warehouse``).
    """
    uid = series_id
    daily = pd.DataFrame(
        [
            {
                "unique_id": uid(r.sku, r.warehouse),
                "ds": pd.Timestamp(r.day),
                "y": float(r.net_units),
                "revenue": float(r.revenue),
            }
            for r in demand_rows
        ],
        columns=["unique_id", "ds", "y", "revenue"],
    )
    history = complete_days(daily, end=end)
    if not stock_day_rows or history.frame.empty:
        return history
    stock = pd.DataFrame(
        [
            {
                "unique_id": uid(r.sku, r.warehouse),
                "ds": pd.Timestamp(r.day),
                "min_available": r.min_available,
                "closing_available": r.closing_available,
            }
            for r in stock_day_rows
        ]
    )
    frame = history.frame.merge(stock, on=["unique_id", "ds"], how="left")
    frame = frame.sort_values(["unique_id", "ds"])
    # The balance a day starts with is the previous closing balance, carried over days without movements.
    opening = frame.groupby("unique_id")["closing_available"].transform(lambda s: s.shift(1).ffill())
    stocked_out = frame["min_available"].le(0).fillna(False)
    started_empty = opening.le(0).fillna(False) & frame["min_available"].isna()
    frame["censored"] = (stocked_out | started_empty).astype(bool)
    return DemandHistory(frame[["unique_id", "ds", "y", "revenue", "censored"]].reset_index(drop=True))
