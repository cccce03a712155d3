"""Stored events read with orjson (``infrastructure.event_mapping.FastDecoder``) decode to exactly
what the library's JSON transcoder gives."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from application.transcodings import register_domain_transcodings
from domain.customer import OrderLine
from domain.shared import Money
from infrastructure.event_mapping import FastDecoder


def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_domain_transcodings(transcoder)
    return transcoder


STATE = {
    "customer_id": uuid.uuid4(),
    "lines": [
        OrderLine(sku="85123A", quantity=2, unit_price=Money(Decimal("2.55"), "GBP")),
        OrderLine(sku="71053", quantity=1, unit_price=Money(Decimal("3.39"), "GBP")),
    ],
    "placed_at": datetime(2011, 1, 2, 3, 4, 5, tzinfo=UTC),
    "day": date(2011, 1, 2),
    "nested": {"ids": [uuid.uuid4(), {"deep": Decimal("1.5")}], "_type_": "just a key"},
    "text": "naïve — 中文",
    "score": 0.125,
    "none": None,
}


def test_the_fast_decoder_reads_what_the_transcoder_wrote():
    t = transcoder()
    data = t.encode(STATE)
    assert FastDecoder(t)(data) == t.decode(data) == STATE


def test_what_orjson_refuses_is_read_by_json():
    t = transcoder()
    decoded = FastDecoder(t)(t.encode({"loss": float("nan"), "id": STATE["customer_id"]}))
    assert math.isnan(decoded["loss"]) and decoded["id"] == STATE["customer_id"]


def test_an_unknown_type_is_refused_as_the_transcoder_does():
    t = transcoder()
    data = b'{"x": {"_type_": "unheard_of", "_data_": 1}}'
    with pytest.raises(TranscodingNotRegisteredError):
        t.decode(data)
    with pytest.raises(TranscodingNotRegisteredError):
        FastDecoder(t)(data)
