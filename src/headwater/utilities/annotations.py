"""Wrappers that change how `Task.map` treats an argument."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class unmapped(Generic[T]):  # the lower-case public name follows the established API
    """Pass this argument whole to every mapped task run instead of iterating over it.

    Example: `add.map([1, 2, 3], unmapped(10))` runs `add(1, 10)`, `add(2, 10)`, `add(3, 10)`.
    """

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value
