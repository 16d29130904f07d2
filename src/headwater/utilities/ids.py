"""Fast random (version 4) UUIDs for run, state and log ids.

`uuid.uuid4()` reads `os.urandom` for every id: a system call that also releases the GIL, so on the
hot path of a task call each id could wait for the writer thread to hand the GIL back. These ids come
from the `random` module's generator instead (seeded from the OS, and re-seeded in a forked child), which
is plenty for uniqueness; they are identifiers, not secrets.
"""

from __future__ import annotations

import random
import uuid

_getrandbits = random.getrandbits
_new = object.__new__
_set = object.__setattr__
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def new_id() -> uuid.UUID:
    """A fresh random version-4 UUID."""
    value = (_getrandbits(128) & _CLEAR) | _VERSION_4
    u = _new(uuid.UUID)
    _set(u, "int", value)
    _set(u, "is_safe", uuid.SafeUUID.unknown)
    return u
