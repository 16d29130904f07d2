"""Persisted results: a run's return value written where another process can read it back.

A result is stored under a key in a storage location: a local folder, or any `fsspec` URL
(`s3://bucket/prefix`, `memory://…`). The stored record carries its own metadata (serializer,
expiration), so `load_result_ref` needs nothing but the reference a state carries. Task caching uses
the cache key as the storage key: a cached result is simply a record that exists and has not expired.
"""

from __future__ import annotations

import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

SerializerName = Literal["pickle", "json"]


class Serializer(Protocol):
    """Turns values into bytes and back."""

    name: str

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class PickleSerializer:
    """cloudpickle: any Python value, including lambdas and local classes; readable by Python only."""

    name = "pickle"

    def dumps(self, value: Any) -> bytes:
        import cloudpickle

        return bytes(cloudpickle.dumps(value))

    def loads(self, data: bytes) -> Any:
        return pickle.loads(data)


class JSONSerializer:
    """JSON: portable and readable, for values JSON can hold."""

    name = "json"

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data)


_SERIALIZERS: dict[str, Serializer] = {"pickle": PickleSerializer(), "json": JSONSerializer()}


def get_serializer(serializer: str | Serializer | None) -> Serializer:
    """The serializer for a name (`"pickle"`, `"json"`) or object."""
    if serializer is None:
        return _SERIALIZERS["pickle"]
    if isinstance(serializer, str):
        try:
            return _SERIALIZERS[serializer]
        except KeyError:
            raise ValueError(
                f"Unknown result serializer {serializer!r}; use one of {sorted(_SERIALIZERS)}."
            ) from None
    return serializer


class ResultSerializationError(Exception):
    """A return value could not be persisted with the chosen serializer."""


@dataclass(frozen=True)
class ResultStore:
    """Where and how results are persisted.

    Args:
        storage: a local folder, or an fsspec URL.
        serializer: `"pickle"` (default) or `"json"`, or an object with `dumps`/`loads`.
    """

    storage: str
    serializer: Serializer

    @classmethod
    def create(cls, storage: str | Path | None, serializer: str | Serializer | None) -> ResultStore:
        """A store on `storage` (the default local storage when None)."""
        if storage is None:
            from headwater.settings import get_settings

            storage = get_settings().resolved_storage_path
        return cls(str(storage), get_serializer(serializer))

    # -- writing ----------------------------------------------------------------------------------
    def write(self, key: str, value: Any, expiration: datetime | None = None) -> dict[str, Any]:
        """Persist `value` under `key`; returns the reference a state keeps to read it back."""
        try:
            payload = self.serializer.dumps(value)
        except Exception as exc:
            raise ResultSerializationError(
                f"Could not persist the result with the {self.serializer.name!r} serializer: {exc}. "
                "Return a value it can serialize, or choose another result_serializer."
            ) from exc
        header = {
            "serializer": self.serializer.name,
            "expiration": expiration.isoformat() if expiration else None,
        }
        _write_bytes(self.storage, key, json.dumps(header).encode() + b"\n" + payload)
        return {"storage": self.storage, "key": key, "serializer": self.serializer.name}

    # -- reading ----------------------------------------------------------------------------------
    def read(self, key: str) -> Any:
        """The value stored under `key`; raises `KeyError` when there is none or it has expired."""
        found, value = _read_record(self.storage, key)
        if not found:
            raise KeyError(key)
        return value

    def read_if_fresh(self, key: str) -> tuple[bool, Any]:
        """`(True, value)` when a record exists under `key` and has not expired, else `(False, None)`."""
        return _read_record(self.storage, key)


def load_result_ref(ref: dict[str, Any]) -> Any:
    """Read back the value a state's result reference points at."""
    from headwater.exceptions import MissingResult

    found, value = _read_record(str(ref["storage"]), str(ref["key"]), ignore_expiration=True)
    if not found:
        raise MissingResult(f"The result record {ref['key']!r} is missing from {ref['storage']!r}.")
    return value


# -- byte storage: a local folder, or fsspec for URLs ---------------------------------------------
def _is_url(storage: str) -> bool:
    return "://" in storage


def _write_bytes(storage: str, key: str, data: bytes) -> None:
    if _is_url(storage):
        import fsspec

        with fsspec.open(f"{storage.rstrip('/')}/{key}", "wb") as f:
            f.write(data)
        return
    folder = Path(storage).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a record.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, folder / key)


def _read_bytes(storage: str, key: str) -> bytes | None:
    if _is_url(storage):
        import fsspec

        try:
            with fsspec.open(f"{storage.rstrip('/')}/{key}", "rb") as f:
                return bytes(f.read())
        except FileNotFoundError:
            return None
    try:
        return (Path(storage).expanduser() / key).read_bytes()
    except FileNotFoundError:
        return None


def _read_record(storage: str, key: str, ignore_expiration: bool = False) -> tuple[bool, Any]:
    data = _read_bytes(storage, key)
    if data is None:
        return False, None
    head, _, payload = data.partition(b"\n")
    header = json.loads(head)
    expiration = header.get("expiration")
    if not ignore_expiration and expiration and datetime.fromisoformat(expiration) <= datetime.now(UTC):
        return False, None
    return True, get_serializer(header["serializer"]).loads(payload)
