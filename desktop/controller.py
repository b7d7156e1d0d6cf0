"""Runs generations off the GUI thread: one worker/QThread at a time, ids, cancel and shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Signal

from desktop.worker import GenerationWorker, RunFn
from engine.requests import GenerationRequest

log = logging.getLogger(__name__)

BUSY_MESSAGE = "A generation is already running: wait for it or press Esc to cancel it first."
STOPPING_MESSAGE = "Still stopping the previous generation; try again in a moment."


class GenerationController(QObject):
    """Owns the worker thread. Slots drop payloads whose generation id is not the active one."""

    started = Signal(int, object)  # gen_id, GenerationRequest
    step = Signal(int, object)  # gen_id, StepPayload
    succeeded = Signal(int, object, float)  # gen_id, PointCloud, seconds
    failed = Signal(int, object, str)  # gen_id, exception, traceback text
    cancelled = Signal(int)
    busy_changed = Signal(bool)
    refused = Signal(str)  # a start was refused; the text says why

    def __init__(self, run_fn: RunFn | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run_fn = run_fn
        self._next_id = 0
        self._active_id: int | None = None  # the run whose payloads are shown
        self._thread: QThread | None = None
        self._worker: GenerationWorker | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def active_id(self) -> int | None:
        return self._active_id

    def start(self, request: GenerationRequest) -> int | None:
        """Start a run and return its id, or refuse (None + `refused`) while one is running."""
        if self._thread is not None:
            stopping = self._worker is not None and self._worker.cancel_requested
            self.refused.emit(STOPPING_MESSAGE if stopping else BUSY_MESSAGE)
            return None
        self._next_id += 1
        gen_id = self._next_id
        thread = QThread(self)
        thread.setObjectName(f"generation-{gen_id}")
        worker = GenerationWorker(gen_id, request, self._run_fn)
        worker.moveToThread(thread)
        # every connection is made before the thread starts
        worker.step.connect(self._on_step)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.done.connect(self._on_done)
        thread.started.connect(worker.run)
        self._thread, self._worker, self._active_id = thread, worker, gen_id
        log.info("generation %d: %s", gen_id, _describe(request))
        self.busy_changed.emit(True)
        self.started.emit(gen_id, request)
        thread.start()
        return gen_id

    def cancel(self) -> bool:
        """Ask the running worker to stop; its remaining payloads are dropped from now on."""
        if self._worker is None:
            return False
        self._worker.cancel()
        cancelled_id = self._active_id
        self._active_id = None
        if cancelled_id is not None:
            self.cancelled.emit(cancelled_id)
        return True

    def shutdown(self, timeout_ms: int = 120_000) -> bool:
        """Cancel and wait for the thread (closeEvent); True when nothing is left running."""
        thread = self._thread
        if thread is None:
            return True
        self.cancel()
        thread.quit()  # the event loop ends once run() returns
        finished = thread.wait(timeout_ms)
        if finished:
            self._forget()
        else:
            log.error("generation thread did not stop within %d ms", timeout_ms)
        return finished

    # ---- worker signals (queued onto the GUI thread) ---------------------------------------
    def _on_step(self, gen_id: int, payload: object) -> None:
        if gen_id == self._active_id:
            self.step.emit(gen_id, payload)

    def _on_succeeded(self, gen_id: int, cloud: object, seconds: float) -> None:
        if gen_id == self._active_id:
            self.succeeded.emit(gen_id, cloud, seconds)

    def _on_failed(self, gen_id: int, exc: object, tb: str) -> None:
        if gen_id == self._active_id:
            self.failed.emit(gen_id, exc, tb)
        else:
            log.info("dropping the failure of stale generation %d: %s", gen_id, exc)

    def _on_cancelled(self, gen_id: int) -> None:
        if gen_id == self._active_id:  # the engine stopped by itself (should_cancel)
            self._active_id = None
            self.cancelled.emit(gen_id)

    def _on_done(self, gen_id: int) -> None:
        if self._worker is None or gen_id != self._worker.gen_id:
            return
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
        self._forget()
        if self._active_id == gen_id:
            self._active_id = None
        self.busy_changed.emit(False)

    def _forget(self) -> None:
        if self._thread is not None:
            self._thread.deleteLater()
        self._thread = None
        self._worker = None


def _describe(request: GenerationRequest) -> str:
    what = repr(request.prompt) if request.prompt else str(request.image)
    return f"{what}, model={request.model}, seed={request.seed}, device={request.device}"


class BackgroundTask(QObject):
    """Runs one function on its own QThread (torch pre-warm, device detection) and reports back."""

    result = Signal(object)
    error = Signal(str)

    def __init__(self, fn: Callable[[], object], name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._thread = QThread(self)
        self._thread.setObjectName(name)
        self._runner = _Runner(fn)
        self._runner.moveToThread(self._thread)
        self._runner.result.connect(self.result)
        self._runner.error.connect(self.error)
        self._runner.result.connect(self._thread.quit)
        self._runner.error.connect(self._thread.quit)
        self._thread.started.connect(self._runner.run)

    def start(self) -> None:
        self._thread.start()

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Python work cannot be interrupted; closing waits for it (an import, a few seconds)."""
        self._thread.quit()
        return self._thread.wait(timeout_ms)


class _Runner(QObject):
    result = Signal(object)
    error = Signal(str)

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self._fn = fn

    def run(self) -> None:
        try:
            value = self._fn()
        except Exception as exc:
            log.warning("background task failed: %s", exc, exc_info=True)
            self.error.emit(str(exc))
            return
        self.result.emit(value)
