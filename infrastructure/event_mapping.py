"""The seam between domain events and stored events.

Beside each event's own fields, the stored state carries:
- ``__meta__``: who caused it and why (event id, actor, correlation and
  causation ids, command, idempotency key), taken from the command context;
- ``__personal__``: the event's personal-data fields (those its class lists in
  ``personal_data``), sealed with the originating customer's own key.

Reading an event back restores its fields; if the customer was forgotten, the
personal-data fields read as ``FORGOTTEN``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    UUIDAsHex,
)
from eventsourcing.utils import get_topic, resolve_topic

from application.context import current_context
from domain.customer import FORGOTTEN as CUSTOMER_FORGOTTEN

from .event_chain import UuidsByText
from .personal_data import KeyStore, PersonalDataVault, PostgresKeyStore, key_store_for

META = "__meta__"
PERSONAL = "__personal__"
#: What a forgotten customer's personal data reads as (the domain's own placeholder).
FORGOTTEN = CUSTOMER_FORGOTTEN


def _originator_id(stored_event: StoredEvent) -> UUID:
    originator_id = stored_event.originator_id
    return originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id))


def _is_iso_datetime(value: Any) -> bool:
    return type(value) is dict and value.get("_type_") == "datetime_iso" and type(value.get("_data_")) is str


class StorewiseMapper(Mapper[UUID]):
    """Adds metadata and seals personal data on the way in; reverses it on the way out."""

    def __init__(self, transcoder: Transcoder, personal_data: PersonalDataVault):
        super().__init__(transcoder)
        self.personal_data = personal_data
        self._decode_state: Callable[[bytes], Any] | None = None

    def _state_decoder(self) -> Callable[[bytes], Any]:
        """The transcoder's decoding, faster where it is a JSONTranscoder (every stored event is
        decoded in a rebuild): one object hook without the method's checks, the common
        transcodings inlined, and UUIDs (an order's id is in each of its stock movements) made once."""
        transcoder = self.transcoder
        if not isinstance(transcoder, JSONTranscoder):
            return transcoder.decode
        names = dict(transcoder.names)
        inline = {
            name
            for name, kind in (("datetime_iso", DatetimeAsISO), ("uuid_hex", UUIDAsHex))
            if type(names.get(name)) is kind
        }
        datetimes, uuid_hex = "datetime_iso" in inline, "uuid_hex" in inline
        fromisoformat = datetime.fromisoformat
        uuids = UuidsByText()

        def hook(d: dict[str, Any]) -> Any:
            if len(d) != 2 or "_type_" not in d or "_data_" not in d:
                return d
            name, data = d["_type_"], d["_data_"]
            if datetimes and name == "datetime_iso":
                return fromisoformat(data)
            if uuid_hex and name == "uuid_hex":
                return uuids[data]
            transcoding = names.get(name)
            if transcoding is None:
                return transcoder._decode_obj(d)  # raises as the transcoder does
            return transcoding.decode(data)

        decoder = json.JSONDecoder(object_hook=hook)
        scan, decode = decoder.scan_once, decoder.decode

        def decode_state(data: bytes) -> Any:
            # The C scanner itself: the stored JSON has no whitespace around it to skip (the decoder's
            # Python wrapper matches a regular expression on each side); anything else takes the long way.
            text = data.decode("utf8")
            try:
                state, end = scan(text, 0)
            except StopIteration:
                return decode(text)
            return state if end == len(text) else decode(text)

        return decode_state

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(cls, "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        personal_fields = getattr(cls, "personal_data", ())
        if personal_fields:
            secret = {name: state.pop(name) for name in personal_fields if name in state}
            state[PERSONAL] = self.personal_data.seal(originator_id, self.transcoder.encode(secret))
        state[META] = current_context().as_metadata()
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(cls),
            state=self.transcoder.encode(state),
        )

    def decode(self, stored_event: StoredEvent) -> tuple[Any, dict[str, str]]:
        """The domain event and its metadata."""
        cls = resolve_topic(stored_event.topic)
        decode_state = self._decode_state
        if decode_state is None:
            decode_state = self._decode_state = self._state_decoder()
        originator_id = _originator_id(stored_event)
        try:
            state: dict[str, Any] = decode_state(stored_event.state)
        except Exception as error:
            raise MapperDeserialisationError(
                f"cannot decode {stored_event.topic} {stored_event.originator_id} "
                f"v{stored_event.originator_version}: {error}"
            ) from error
        metadata = state.pop(META, {})
        sealed = state.pop(PERSONAL, None)
        if sealed is not None:
            opened = self.personal_data.open(originator_id, sealed)
            if opened is None:
                state.update(dict.fromkeys(getattr(cls, "personal_data", ()), FORGOTTEN))
            else:
                state.update(decode_state(opened))
        state["originator_id"] = originator_id
        state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event, metadata

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode(stored_event)[0]

    def decode_envelope(self, stored_event: StoredEvent) -> tuple[Any, dict[str, str]]:
        """The event with only what every event carries (originator, version, timestamp and its business
        time ``at``) and its metadata (plain strings, as ``CommandContext.as_metadata`` writes them): for
        projections that read nothing else (the event log), about three times cheaper than ``decode``:
        its other fields are neither transcoded nor opened. An event that an upcaster would change, or
        whose times are stored otherwise, is decoded in full."""
        cls = resolve_topic(stored_event.topic)
        try:  # orjson: only strings are read here, so its reading of numbers does not matter
            state = orjson.loads(stored_event.state)
        except orjson.JSONDecodeError:  # e.g. NaN, which json writes and orjson refuses
            return self.decode(stored_event)
        if type(state) is not dict:
            return self.decode(stored_event)
        timestamp, at = state.get("timestamp"), state.get("at")
        metadata = state.get(META, {})
        if (
            state.get("class_version", 1) != getattr(cls, "class_version", 1)
            or not _is_iso_datetime(timestamp)
            or (at is not None and not _is_iso_datetime(at))
        ):
            return self.decode(stored_event)
        envelope = {
            "originator_id": _originator_id(stored_event),
            "originator_version": stored_event.originator_version,
            "timestamp": datetime.fromisoformat(timestamp["_data_"]),
        }
        if at is not None:
            envelope["at"] = datetime.fromisoformat(at["_data_"])
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", envelope)
        return event, metadata

    def close(self) -> None:
        """Let go of the key store's connection."""
        self.personal_data.close()

    def metadata_of(self, stored_event: StoredEvent) -> dict[str, str]:
        """Only the metadata of a stored event (personal data stays sealed)."""
        return self.transcoder.decode(stored_event.state).get(META, {})


def build_mapper(env: Mapping[str, str], transcoder: Transcoder) -> StorewiseMapper:
    """Construct the mapper from an application's environment (``STOREWISE_KEYS_URL``, ``STOREWISE_KEK``)."""
    keys_url = env.get("STOREWISE_KEYS_URL")
    kek = env.get("STOREWISE_KEK")
    if not keys_url or not kek:
        raise RuntimeError("STOREWISE_KEYS_URL and STOREWISE_KEK must be configured (see infrastructure.settings)")
    store: KeyStore
    if keys_url.startswith("sqlite:///"):
        store = key_store_for(keys_url)
    else:  # PostgreSQL: the key table beside the events, over the process's one write pool
        from .connections import release_datastore, shared_datastore

        datastore = shared_datastore(env)
        store = PostgresKeyStore(datastore.get_connection, datastore.schema, lambda: release_datastore(datastore))
    return StorewiseMapper(transcoder, PersonalDataVault(store, base64.urlsafe_b64decode(kek)))
