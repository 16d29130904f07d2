"""Fast, time-ordered (version 7) UUIDs for run, state and log ids.

Two reasons not to use `uuid.uuid4()`:
- it reads `os.urandom` for every id: a system call that releases the GIL, so on the hot path of a task
  call each id could wait for the recorder's thread to hand the GIL back;
- random ids land at random places in the store's indexes; ids that start with their creation time
  (RFC 9562 version 7) append near the end instead, which halves SQLite's cost of recording a run.

The random part comes from the `random` module (seeded from the OS, re-seeded in a forked child):
plenty for uniqueness; these ids are identifiers, not secrets (and they tell when they were made).
"""

from __future__ import annotations

import random
import time
import uuid

_getrandbits = random.getrandbits
_time_ns = time.time_ns
_new = object.__new__
_set = object.__setattr__
_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62


def new_id() -> uuid.UUID:
    """A fresh version-7 UUID: 48 bits of Unix time in milliseconds, then 74 random bits."""
    value = ((_time_ns() // 1_000_000) << 80) | _VERSION_7 | (_getrandbits(12) << 64) | _VARIANT | _getrandbits(62)
    u = _new(uuid.UUID)
    _set(u, "int", value)
    _set(u, "is_safe", uuid.SafeUUID.unknown)
    return u
