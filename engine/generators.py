"""Two helpers for generators that return a value: drain one, or map what it yields."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

Y = TypeVar("Y")
Z = TypeVar("Z")
R = TypeVar("R")


def drain(gen: Generator[object, None, R]) -> R:
    """Run a generator to the end and return its return value (StopIteration.value)."""
    result: R

    def inner() -> Generator[object, None, None]:
        nonlocal result
        result = yield from gen

    for _ in inner():
        pass
    return result


def mapped(gen: Generator[Y, None, R], fn: Callable[[Y], Z]) -> Generator[Z, None, R]:
    """Yield fn(item) for every item of `gen`, then return `gen`'s return value."""
    result: R

    def inner() -> Generator[Y, None, None]:
        nonlocal result
        result = yield from gen

    for item in inner():
        yield fn(item)
    return result
