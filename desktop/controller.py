"""Runs generations off the GUI thread: one GeneratorWorker at a time, run ids, cancel."""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable

from PySide6.QtCore import QObject, Signal

from desktop.state import Job
from desktop.workers import GeneratorWorker
from engine.requests import GenerationRequest

log = logging.getLogger(__name__)

BUSY_MESSAGE = "A generation is already running: wait for it or press Esc to cancel it first."
STOPPING_MESSAGE = "Still stopping the previous generation; try again in a moment."

#: engine.pipeline.run, or a stand-in with its signature (tests): request -> iterable of steps
RunFn = Callable[..., Iterable]


def _default_run(request: GenerationRequest, **kw):
    from engine.pipeline import run  # imported in the worker thread: torch stays off start-up

    return run(request, **kw)


def limit_torch_threads() -> None:
    """Leave one core to the GUI thread so the preview keeps rendering during a generation."""
    import os

    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) - 1))


def job_steps(job: Job, run_fn: RunFn, cancelled: Callable[[], bool]) -> Generator:
    """The engine's steps for a job, as is; returns the result (the picture if picture_only)."""
    limit_torch_threads()
    run = run_fn(job.request, should_cancel=cancelled)
    steps = iter(run)
    result = None

    def drained():
        nonlocal result
        result = yield from steps

    for step in drained():
        yield step
        if job.picture_only and step.image is not None:
            steps.close()  # the 3D stages never start
            return step.image
    if job.picture_only:
        raise RuntimeError("Only Text → Image → 3D draws a picture; nothing to show.")
    return result


class GenerationController(QObject):
    """Owns the generation worker. Slots drop payloads whose run id is not the active one."""

    started = Signal(int, object)  # gen_id, Job
    step = Signal(int, object)  # gen_id, engine.requests.PipelineStep
    succeeded = Signal(int, object, float)  # gen_id, PointCloud (or picture), seconds
    failed = Signal(int, object, str)  # gen_id, exception, traceback text
    cancelled = Signal(int)
    busy_changed = Signal(bool)
    refused = Signal(str)  # a start was refused; the text says why

    def __init__(self, run_fn: RunFn | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run_fn = run_fn or _default_run
        self._next_id = 0
        self._active_id: int | None = None  # the run whose payloads are shown
        self._worker: GeneratorWorker | None = None
        self._elapsed = 0.0

    @property
    def busy(self) -> bool:
        return self._worker is not None

    @property
    def active_id(self) -> int | None:
        return self._active_id

    def start(self, job: Job) -> int | None:
        """Start a run and return its id, or refuse (None + `refused`) while one is running."""
        if self._worker is not None:
            stopping = self._worker.abort_requested
            self.refused.emit(STOPPING_MESSAGE if stopping else BUSY_MESSAGE)
            return None
        self._next_id += 1
        gen_id = self._next_id
        run_fn = self._run_fn
        worker = GeneratorWorker(
            lambda cancelled: job_steps(job, run_fn, cancelled), f"generation-{gen_id}"
        )
        # every connection is made before the thread starts
        worker.yielded.connect(lambda step, g=gen_id: self._on_step(g, step))
        worker.returned.connect(lambda value, g=gen_id: self._on_returned(g, value))
        worker.errored.connect(lambda exc, tb, g=gen_id: self._on_failed(g, exc, tb))
        worker.aborted.connect(lambda g=gen_id: self._on_aborted(g))
        worker.finished.connect(lambda g=gen_id: self._on_finished(g))
        self._worker, self._active_id, self._elapsed = worker, gen_id, 0.0
        log.info("generation %d: %s", gen_id, _describe(job.request))
        self.busy_changed.emit(True)
        self.started.emit(gen_id, job)
        worker.start()
        return gen_id

    def cancel(self) -> bool:
        """Ask the running worker to stop; its remaining payloads are dropped from now on."""
        if self._worker is None:
            return False
        self._worker.quit()
        cancelled_id, self._active_id = self._active_id, None
        if cancelled_id is not None:
            self.cancelled.emit(cancelled_id)
        return True

    # ---- worker signals (on the GUI thread) --------------------------------------------------
    def _on_step(self, gen_id: int, step) -> None:
        if gen_id == self._active_id:
            self._elapsed = step.elapsed
            self.step.emit(gen_id, step)

    def _on_returned(self, gen_id: int, value) -> None:
        if gen_id == self._active_id:
            seconds = float(getattr(value, "meta", {}).get("seconds", self._elapsed))
            self.succeeded.emit(gen_id, value, seconds)

    def _on_failed(self, gen_id: int, exc, tb: str) -> None:
        if gen_id == self._active_id:
            self.failed.emit(gen_id, exc, tb)
        else:
            log.info("dropping the failure of stale generation %d: %s", gen_id, exc)

    def _on_aborted(self, gen_id: int) -> None:
        if gen_id == self._active_id:  # the engine stopped by itself
            self._active_id = None
            self.cancelled.emit(gen_id)

    def _on_finished(self, gen_id: int) -> None:
        if self._worker is None or self._worker.name != f"generation-{gen_id}":
            return
        self._worker = None
        if self._active_id == gen_id:
            self._active_id = None
        self.busy_changed.emit(False)


def _describe(request: GenerationRequest) -> str:
    what = repr(request.prompt) if request.prompt else str(request.image)
    return f"{what}, model={request.model}, seed={request.seed}, device={request.device}"
