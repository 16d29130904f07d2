"""Retry policy shared by flows and tasks: how many, how long to wait, and whether to retry at all."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

RetryDelay = float | int | Sequence[float | int] | Callable[[int], Sequence[float | int]] | None


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """Delays that double each time: `backoff_factor * 2**n` seconds before retry n (0-based).

    Example: `@task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=10))` waits
    10, 20 and 40 seconds.
    """

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**n for n in range(retries)]

    return delays


def retry_delay(delay: RetryDelay, retries: int, attempt: int, jitter_factor: float | None) -> float:
    """Seconds to wait before retry number `attempt` (1-based)."""
    if delay is None:
        base = 0.0
    elif isinstance(delay, int | float):
        base = float(delay)
    else:
        delays = list(delay(retries) if callable(delay) else delay)
        base = float(delays[min(attempt, len(delays)) - 1]) if delays else 0.0
    if jitter_factor and base > 0:
        # Spread retries of many runs over time so they do not hit a recovering service at once.
        base += random.uniform(0, base * jitter_factor)
    return base


def check_retry_options(retries: int | None, delay: RetryDelay, jitter_factor: float | None) -> None:
    """Refuse option values that cannot work, naming the option."""
    if retries is not None and retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}.")
    if isinstance(delay, int | float) and delay < 0:
        raise ValueError(f"retry_delay_seconds must be 0 or more, got {delay}.")
    if isinstance(delay, Sequence) and len(delay) > 50:
        raise ValueError("retry_delay_seconds may list at most 50 delays.")
    if jitter_factor is not None and jitter_factor < 0:
        raise ValueError(f"retry_jitter_factor must be 0 or more, got {jitter_factor}.")


def should_retry(
    condition: Callable[..., bool] | None, owner: Any, run: Any, state: Any
) -> bool:
    """Whether `retry_condition_fn` (when given) allows another attempt."""
    if condition is None:
        return True
    return bool(condition(owner, run, state))
