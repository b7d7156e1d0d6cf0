"""Estimated time per speed preset for the side panel's current settings (off the GUI thread)."""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer

from desktop import workers

log = logging.getLogger(__name__)


class PresetEstimates(QObject):
    """Re-estimates shortly after the model, device or steps change (never during a run)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.enabled = False  # from the first availability probe on (torch is warm then)
        self._worker: workers.FunctionWorker | None = None
        self._again = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(400)
        self._timer.timeout.connect(self._start)
        side = window.side
        for signal in (
            side.model.currentIndexChanged,
            side.device.currentIndexChanged,
            side.steps.valueChanged,
            side.upsample.toggled,
            side.modeChanged,
        ):
            signal.connect(self.schedule)
        window.controller.busy_changed.connect(lambda busy: None if busy else self.schedule())

    def schedule(self, *_args) -> None:
        if self.enabled and not self.w.closing:
            self._timer.start()

    def stop(self) -> None:
        """Close-down: no estimate starts after this (a running one is waited for)."""
        self.enabled = False
        self._timer.stop()

    def _start(self) -> None:
        w = self.w
        if w.controller.busy or w.closing:
            return
        if self._worker is not None:
            self._again = True
            return
        if w.side.missing_models() or w.side.mode == "text-image":
            w.side.show_estimates({})  # nothing to time until its models are there
            return
        request = w.side.build_job().request
        if not request.prompt:  # the words do not change the time; an empty box must not block
            request = replace(request, prompt="a cube")
        if w.side.mode != "text" and request.image is None:
            w.side.show_estimates({})
            return

        def estimate() -> dict:
            from engine.estimate import estimate_presets

            return estimate_presets(request)

        self._worker = workers.FunctionWorker(estimate, "estimate")
        self._worker.returned.connect(self._done)
        self._worker.errored.connect(lambda exc, _tb: log.info("no estimate: %s", exc))
        self._worker.finished.connect(self._finished)
        self._worker.start()

    def _done(self, seconds: dict) -> None:
        if not self.w.closing:
            self.w.side.show_estimates(seconds)

    def _finished(self) -> None:
        self._worker = None
        if self._again:
            self._again = False
            self.schedule()
