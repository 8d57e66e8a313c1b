"""The cycle collector paused while a view builds many short-lived, acyclic objects (a cohort's
rows, every club's scorecard): each full collection of the whole heap would take ~100 ms without
finding anything; reference counting still frees them, and the collector resumes after."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
