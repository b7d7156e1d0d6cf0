"""Saving results to History off the GUI thread: a function worker writes the entry's files."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject

from desktop.history import HistoryEntry, square_thumbnail
from desktop.workers import FunctionWorker, Worker
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


class HistorySaver(QObject):
    """Writes History entries on worker threads (npz, PNG encoding and JSON take tens of ms, a
    visible stall at the end of every run); the caller hears back on the GUI thread."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self._running = 0  # Worker keeps each worker alive until its thread has ended

    @property
    def busy(self) -> bool:
        """An entry is still being written."""
        return self._running > 0

    def save(
        self,
        cloud: PointCloud,
        meta: dict,
        on_saved: Callable[[HistoryEntry], None],
        *,
        frame: np.ndarray | None = None,
        thumbnail: np.ndarray | None = None,
        picture=None,
    ) -> Worker:
        """Start writing; `on_saved(entry)` runs on the GUI thread once the entry exists.

        `frame` is the viewer's image, cut to the square thumbnail on the worker; `thumbnail`
        one that is ready. The arrays and the picture must not change while the worker runs."""
        store = self.w.history

        def write() -> HistoryEntry:
            thumb = square_thumbnail(frame) if frame is not None else thumbnail
            return store.save(cloud, meta, thumb, picture=picture)

        worker = FunctionWorker(write, "history-save")
        worker.returned.connect(on_saved)
        worker.errored.connect(self._on_error)
        # bound methods only: a slot holding `worker` would make a reference cycle, and the
        # garbage collector may free it on any thread, QThread and all
        worker.finished.connect(self._on_finished)
        self._running += 1
        return worker.start()

    def _on_finished(self) -> None:
        self._running -= 1

    def _on_error(self, exc: BaseException, tb: str) -> None:
        if self.w.closing:  # no dialog after the window has gone
            log.error("could not save to History: %s\n%s", exc, tb)
            return
        self.w.show_error(exc, tb)
