"""Point editing in the window: select, delete, recolour, remove floaters, undo/redo, re-upsample.

The cloud states live in engine.edit.EditHistory; this only connects it to the view and the bar."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QRect
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from desktop.history_meta import history_meta
from desktop.point_selection import RectangleSelector, points_in_rect
from desktop.state import Job, upsample_job
from engine.edit import EditHistory, delete_points, recolour_points, statistical_outliers
from engine.pointcloud import PointCloud
from engine.requests import GenerationRequest
from engine.routes import route_for

log = logging.getLogger(__name__)

SELECTED = np.array([1.0, 0.85, 0.1], np.float32)  # shown on selected points (not stored)
FLOATER = np.array([1.0, 0.15, 0.15], np.float32)  # shown on points "Remove" would delete


def job_from_entry(entry) -> Job:
    """Enough of a History entry's request to re-upsample it with the same conditioning."""
    meta = entry.meta
    image = meta.get("image")
    picture = getattr(entry, "picture_path", None)
    if meta.get("mode") == "text-image" and picture is not None and picture.is_file():
        image = str(picture)
    request = GenerationRequest(
        prompt=meta.get("prompt") or "",
        image=Path(image) if image else None,
        model=meta.get("model") or "embedded",
        seed=int(meta.get("seed") or 0),
    )
    return Job(request=request, mode=meta.get("mode") or "text")


class EditSession(QObject):
    """The cloud being edited (the window's current result) and its undo/redo history."""

    def __init__(self, window, bar) -> None:
        super().__init__(window)
        self.w, self.bar = window, bar
        self.history: EditHistory | None = None
        self.cloud: PointCloud | None = None  # what start() was given
        self.job: Job | None = None
        self.source: str | None = None  # the History entry the edits started from
        self.meta: dict = {}
        self.selection: np.ndarray | None = None
        self.preview: np.ndarray | None = None
        self.selector: RectangleSelector | None = None
        self.saving = None  # the state being written to History (Save is off for it)
        bar.selectToggled.connect(self.set_select_mode)
        bar.deleteRequested.connect(self.delete_selected)
        bar.recolourRequested.connect(self.recolour_selected)
        bar.floatersPreviewed.connect(self.preview_floaters)
        bar.floatersRemoved.connect(self.remove_floaters)
        bar.undoRequested.connect(self.undo)
        bar.redoRequested.connect(self.redo)
        bar.reupsampleRequested.connect(self.reupsample)
        bar.saveRequested.connect(self.save)
        self._update()

    # ---- state ------------------------------------------------------------------------------
    def start(self, cloud: PointCloud, job: Job | None, source: str | None = None) -> None:
        """A new result or an opened History entry becomes the cloud to edit."""
        colors = cloud.colors if cloud.colors is not None else np.full_like(cloud.coords, 0.8)
        self.history = EditHistory(cloud.coords, colors)
        self.cloud, self.job, self.source, self.meta = cloud, job, source, dict(cloud.meta)
        self.selection = self.preview = None
        self._update()

    def saved_as(self, cloud: PointCloud, source: str) -> None:
        """`cloud` reached History as `source` (saved on a worker): if it is still the one
        being edited, its edits and re-upsamples now name that entry."""
        if self.cloud is cloud:
            self.source = source

    @property
    def edited(self) -> bool:
        return self.history is not None and self.history.can_undo

    def current_cloud(self) -> PointCloud | None:
        if self.history is None:
            return None
        state = self.history.current
        meta = {**self.meta, "last_edit": state.label} if self.edited else self.meta
        return PointCloud(np.array(state.coords), np.array(state.colors), meta)

    def _update(self, note: str = "") -> None:
        h, b = self.history, self.bar
        has = h is not None
        picked = self.selection is not None and bool(self.selection.any())
        for button in (b.select, b.strength, b.remove, b.save):
            button.setEnabled(has)
        b.delete.setEnabled(picked)
        b.recolour.setEnabled(picked)
        b.undo.setEnabled(has and h.can_undo)
        b.redo.setEnabled(has and h.can_redo)
        b.reupsample.setEnabled(has and self._can_upsample())
        b.save.setEnabled(self.edited and self.saving is not h.current)
        b.status.setText(note)

    def _can_upsample(self) -> bool:
        if self.job is None:
            return False
        try:
            route = route_for(self.job.request.model)
        except ValueError:
            return False
        return route.upsampler is not None

    def _show(self) -> None:
        """The current state in the view, with the selection or the floater preview painted."""
        state = self.history.current
        colors = np.array(state.colors, np.float32)
        if self.preview is not None:
            colors[self.preview] = FLOATER
        elif self.selection is not None:
            colors[self.selection] = SELECTED
        self.w.viewer.show_points(state.coords, colors)
        self.w.current_cloud = self.current_cloud()

    def _push(self, coords, colors, label: str) -> None:
        self.history.push(coords, colors, label)
        self.selection = self.preview = None
        self._show()
        self._update(label)

    # ---- actions ----------------------------------------------------------------------------
    def set_select_mode(self, on: bool) -> None:
        if self.selector is None and self.w.viewer is not None:
            self.selector = RectangleSelector(self.w.viewer)
            self.selector.selected.connect(self.select_rect)
        if self.selector is not None:
            self.selector.set_active(on and self.history is not None)

    def select_rect(self, rect: QRect) -> int:
        if self.history is None:
            return 0
        self.selection = points_in_rect(self.w.viewer, self.history.current.coords, rect)
        self.preview = None
        self._show()
        n = int(self.selection.sum())
        self._update(f"{n:,} points selected" if n else "No points in that box")
        return n

    def delete_selected(self) -> None:
        if self.history is None or self.selection is None or not self.selection.any():
            return
        n = int(self.selection.sum())
        state = self.history.current
        coords, colors = delete_points(state.coords, state.colors, self.selection)
        self._push(coords, colors, f"Deleted {n:,} points")

    def recolour_selected(self) -> None:
        if self.history is None or self.selection is None or not self.selection.any():
            return
        colour = QColorDialog.getColor(QColor("#d0302a"), self.w, "Colour for the selected points")
        if not colour.isValid():
            return
        rgb = (colour.redF(), colour.greenF(), colour.blueF())
        state = self.history.current
        n = int(self.selection.sum())
        colors = recolour_points(state.colors, self.selection, rgb)
        self._push(state.coords, colors, f"Recoloured {n:,} points")

    def preview_floaters(self, strength: float) -> int:
        """Paint in red what "Remove" would delete; nothing changes until then."""
        if self.history is None:
            return 0
        self.preview = statistical_outliers(self.history.current.coords, strength=strength)
        self.selection = None
        self._show()
        n = int(self.preview.sum())
        self._update(
            f"{n:,} stray points shown in red" if n else "No stray points at this strength"
        )
        return n

    def remove_floaters(self) -> None:
        if self.history is None:
            return
        if self.preview is None:
            self.preview_floaters(self.bar.strength.value() / 10)
        mask = self.preview
        if mask is None or not mask.any():
            return
        state = self.history.current
        coords, colors = delete_points(state.coords, state.colors, mask)
        self._push(coords, colors, f"Removed {int(mask.sum()):,} floaters")

    def undo(self) -> None:
        if self.history is not None and self.history.undo() is not None:
            self.selection = self.preview = None
            self._show()
            self._update("Undone")

    def redo(self) -> None:
        if self.history is not None and self.history.redo() is not None:
            self.selection = self.preview = None
            self._show()
            self._update("Redone")

    def reupsample(self) -> bool:
        """The upsampler on the edited cloud, with the original's text or picture."""
        if self.history is None or not self._can_upsample() or self.w.controller.busy:
            return False
        state = self.history.current
        cloud6 = np.concatenate([state.coords, state.colors], axis=1).astype(np.float32)
        job = upsample_job(self.job, cloud6)
        job = replace(job, edited_from=self.source)
        return self.w.start_job(job)

    def save(self) -> None:
        """The edited cloud as a new History entry that names the one it came from."""
        cloud = self.current_cloud()
        if cloud is None or not self.edited or self.saving is self.history.current:
            return
        meta = history_meta(self.job, cloud, 0.0)
        meta["edited_from"] = self.source
        meta["last_edit"] = cloud.meta.get("last_edit")
        self._show()
        self.w.viewer.flush()
        self.saving = state = self.history.current
        self._update()
        self.w.history_saver.save(
            cloud,
            meta,
            lambda entry: self._on_saved(cloud, state, entry),
            frame=self.w.viewer.image(),
        )

    def _on_saved(self, cloud: PointCloud, state, entry) -> None:
        """Written (on a worker): the saved cloud becomes the base of further edits, unless
        more edits were made meanwhile (then they stay, and only the gallery learns)."""
        if self.w.closing:
            return
        self.w.gallery.add_entry(entry)
        if self.saving is state:
            self.saving = None
        if self.history is not None and self.history.current is state:
            self.start(cloud, self.job, entry.folder.name)
        else:
            self._update()
        self.w.statusBar().showMessage(f"Edited cloud saved to History as “{entry.title}”.", 8000)
