"""Reference cycles are collected on the GUI thread, never on a worker that allocates."""

from __future__ import annotations

import gc
import threading

from desktop.gui_gc import GuiThreadCollector


class _Cycle:
    """Garbage only a cycle collection can free; records the thread that freed it."""

    def __init__(self, record: list[str]) -> None:
        self.me = self
        self.record = record

    def __del__(self) -> None:
        self.record.append(threading.current_thread().name)


def test_a_workers_allocations_leave_the_collection_to_the_gui_thread(qtbot) -> None:
    collector = GuiThreadCollector(interval_ms=50)
    try:
        freed: list[str] = []
        _Cycle(freed)  # unreachable at once, but only a cycle collection frees it
        kept: list[list[int]] = []

        def allocate() -> None:  # far past gen 0's threshold (700 live container objects)
            kept.extend([i] for i in range(20_000))

        worker = threading.Thread(target=allocate, name="model-worker")
        worker.start()
        worker.join()
        assert freed == []  # the worker allocated, but did not collect
        qtbot.waitUntil(lambda: freed != [], timeout=5_000)
        assert freed == [threading.main_thread().name]
    finally:
        collector.stop()
    assert not gc.isenabled()  # the package's collector (conftest) is still in charge


def test_stop_gives_collection_back() -> None:
    gc.enable()
    collector = GuiThreadCollector()
    assert not gc.isenabled()
    collector.stop()
    assert gc.isenabled()
    gc.disable()  # back to the package's collector (conftest)


def test_check_collects_only_past_a_threshold() -> None:
    collector = GuiThreadCollector()
    try:
        gc.collect()
        assert collector.check() == 0  # nothing counted since the full collection
        freed: list[str] = []
        _Cycle(freed)
        kept = [[i] for i in range(2_000)]  # past gen 0's threshold
        assert collector.check() >= 1 and freed == [threading.main_thread().name]
        assert len(kept) == 2_000
    finally:
        collector.stop()
