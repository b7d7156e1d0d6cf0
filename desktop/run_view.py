"""A run's life in the window: progress bar, status line, live points and the saved result."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from desktop.history import HistoryEntry
from desktop.history_meta import history_meta
from desktop.state import Job
from desktop.widgets.progress_panel import format_seconds
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


class RunView(QObject):
    """Connects the generation controller's signals to what the window shows."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.job: Job | None = None
        ctl = window.controller
        ctl.started.connect(self._on_started)
        ctl.step.connect(self._on_step)
        ctl.succeeded.connect(self._on_succeeded)
        ctl.failed.connect(self._on_failed)
        ctl.cancelled.connect(self._on_cancelled)
        ctl.busy_changed.connect(window.side.set_running)
        ctl.busy_changed.connect(self._on_busy)
        ctl.refused.connect(lambda text: window.statusBar().showMessage(text, 6000))
        self._stopping = False
        self._unsaved: tuple | None = None  # (result, job, seconds) waiting for its thumbnail

    def _on_started(self, _gen_id: int, job: Job) -> None:
        self.save_result()  # the previous result's thumbnail, before this run changes the view
        self.job = job
        self._stopping = False
        self.w.progress.begin("Loading the model…")
        self.w.statusBar().clearMessage()  # the progress panel owns the run's state

    def _on_step(self, _gen_id: int, step) -> None:
        w = self.w
        if step.notices:
            text = " ".join(step.notices)
            log.warning("%s", text)
            w.statusBar().showMessage(text, 15000)
        if step.image is not None:
            w.pictures.on_step(step, self.job)
        w.progress.show_step(step)  # marked dirty first: drawn with the viewer's frame
        if len(step.coords) and not step.variations:  # picture steps carry no points
            w.viewer.show_points(step.coords, step.colors)

    def _on_succeeded(self, _gen_id: int, result, seconds: float) -> None:
        w = self.w
        if not isinstance(result, PointCloud):  # a picture-only run: the picture is the result
            w.progress.finish(f"Picture ready in {format_seconds(seconds)}")
            w.statusBar().showMessage(
                "Picture ready: Continue to 3D, draw a new one, or replace it.", 8000
            )
            w.pictureReady.emit(result)
            return
        if self.job is not None and self.job.request.variations > 1:
            w.progress.finish(
                f"{self.job.request.variations} variations in {format_seconds(seconds)}"
            )
            w.variations.finished(result)
            return
        w.viewer.show_points(result.coords, result.colors)  # drawn by the next paint
        w.current_cloud = result
        w.progress.finish(f"Done in {format_seconds(seconds)} · {len(result):,} points")
        w.editing.start(result, self.job)  # editable at once; learns its History name when saved
        # the thumbnail is read from that frame once it is drawn: no render of its own, and
        # not in the same event as the frame
        self._unsaved = (result, self.job, seconds)
        w.viewer.when_drawn(self.save_result)

    def save_result(self) -> None:
        """Start writing the finished result to History (also called by closeEvent)."""
        if self._unsaved is None:
            return
        (result, job, seconds), self._unsaved = self._unsaved, None
        w = self.w
        w.viewer.flush()  # renders only if the final frame has not been drawn yet (close-down)
        w.history_saver.save(
            result,
            history_meta(job, result, seconds),
            lambda entry: self._on_saved(result, entry),
            frame=w.viewer.image(),
            picture=w.pictures.picture_for_history(job),
        )

    def _on_saved(self, cloud: PointCloud, entry: HistoryEntry) -> None:
        """The result's files are written (on a worker): list it and tell whoever waits."""
        w = self.w
        if w.closing:  # saved while the window shut down: the entry is there for next time
            return
        w.gallery.add_entry(entry)
        w.editing.saved_as(cloud, entry.folder.name)
        w.statusBar().showMessage(f"Saved to History as “{entry.title}”.", 8000)
        w.generationFinished.emit(entry)

    def _on_failed(self, _gen_id: int, exc: BaseException, tb: str) -> None:
        self.w.progress.finish("Failed: see the message", done=False)
        self.w.show_error(exc, tb)
        self.w.generationFailed.emit(exc)

    def _on_cancelled(self, _gen_id: int) -> None:
        """Shown at once; the run may still finish its current model call."""
        self._stopping = True
        self.w.progress.finish("Cancelling…", done=False)
        self.w.generationCancelled.emit()

    def _on_busy(self, busy: bool) -> None:
        if not busy and self._stopping:
            self._stopping = False
            self.w.progress.finish("Cancelled", done=False)
