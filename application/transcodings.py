"""How the domain's value objects are written into stored events (JSON)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.customer import OrderLine, ReturnLine
from domain.inventory import AllocatedLine, PurchaseLine, SupplierTerms
from domain.marketing import AllocationLine, CustomerScore, ResponseCurve, RfmScore
from domain.replenishment import ForecastSummary, LineEdit, PlanLine
from domain.shared import Money


class MoneyAsPair(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> list[str]:
        return [str(obj.amount), obj.currency]

    def decode(self, data: list[str]) -> Money:
        return Money(Decimal(data[0]), data[1])


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def _dataclass_transcoding(cls: type, name: str) -> Transcoding:
    """A transcoding that writes a frozen dataclass as a dict of its fields."""
    names = [f.name for f in fields(cls)]

    class DataclassAsDict(Transcoding):
        type = cls

        def encode(self, obj: Any) -> dict[str, Any]:
            return {n: getattr(obj, n) for n in names}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    DataclassAsDict.name = name
    return DataclassAsDict()


def register_domain_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every value object that domain events carry."""
    transcoder.register(MoneyAsPair())
    transcoder.register(DateAsISO())
    for cls, name in (
        (OrderLine, "order_line"),
        (ReturnLine, "return_line"),
        (SupplierTerms, "supplier_terms"),
        (PurchaseLine, "purchase_line"),
        (AllocatedLine, "allocated_line"),
        (RfmScore, "rfm_score"),
        (ResponseCurve, "response_curve"),
        (AllocationLine, "allocation_line"),
        (ForecastSummary, "forecast_summary"),
        (PlanLine, "plan_line"),
        (LineEdit, "line_edit"),
        (CustomerScore, "customer_score"),
    ):
        transcoder.register(_dataclass_transcoding(cls, name))
