"""Progress of a generation: stage, step, elapsed time and an estimate of the time left."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

PERCENT = 1000  # progress bar resolution


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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.detail, 2)

    def begin(self, text: str = "Starting…") -> None:
        self.bar.setRange(0, 0)  # busy indicator until the first step (model loading)
        self.bar.setFormat(text)
        self.detail.setText(text)

    def show_step(self, payload) -> None:
        """Update from a StepPayload (stage, step, totals, elapsed)."""
        frac = overall_fraction(
            payload.stage_index, payload.n_stages, payload.step, payload.total_steps
        )
        self.bar.setRange(0, PERCENT)
        self.bar.setValue(int(frac * PERCENT))
        stage = f"{payload.stage} ({payload.stage_index + 1}/{payload.n_stages})"
        self.bar.setFormat(f"{stage} · step {payload.step}/{payload.total_steps}")
        left = payload.elapsed * (1 - frac) / frac if frac > 0.02 else None
        eta = f" · about {format_seconds(left)} left" if left is not None and frac < 1 else ""
        self.detail.setText(f"{format_seconds(payload.elapsed)} elapsed{eta}")

    def finish(self, text: str, *, done: bool = True) -> None:
        self.bar.setRange(0, PERCENT)
        self.bar.setValue(PERCENT if done else 0)
        self.bar.setFormat(text)
        self.detail.setText(text)
