"""Personal data at rest: one AES-GCM key per customer, kept apart from the events.

Each customer's data key is stored wrapped (encrypted) with the key-encryption
key from configuration, in a key store separate from the event store.
Forgetting a customer deletes their wrapped key: the ciphertext left in the
events can then never be read again (crypto-shredding).
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class KeyStore(Protocol):
    """Where wrapped data keys are kept, by owner."""

    def get(self, owner_id: UUID) -> bytes | None: ...

    def add(self, owner_id: UUID, wrapped: bytes) -> None:
        """Keep the wrapped key unless the owner already has one."""

    def delete(self, owner_id: UUID) -> None: ...

    def any_key(self) -> tuple[UUID, bytes] | None:
        """One stored (owner, wrapped key), if any (to check the KEK opens them)."""

    def close(self) -> None: ...


class SQLiteKeyStore:
    """Wrapped keys in their own SQLite file."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS personal_data_keys (owner_id TEXT PRIMARY KEY, wrapped_key BLOB NOT NULL)"
        )

    def get(self, owner_id: UUID) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                "SELECT wrapped_key FROM personal_data_keys WHERE owner_id = ?", (str(owner_id),)
            ).fetchone()
        return row[0] if row else None

    def add(self, owner_id: UUID, wrapped: bytes) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO personal_data_keys VALUES (?, ?) ON CONFLICT (owner_id) DO NOTHING",
                (str(owner_id), wrapped),
            )

    def delete(self, owner_id: UUID) -> None:
        with self._lock:
            self._db.execute("DELETE FROM personal_data_keys WHERE owner_id = ?", (str(owner_id),))

    def any_key(self) -> tuple[UUID, bytes] | None:
        with self._lock:
            row = self._db.execute("SELECT owner_id, wrapped_key FROM personal_data_keys LIMIT 1").fetchone()
        return (UUID(row[0]), bytes(row[1])) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresKeyStore:
    """Wrapped keys in their own PostgreSQL table, over connections lent by the process's write pool
    (``connect``: a context manager giving a connection in autocommit; ``release``: called on close)."""

    def __init__(
        self,
        connect: Callable[[], AbstractContextManager[Any]],
        schema: str = "public",
        release: Callable[[], None] | None = None,
    ):
        self._connect = connect
        self._release = release
        self._table = f'"{schema}".personal_data_keys'
        self._run(
            f"CREATE TABLE IF NOT EXISTS {self._table} (owner_id uuid PRIMARY KEY, wrapped_key bytea NOT NULL)", ()
        )

    def _run(self, sql: str, params: tuple) -> list[tuple]:
        from psycopg.rows import tuple_row

        with self._connect() as connection, connection.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def get(self, owner_id: UUID) -> bytes | None:
        rows = self._run(f"SELECT wrapped_key FROM {self._table} WHERE owner_id = %s", (owner_id,))
        return bytes(rows[0][0]) if rows else None

    def add(self, owner_id: UUID, wrapped: bytes) -> None:
        self._run(f"INSERT INTO {self._table} VALUES (%s, %s) ON CONFLICT (owner_id) DO NOTHING", (owner_id, wrapped))

    def delete(self, owner_id: UUID) -> None:
        self._run(f"DELETE FROM {self._table} WHERE owner_id = %s", (owner_id,))

    def any_key(self) -> tuple[UUID, bytes] | None:
        rows = self._run(f"SELECT owner_id, wrapped_key FROM {self._table} LIMIT 1", ())
        return (UUID(str(rows[0][0])), bytes(rows[0][1])) if rows else None

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()


class PersonalDataVault:
    """Seals and opens personal data with each owner's own key."""

    def __init__(self, store: KeyStore, kek: bytes):
        self._store = store
        self._kek = AESGCM(kek)

    def seal(self, owner_id: UUID, plaintext: bytes) -> str:
        """Encrypt ``plaintext`` with the owner's key (created on first use)."""
        key = self._key(owner_id)
        if key is None:
            self._store.add(owner_id, self._wrap(owner_id, AESGCM.generate_key(bit_length=256)))
            key = self._key(owner_id)
            assert key is not None
        nonce = os.urandom(_NONCE)
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, owner_id.bytes)).decode()

    def open(self, owner_id: UUID, sealed: str) -> bytes | None:
        """Decrypt what ``seal`` returned, or None if the owner was forgotten."""
        key = self._key(owner_id)
        if key is None:
            return None
        blob = base64.b64decode(sealed)
        return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], owner_id.bytes)

    def forget(self, owner_id: UUID) -> None:
        """Destroy the owner's key: everything sealed with it becomes unreadable."""
        self._store.delete(owner_id)

    def close(self) -> None:
        self._store.close()

    def opens_stored_keys(self) -> bool:
        """Whether the KEK unwraps the stored keys (tried on one; True when none is stored)."""
        stored = self._store.any_key()
        if stored is None:
            return True
        owner_id, wrapped = stored
        try:
            self._kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], b"storewise-key:" + owner_id.bytes)
        except InvalidTag:
            return False
        return True

    def _key(self, owner_id: UUID) -> bytes | None:
        wrapped = self._store.get(owner_id)
        if wrapped is None:
            return None
        try:
            return self._kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], b"storewise-key:" + owner_id.bytes)
        except InvalidTag:
            raise RuntimeError(
                "a personal-data key cannot be unwrapped: is STOREWISE_KEK the one it was made with?"
            ) from None

    def _wrap(self, owner_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._kek.encrypt(nonce, key, b"storewise-key:" + owner_id.bytes)


def key_store_for(url: str) -> KeyStore:
    """The key store named by ``STOREWISE_KEYS_URL`` (``sqlite:///PATH`` or a PostgreSQL URL with
    ``?schema=``). On PostgreSQL this one connects per statement (a one-off check or a copy); a running
    system's key store shares the process's write pool (``infrastructure.event_mapping.build_mapper``)."""
    if url.startswith("sqlite:///"):
        return SQLiteKeyStore(url[len("sqlite:///") :])
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    schema = str(parsed.query.get("schema") or "public")
    conninfo = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)

    @contextmanager
    def connect() -> Iterator[Any]:
        import psycopg

        with psycopg.connect(conninfo, autocommit=True) as connection:
            yield connection

    return PostgresKeyStore(connect, schema)
