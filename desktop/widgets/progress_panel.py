"""Progress of a generation: stage, step, elapsed time and an estimate of the time left."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

PERCENT = 1000  # progress bar resolution
MIN_UPDATE_S = 0.1  # QProgressBar repaints synchronously (and with it the 3D view): 10 Hz is plenty


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{secs} s"


def overall_fraction(stage_index: int, n_stages: int, step: int, total_steps: int) -> float:
    """Each stage counts equally; inside a stage, steps count equally (records = steps + 1)."""
    n_stages = max(1, n_stages)
    inside = min(1.0, step / max(1, total_steps))
    return min(1.0, (stage_index + inside) / n_stages)


class ProgressPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, PERCENT)
        self.bar.setTextVisible(True)
        self.bar.setFormat("Ready")
        self.bar.setValue(0)
        self.detail = QLabel("", self)
        self.detail.setObjectName("progressDetail")
        self._last_update = 0.0
        self._pending = None  # the latest payload not shown yet (throttled)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._show_pending)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.detail, 2)
        # the same height whatever it says, so the docks below never jump when a run starts
        self.detail.setText("Ready")
        self.setFixedHeight(self.sizeHint().height())
        self.detail.setText("")

    @property
    def text(self) -> str:
        """What the panel says about the run now (the one place that owns that text)."""
        return self.bar.format()

    def ready(self, text: str = "Ready") -> None:
        """Nothing running: the next Generate starts from here."""
        self.stop()
        self.bar.setRange(0, PERCENT)
        self.bar.setValue(0)
        self.bar.setFormat("Ready")
        self.detail.setText(text)

    def begin(self, text: str = "Starting…") -> None:
        self.bar.setRange(0, 0)  # busy indicator until the first step (model loading)
        self.bar.setFormat(text)
        self.detail.setText(text)

    def show_step(self, payload) -> None:
        """Update from a PipelineStep (stage, step, totals, elapsed), at most ~10 times a second."""
        now = time.perf_counter()
        wait = MIN_UPDATE_S - (now - self._last_update)
        if not payload.final and wait > 0:
            self._pending = payload
            if not self._timer.isActive():
                self._timer.start(int(wait * 1000) + 1)
            return
        self._timer.stop()
        self._pending = None
        self._last_update = now
        # QProgressBar.setValue repaints synchronously, and in a window holding an OpenGL view
        # every repaint recomposes the whole window (~30 ms on software GL). With updates off,
        # the change is only marked dirty and drawn with the next frame.
        self.setUpdatesEnabled(False)
        try:
            self._apply(payload)
        finally:
            self.setUpdatesEnabled(True)

    def _apply(self, payload) -> None:
        frac = overall_fraction(
            payload.stage_index, payload.n_stages, payload.step, payload.total_steps
        )
        self.bar.setRange(0, PERCENT)
        self.bar.setValue(int(frac * PERCENT))
        stage = f"{payload.stage} ({payload.stage_index + 1}/{payload.n_stages})"
        self.bar.setFormat(f"{stage} · step {payload.step}/{payload.total_steps}")
        left = getattr(payload, "seconds_left", None)  # calibrated, from the engine
        if left is None:  # not timed on this computer yet: extrapolate the share done
            left = payload.elapsed * (1 - frac) / frac if frac > 0.02 else None
        eta = f" · about {format_seconds(left)} left" if left is not None and frac < 1 else ""
        self.detail.setText(f"{format_seconds(payload.elapsed)} elapsed{eta}")

    def _show_pending(self) -> None:
        payload, self._pending = self._pending, None
        if payload is not None:
            self._last_update = 0.0
            self.show_step(payload)

    def stop(self) -> None:
        self._timer.stop()
        self._pending = None

    def finish(self, text: str, *, done: bool = True, detail: str = "") -> None:
        """The run's last word, said once (the bar); `detail` adds what the bar has no room for."""
        self.stop()
        self.bar.setRange(0, PERCENT)
        self.bar.setValue(PERCENT if done else 0)
        self.bar.setFormat(text)
        self.detail.setText(detail)
