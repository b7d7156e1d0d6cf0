"""The one worker abstraction: results, streamed items, errors, abort, and shutdown of all."""

from __future__ import annotations

import threading
import time

import pytest

from desktop.workers import FunctionWorker, GeneratorWorker, active_workers, shutdown_all

pytestmark = pytest.mark.gui


def test_function_worker_returns_off_the_gui_thread(qtbot):
    where = []
    worker = FunctionWorker(lambda: where.append(threading.get_ident()) or 42, "answer")
    with qtbot.waitSignal(worker.returned, timeout=5_000) as got:
        worker.start()
    assert got.args == [42] and where[0] != threading.get_ident()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=5_000)


def test_function_worker_reports_progress_and_errors(qtbot):
    def job(report):
        report("half")
        raise ValueError("bad input")

    worker = FunctionWorker(job, "failing")
    seen, errors = [], []
    worker.progress.connect(seen.append)
    worker.errored.connect(lambda exc, tb: errors.append((exc, tb)))
    worker.start()
    qtbot.waitUntil(lambda: bool(errors) and not worker.is_running(), timeout=5_000)
    assert seen == ["half"]
    assert isinstance(errors[0][0], ValueError) and "bad input" in errors[0][1]


def test_generator_worker_streams_then_returns(qtbot):
    def make(cancelled):
        yield from range(5)
        return "done"

    worker = GeneratorWorker(make, "count")
    items, results = [], []
    worker.yielded.connect(items.append)
    worker.returned.connect(results.append)
    worker.start()
    qtbot.waitUntil(lambda: bool(results) and not worker.is_running(), timeout=5_000)
    assert items == [0, 1, 2, 3, 4] and results == ["done"]


def test_quit_aborts_between_items_and_closes_the_generator(qtbot):
    closed = []

    def make(cancelled):
        try:
            for i in range(10_000):
                time.sleep(0.005)
                yield i
        finally:
            closed.append(True)

    worker = GeneratorWorker(make, "long")
    items, aborted, returned = [], [], []
    worker.yielded.connect(items.append)
    worker.aborted.connect(lambda: aborted.append(True))
    worker.returned.connect(returned.append)
    worker.start()
    qtbot.waitUntil(lambda: len(items) >= 3, timeout=5_000)
    worker.quit()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=5_000)
    assert aborted == [True] and returned == [] and closed == [True]
    assert len(items) < 10_000


def test_shutdown_all_stops_and_waits_for_every_worker(qtbot):
    def make(cancelled):
        while not cancelled():
            time.sleep(0.01)
            yield None

    workers = [GeneratorWorker(make, f"spin-{i}").start() for i in range(3)]
    worker = FunctionWorker(lambda cancelled: [time.sleep(0.01) for _ in range(20)], "short")
    workers.append(worker.start())
    assert len(active_workers()) == 4
    assert shutdown_all(10_000)
    assert not active_workers() and all(not w.is_running() for w in workers)


def test_a_function_that_cannot_be_cancelled_still_returns_after_quit(qtbot):
    """An export asked for by path finishes on quit: its result is real, not 'aborted'."""
    worker = FunctionWorker(lambda: time.sleep(0.2) or "written", "export")
    returned, aborted = [], []
    worker.returned.connect(returned.append)
    worker.aborted.connect(lambda: aborted.append(True))
    worker.start()
    worker.quit()
    qtbot.waitUntil(lambda: not worker.is_running(), timeout=5_000)
    qtbot.wait(20)
    assert returned == ["written"] and aborted == []
