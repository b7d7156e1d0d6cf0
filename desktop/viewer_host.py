"""Creates the 3D view after the window first shows: pyvista/VTK take seconds to import.

Only the Qt-free part (pyvista, VTK's renderer) is imported on a worker. The Qt bindings'
modules (PySide6.QtOpenGL*, pyvistaqt's QObject classes, VTK's Qt interactor) are imported
on the GUI thread when the view is built, about 0.1 s: a Qt-linked library's first import off
the GUI thread once corrupted the heap (pymeshlab, see tests/desktop/conftest.py), and the
binding's type set-up is not meant to race the GUI thread's event loop."""

from __future__ import annotations

import importlib
import logging

from PySide6.QtCore import QObject, QPoint, Qt, Signal
from PySide6.QtGui import QImage, QPainter

from desktop.workers import FunctionWorker

log = logging.getLogger(__name__)


#: Imported off the GUI thread: slow, and free of Qt (tests/desktop/test_viewer_host.py).
RENDERER_MODULES = ("pyvista", "pyvista.plotting", "vtkmodules.vtkRenderingOpenGL2")


def import_renderer() -> None:
    """The slow, Qt-free imports of the 3D view (about a second on two cores)."""
    for name in RENDERER_MODULES:
        importlib.import_module(name)


class ViewerHost(QObject):
    """Imports the renderer on a worker, then the viewer module and the Viewer on the GUI
    thread."""

    ready = Signal(object)  # the Viewer

    def __init__(self, window, layout, placeholder) -> None:
        super().__init__(window)
        self.w = window
        self._layout = layout
        self._placeholder = placeholder
        self._import: FunctionWorker | None = None

    def start_import(self) -> None:
        """Called once after the first paint; the window stays live meanwhile."""
        if self.w.viewer is not None or self._import is not None:
            return
        worker = FunctionWorker(import_renderer, "viewer-import")
        worker.finished.connect(self.ensure)  # on failure too: ensure() retries here, loudly
        self._import = worker.start()

    def ensure(self):
        """Create the 3D view once (idempotent) and wire the view toolbar to it."""
        w = self.w
        if w.viewer is not None or w.closing:
            return w.viewer
        from desktop.viewer import Viewer  # its Qt modules: here, on the GUI thread

        was_active, focused = w.isActiveWindow(), w.focusWidget()
        viewer = Viewer(w)
        self._layout.replaceWidget(self._placeholder, viewer.widget)
        self._placeholder.deleteLater()
        w.viewer = viewer
        if was_active:  # creating VTK's native child window can take X focus from the window
            w.activateWindow()
        if focused is not None:
            focused.setFocus()
        viewer.message.connect(lambda text: w.statusBar().showMessage(text, 4000))
        vc = w.view_controls
        vc.pointSizeChanged.connect(viewer.set_point_size)
        vc.colorModeChanged.connect(viewer.set_color_mode)
        vc.singleColorChanged.connect(viewer.set_single_color)
        vc.edlChanged.connect(viewer.set_edl)
        vc.backgroundChanged.connect(viewer.set_background)
        vc.gridChanged.connect(viewer.set_grid)
        vc.axesChanged.connect(viewer.set_axes)
        vc.viewRequested.connect(lambda key: viewer.standard_view(Qt.Key(key)))
        vc.resetRequested.connect(viewer.reset_view)
        vc.turntableChanged.connect(viewer.set_turntable)
        viewer.turntableChanged.connect(vc.set_turntable_checked)  # T in the viewport
        viewer.set_point_size(vc.point_size.value())
        viewer.set_color_mode(vc.color_mode.currentData(), w.settings.get("view/single_color"))
        viewer.set_edl(vc.edl.isChecked())
        viewer.set_background(vc.background.currentData())
        viewer.set_grid(vc.grid.isChecked())
        viewer.set_axes(vc.axes.isChecked())
        self.ready.emit(viewer)
        return viewer


def composite_image(window) -> QImage:
    """The window as a person sees it (Qt's grab() leaves the OpenGL viewport black)."""
    image = window.grab().toImage()
    frame = window.viewer.image() if window.viewer is not None else None
    if frame is not None:
        h, w = frame.shape[:2]
        view = QImage(frame.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
        widget = window.viewer.widget
        top_left = widget.mapTo(window, QPoint(0, 0))
        scale = image.width() / max(1, window.width())
        painter = QPainter(image)
        target = view.scaled(int(widget.width() * scale), int(widget.height() * scale))
        painter.drawImage(int(top_left.x() * scale), int(top_left.y() * scale), target)
        painter.end()
    return image
