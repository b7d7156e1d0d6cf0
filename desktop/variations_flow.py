"""Generate ×N in the window: live candidates side by side, pick one to upsample or keep."""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDockWidget

from desktop.history_meta import history_meta
from desktop.state import Job, upsample_job
from desktop.widgets.variation_grid import VariationGrid
from engine.pointcloud import PointCloud
from engine.routes import route_for

log = logging.getLogger(__name__)


def _grab_rgb(widget) -> np.ndarray:
    """A widget's pixels as (H, W, 3) uint8 (the History thumbnail of a variation)."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return rows[:, : w * 3].reshape(h, w, 3).copy()


class VariationsFlow(QObject):
    """Owns the Variations dock; connects the side panel, the controller and the grid."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.grid = VariationGrid(window)
        self.dock = QDockWidget("Variations", window)
        self.dock.setObjectName("dock_variations")
        self.dock.setWidget(self.grid)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self.job: Job | None = None  # the variations run the grid shows
        self.result: PointCloud | None = None
        window.side.variationsRequested.connect(self.start)
        self.grid.picked.connect(self.pick)
        self.grid.saveRequested.connect(self.save)
        ctl = window.controller
        ctl.started.connect(self._on_started)
        ctl.step.connect(self._on_step)

    def start(self, n: int) -> None:
        self.w.generate(variations=n)

    def _on_started(self, _gen_id: int, job: Job) -> None:
        if job.request.variations > 1:
            self.job, self.result = job, None
            self.grid.begin(job.request.variations, job.request.seed)
            self.dock.show()
            self.dock.raise_()

    def _on_step(self, _gen_id: int, step) -> None:
        if step.variations and self.job is not None:
            self.grid.show_step(step.variations)

    def finished(self, result: PointCloud) -> None:
        """The batch is done (RunView hands the result here instead of saving it)."""
        self.result = result
        self.grid.finish(self.can_upsample())
        self.w.statusBar().showMessage("Pick a variation: click the one you like.", 10000)

    def can_upsample(self) -> bool:
        job = self.job
        if job is None:
            return False
        route = route_for(job.request.model, draws_picture=job.request.picture is not None)
        upsample = self.w.side.upsample.isChecked() and self.w.side.upsample.isEnabled()
        return route.upsampler is not None and upsample

    def _variation(self, index: int) -> tuple[PointCloud, int]:
        coords, colors, seed = self.grid.cloud(index)
        meta = {**(self.result.meta if self.result else {}), "seed": seed, "variation": index}
        return PointCloud(coords.copy(), colors.copy(), meta), seed

    def pick(self, index: int) -> bool:
        """Continue with one: the upsampler runs on it, or (no upsampler) it becomes the result."""
        if self.job is None or self.w.controller.busy:
            return False
        cloud, seed = self._variation(index)
        if not self.can_upsample():
            self.w.viewer.show_points(cloud.coords, cloud.colors, fit=True)
            self.w.current_cloud = cloud
            self.save(index)
            return True
        image = None
        if self.job.request.picture is not None:  # text -> picture: lift the same picture
            image = self.w.pictures.saved_picture()
            if image is None:
                return False
        cloud6 = np.concatenate([cloud.coords, cloud.colors], axis=1)
        job = upsample_job(self.job, cloud6, seed=seed, image=image)
        return self.w.start_job(job)

    def save(self, index: int) -> None:
        """One variation to History with its own seed (and its thumbnail as the picture)."""
        if self.job is None:
            return
        cloud, seed = self._variation(index)
        job = replace(self.job, request=replace(self.job.request, seed=seed))
        seconds = float(cloud.meta.get("seconds", 0.0))
        self.w.history_saver.save(
            cloud,
            history_meta(job, cloud, seconds),
            lambda entry: self._on_saved(seed, entry),
            thumbnail=_grab_rgb(self.grid.thumbs[index]),
        )

    def _on_saved(self, seed: int, entry) -> None:
        w = self.w
        if w.closing:
            return
        w.gallery.add_entry(entry)
        w.statusBar().showMessage(f"Variation with seed {seed} saved to History.", 6000)
        w.generationFinished.emit(entry)
