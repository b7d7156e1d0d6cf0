"""The one way the window runs work off the GUI thread (napari's create_worker style).

Two kinds: a FunctionWorker calls a function once; a GeneratorWorker drains a generator,
forwarding every yielded item. Each lives on its own QThread, reports only through Qt signals
(queued onto the GUI thread), and is tracked in one set that `shutdown_all()` cancels and
waits for when the window closes, so no thread outlives the window."""

from __future__ import annotations

import inspect
import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import ClassVar

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

log = logging.getLogger(__name__)

#: What a worker function may be given: `report(item)` sends progress, `cancelled()` asks.
Report = Callable[[object], None]
Cancelled = Callable[[], bool]


class WorkerAborted(Exception):
    """Raised inside a worker function to stop early once `cancelled()` is true."""


class _Runner(QObject):
    """Lives on the worker thread; runs the job and emits what happened."""

    yielded = Signal(object)
    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(object, str)
    aborted = Signal()
    done = Signal()

    def __init__(
        self, job: Callable[[_Runner], object], abort: threading.Event, cancellable: bool
    ) -> None:
        super().__init__()
        self._job = job
        self.abort = abort
        self.cancellable = cancellable  # False: a finished result counts even after quit()

    @Slot()
    def run(self) -> None:
        from engine.errors import GenerationCancelled

        try:
            value = self._job(self)
        except (WorkerAborted, GenerationCancelled):
            self.aborted.emit()
        except Exception as exc:  # shown by the GUI thread's single error handler
            self.errored.emit(exc, traceback.format_exc())
        else:
            if self.abort.is_set() and self.cancellable:
                self.aborted.emit()
            else:
                self.returned.emit(value)
        finally:
            self.done.emit()


class Worker(QObject):
    """The GUI-thread handle of one background job: connect its signals, then start()."""

    started = Signal()
    yielded = Signal(object)  # GeneratorWorker: each item, in order
    progress = Signal(object)  # what the function passed to report()
    returned = Signal(object)  # the function's (or generator's) return value
    errored = Signal(object, str)  # exception, formatted traceback
    aborted = Signal()  # stopped after quit()
    finished = Signal()  # always last, whatever happened

    _live: ClassVar[set[Worker]] = set()

    def __init__(
        self, job: Callable[[_Runner], object], name: str, *, cancellable: bool = True
    ) -> None:
        super().__init__()
        self.name = name
        self._abort = threading.Event()
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._runner = _Runner(job, self._abort, cancellable)
        self._runner.moveToThread(self._thread)
        r = self._runner
        r.yielded.connect(self.yielded)
        r.progress.connect(self.progress)
        r.returned.connect(self.returned)
        r.errored.connect(self.errored)
        r.aborted.connect(self.aborted)
        # direct: quit() is thread-safe, and a queued call would wait for the GUI thread,
        # which may itself be blocked in wait() during close-down
        r.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.started.connect(r.run)
        self._thread.finished.connect(self._on_thread_finished)

    def start(self) -> Worker:
        """Start the thread (connect every signal first)."""
        Worker._live.add(self)
        self._thread.start()
        self.started.emit()
        return self

    def quit(self) -> None:
        """Ask the job to stop: read between items and by the job's `cancelled()`."""
        self._abort.set()

    @property
    def abort_requested(self) -> bool:
        return self._abort.is_set()

    def is_running(self) -> bool:
        return self in Worker._live

    def wait(self, timeout_ms: int = 120_000) -> bool:
        """Block until the thread ends (close-down only); True when it did."""
        if not self._thread.isRunning():
            self._on_thread_finished()
            return True
        done = self._thread.wait(timeout_ms)
        if done:
            self._on_thread_finished()
        return done

    @Slot()
    def _on_thread_finished(self) -> None:
        if self in Worker._live:
            Worker._live.discard(self)
            self.finished.emit()


class FunctionWorker(Worker):
    """Calls fn() once. A fn with parameters `report` and/or `cancelled` receives them."""

    def __init__(self, fn: Callable[..., object], name: str) -> None:
        params = inspect.signature(fn).parameters

        def job(runner: _Runner) -> object:
            kw: dict = {}
            if "report" in params:
                kw["report"] = runner.progress.emit
            if "cancelled" in params:
                kw["cancelled"] = runner.abort.is_set
            return fn(**kw)

        # a function that never asks `cancelled()` runs to the end: its result is real
        super().__init__(job, name, cancellable="cancelled" in params)


class GeneratorWorker(Worker):
    """Drains make(cancelled) (an iterable); forwards each item; returns its return value.

    The abort flag is checked between items; `make` also receives it so the engine can stop
    between two model calls."""

    def __init__(self, make: Callable[[Cancelled], Iterable], name: str) -> None:
        def job(runner: _Runner) -> object:
            items = iter(make(runner.abort.is_set))
            result = None

            def inner():
                nonlocal result
                result = yield from items

            try:
                for item in inner():
                    if runner.abort.is_set():
                        raise WorkerAborted()
                    runner.yielded.emit(item)
            finally:
                close = getattr(items, "close", None)
                if close is not None:
                    close()  # a half-drained engine run releases its models' work at once
            return result

        super().__init__(job, name)


def active_workers() -> set[Worker]:
    """Workers whose thread has not ended yet."""
    return set(Worker._live)


def shutdown_all(timeout_ms: int = 120_000) -> bool:
    """Ask every worker to stop and wait for each (closeEvent); True when none is left."""
    workers = active_workers()
    for worker in workers:
        worker.quit()
    ok = True
    for worker in workers:
        if not worker.wait(timeout_ms):
            log.error("worker %s did not stop within %d ms", worker.name, timeout_ms)
            ok = False
    return ok
