"""Seed variations side by side: small live views of N clouds denoising together; click to pick."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QMenu, QVBoxLayout, QWidget

#: A fixed three-quarter view: the thumbnails need no camera of their own (and no OpenGL).
_YAW, _PITCH = math.radians(-35.0), math.radians(25.0)


def project(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) data space (Z up) -> (N, 2) view-plane x/y in about -0.9..0.9, and depth (N,)."""
    c, s = math.cos(_YAW), math.sin(_YAW)
    x = coords[:, 0] * c - coords[:, 1] * s
    y = coords[:, 0] * s + coords[:, 1] * c
    cp, sp = math.cos(_PITCH), math.sin(_PITCH)
    up = coords[:, 2] * cp - y * sp
    depth = y * cp + coords[:, 2] * sp
    return np.stack([x, up], axis=1), depth


class CloudThumb(QWidget):
    """One variation: painted dots, far ones first, so it costs a few ms per update."""

    clicked = Signal(int)
    saveRequested = Signal(int)

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.seed: int | None = None
        self.coords = np.zeros((0, 3), np.float32)
        self.colors = np.zeros((0, 3), np.float32)
        self.selected = False
        self.setMinimumSize(110, 110)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to continue with this one; right-click to save it to History")

    def set_cloud(self, coords: np.ndarray, colors: np.ndarray, seed: int) -> None:
        self.coords, self.colors, self.seed = coords, colors, seed
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1e2227"))
        if len(self.coords):
            xy, depth = project(self.coords)
            order = np.argsort(depth)[::-1]  # far first: near points are drawn on top
            side = min(self.width(), self.height() - 16)
            cx, cy, scale = self.width() / 2, (self.height() - 16) / 2, side * 0.55
            rgb = (np.clip(self.colors[order], 0, 1) * 255).astype(int)
            p.setPen(Qt.PenStyle.NoPen)
            r = max(1.2, side / 90)
            for (x, y), (cr, cg, cb) in zip(xy[order], rgb, strict=True):
                p.setBrush(QColor(int(cr), int(cg), int(cb)))
                p.drawEllipse(QPointF(cx + x * scale, cy - y * scale), r, r)
        p.setPen(QColor("#d0d4d9"))
        label = f"seed {self.seed}" if self.seed is not None else "…"
        p.drawText(
            QRectF(0, self.height() - 16, self.width(), 16), Qt.AlignmentFlag.AlignCenter, label
        )
        if self.selected:
            p.setPen(QColor("#4c9be8"))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.rect().adjusted(1, 1, -2, -2))
        p.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and len(self.coords):
            self.clicked.emit(self.index)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if not len(self.coords):
            return
        menu = QMenu(self)
        menu.addAction("Save to History", lambda: self.saveRequested.emit(self.index))
        menu.exec(event.globalPos())


class VariationGrid(QWidget):
    """Up to 9 thumbnails in a grid; `picked(index)` when the user chooses one."""

    picked = Signal(int)
    saveRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("variationGrid")
        self.hint = QLabel("Generate ×N makes several candidates from consecutive seeds.")
        self.hint.setWordWrap(True)
        self.hint.setMinimumHeight(2 * self.hint.fontMetrics().lineSpacing() + 4)
        self.setMinimumWidth(240)
        self._grid = QGridLayout()
        self._grid.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addLayout(self._grid, 1)
        self.thumbs: list[CloudThumb] = []
        self.first_seed = 0
        self.updates = 0  # how many live updates reached the grid (tests, bench)

    def begin(self, n: int, first_seed: int) -> None:
        """A new run of n variations: n empty views, laid out as a near-square grid."""
        for thumb in self.thumbs:
            thumb.deleteLater()
        self.first_seed, self.updates = first_seed, 0
        cols = math.ceil(math.sqrt(n))
        self.thumbs = []
        for i in range(n):
            thumb = CloudThumb(i, self)
            thumb.clicked.connect(self._pick)
            thumb.saveRequested.connect(self.saveRequested)
            self._grid.addWidget(thumb, i // cols, i % cols)
            self.thumbs.append(thumb)
        self.hint.setText(f"{n} variations denoising together…")

    def show_step(self, variations) -> None:
        """Every thumbnail gets its own cloud of this step (PipelineStep.variations)."""
        for i, (coords, colors) in enumerate(variations[: len(self.thumbs)]):
            self.thumbs[i].set_cloud(coords, colors, self.first_seed + i)
        self.updates += 1

    def finish(self, can_upsample: bool) -> None:
        then = "to add detail to it" if can_upsample else "to open it"
        self.hint.setText(f"Click one {then}. Right-click: save to History.")

    def cloud(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        thumb = self.thumbs[index]
        return thumb.coords, thumb.colors, self.first_seed + index

    def _pick(self, index: int) -> None:
        for thumb in self.thumbs:
            thumb.selected = thumb.index == index
            thumb.update()
        self.picked.emit(index)
