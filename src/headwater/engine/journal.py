"""The local journal: batches that could not be delivered, kept on disk until they can be.

One file per batch, named so they sort oldest first, in a folder per destination (so batches meant
for one server are never replayed into another). A recorder claims a file by renaming it before
sending it; a claim left by a dead process is released on the next scan.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

if TYPE_CHECKING:
    from headwater.schemas.actions import RecordBatch

_log = logging.getLogger("headwater.recorder")


class Journal:
    """Undelivered batches for one destination.

    Args:
        root: the journal folder (`$HEADWATER_HOME/journal`).
        destination: the API URL or database URL the batches are for.
    """

    def __init__(self, root: Path, destination: str) -> None:
        digest = hashlib.sha256(destination.encode()).hexdigest()[:16]
        self.folder = root / digest
        self.destination = destination

    def write(self, batch: RecordBatch) -> Path:
        """Keep a batch on disk; returns its file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "DESTINATION").write_text(self.destination)
        name = f"{time.time_ns():020d}-{uuid4().hex[:8]}.json"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(batch.model_dump_json())
        os.replace(tmp, self.folder / name)
        _log.warning("Kept %d undelivered records in %s; they are sent when the orchestrator answers.",
                     len(batch), self.folder / name)
        return self.folder / name

    def pending(self) -> list[Path]:
        """Journal files waiting to be sent, oldest first."""
        if not self.folder.is_dir():
            return []
        self._release_dead_claims()
        return sorted(self.folder.glob("*.json"))

    def claim_all(self) -> Iterator[tuple[Path, RecordBatch]]:
        """Claim and read each pending batch in turn."""
        from headwater.schemas.actions import RecordBatch

        for path in self.pending():
            claimed = path.with_name(f"{path.name}.claimed-{os.getpid()}")
            try:
                os.rename(path, claimed)
            except FileNotFoundError:
                continue  # another process claimed it
            yield claimed, RecordBatch.model_validate_json(claimed.read_text())

    def done(self, claimed: Path) -> None:
        """The claimed batch was delivered."""
        with contextlib.suppress(FileNotFoundError):
            claimed.unlink()

    def release(self, claimed: Path) -> None:
        """The claimed batch could not be delivered; leave it for later."""
        with contextlib.suppress(FileNotFoundError):
            os.rename(claimed, claimed.with_name(claimed.name.split(".claimed-")[0]))

    def _release_dead_claims(self) -> None:
        for path in self.folder.glob("*.claimed-*"):
            pid = int(path.name.rsplit("-", 1)[1])
            if pid != os.getpid() and not _alive(pid):
                self.release(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
