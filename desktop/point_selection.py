"""Rectangle selection of points in the 3D view: drag a box, get the points whose screen
position falls inside it (through the camera's own projection, as VTK draws them)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSize, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QRubberBand


def project_to_widget(viewer, coords: np.ndarray) -> np.ndarray:
    """(N, 3) world -> (N, 2) widget pixels (x right, y down), as the viewer shows them."""
    renderer = viewer.plotter.renderer
    width, height = viewer.plotter.render_window.GetSize()
    camera = renderer.GetActiveCamera()
    matrix = camera.GetCompositeProjectionTransformMatrix(width / max(1, height), -1, 1)
    m = np.array([[matrix.GetElement(i, j) for j in range(4)] for i in range(4)])
    homogeneous = np.c_[np.asarray(coords, np.float64), np.ones(len(coords))] @ m.T  # (N, 4)
    ndc = homogeneous[:, :2] / homogeneous[:, 3:4]
    ratio = width / max(1, viewer.widget.width())  # physical / logical pixels
    x = (ndc[:, 0] + 1) / 2 * width / ratio
    y = (1 - (ndc[:, 1] + 1) / 2) * height / ratio
    return np.stack([x, y], axis=1)


def points_in_rect(viewer, coords: np.ndarray, rect: QRect) -> np.ndarray:
    """Boolean mask of the points drawn inside `rect` (widget pixels)."""
    xy = project_to_widget(viewer, coords)
    r = rect.normalized()
    return (
        (xy[:, 0] >= r.left())
        & (xy[:, 0] <= r.right() + 1)
        & (xy[:, 1] >= r.top())
        & (xy[:, 1] <= r.bottom() + 1)
    )


class RectangleSelector(QObject):
    """While active, a left-drag on the view draws a rubber band instead of turning the camera."""

    selected = Signal(QRect)  # the dragged box, widget pixels

    def __init__(self, viewer) -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self.active = False
        self._origin: QPoint | None = None
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, viewer.widget)

    def set_active(self, on: bool) -> None:
        if on == self.active:
            return
        self.active = on
        if on:
            self.viewer.widget.installEventFilter(self)
        else:
            self.viewer.widget.removeEventFilter(self)
            self._band.hide()
            self._origin = None

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self._origin = event.position().toPoint()
            self._band.setGeometry(QRect(self._origin, QSize()))
            self._band.show()
            return True
        if kind == QEvent.Type.MouseMove and self._origin is not None:
            self._band.setGeometry(QRect(self._origin, event.position().toPoint()).normalized())
            return True
        if kind == QEvent.Type.MouseButtonRelease and self._origin is not None:
            rect = QRect(self._origin, event.position().toPoint()).normalized()
            self._band.hide()
            self._origin = None
            self.selected.emit(rect)
            return True
        return False
