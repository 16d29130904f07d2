"""How commands reach the orchestrator: one call at a time through `headwater._wiring`, with the errors a
person can act on (a malformed id, an unknown id, a store that cannot be reached) turned into one-line
messages and exit code 1.

The wiring (and with it SQLAlchemy or httpx) is imported on the first call, never when the CLI starts.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from headwater.cli._output import fail
from headwater.exceptions import HeadwaterHTTPError, ObjectNotFound

if TYPE_CHECKING:
    from headwater.client.base import Orchestrator

T = TypeVar("T")

_opened = False


def parse_id(value: str, kind: str) -> UUID:
    """The UUID a user typed; exits with "… is not a valid <kind> id" when it is not one."""
    try:
        return UUID(value.strip())
    except ValueError:
        fail(f"{value!r} is not a valid {kind} id (expected a UUID like 3f2a6c1e-9b0d-4c5e-8f7a-1b2c3d4e5f60)")


def call_store(operation: Callable[[Orchestrator], Awaitable[T]], *, not_found: str | None = None) -> T:
    """Run `operation(orchestrator)` and return its result.

    Args:
        operation: What to do with the orchestrator, e.g. `lambda o: o.read_flow_run(run_id)`.
        not_found: The message to exit with when the operation names an object the store does not
            have; without it, `ObjectNotFound` propagates.
    """
    global _opened
    from headwater._wiring import call

    _opened = True
    try:
        return call(operation)
    except ObjectNotFound:
        if not_found is None:
            raise
        fail(not_found)
    except HeadwaterHTTPError as exc:
        if exc.status_code == 0:  # the client's way of saying it could not connect, after its retries
            fail(exc.detail)
        fail(f"The Headwater API at {_where()} answered {exc.status_code}: {exc.detail}")
    except Exception as exc:
        if _is_unreachable(exc):
            fail(f"Cannot reach the Headwater store at {_where()}: {_reason(exc)}")
        raise


def pages(
    fetch: Callable[[int, int], list[T]], *, page_size: int, limit: int | None = None, start: int = 0
) -> Iterator[list[T]]:
    """Walk a paginated listing from offset `start`: `fetch(offset, size)` until a short page, or until
    `limit` items in all."""
    offset = start
    while limit is None or offset - start < limit:
        size = page_size if limit is None else min(page_size, limit - (offset - start))
        page = fetch(offset, size)
        if page:
            yield page
        if len(page) < size:
            return
        offset += len(page)


def count_by_probing(has_item_at: Callable[[int], bool], *, first_probe: int = 1024) -> int:
    """How many items a listing holds, for a listing that can only be read by offset: gallop to an offset
    past the end, then bisect. About 2·log2(n) one-item reads instead of reading all n items."""
    if not has_item_at(0):
        return 0
    present, absent = 0, first_probe
    while has_item_at(absent):
        present, absent = absent, absent * 2
    while absent - present > 1:
        middle = (present + absent) // 2
        if has_item_at(middle):
            present = middle
        else:
            absent = middle
    return absent


def close() -> None:
    """Release the connections the commands opened (the portal thread is a daemon; connections are not)."""
    global _opened
    if not _opened:
        return
    _opened = False
    from headwater._wiring import close_shared
    from headwater.engine.portal import get_portal

    # Best effort: the command's answer is printed already.
    with contextlib.suppress(Exception):
        get_portal().call(close_shared(), timeout=10)


def _where() -> str:
    from headwater._wiring import destination

    return hide_password(destination())


def hide_password(url: str) -> str:
    """A URL with its password, if any, replaced by `***`."""
    return re.sub(r"(//[^:/@]+:)[^@/]*@", r"\1***@", url)


def _is_unreachable(exc: BaseException) -> bool:
    """Whether an error means the store or API could not be reached or opened (not a bug of ours)."""
    if isinstance(exc, OSError | TimeoutError):
        return True
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return True
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
