"""The 3D view's background import stays free of Qt: a Qt binding imported first on a worker
thread can corrupt the heap (desktop/viewer_host.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_the_worker_imports_no_qt_module_and_the_gui_thread_the_rest():
    script = textwrap.dedent(
        """
        import sys, threading
        from PySide6 import QtCore, QtGui, QtWidgets  # what the window has loaded already
        from desktop.viewer_host import import_renderer

        def qt_modules():
            return {m for m in sys.modules if m.split(".")[0] in ("PySide6", "qtpy", "pyvistaqt")
                    or m.startswith("vtkmodules.qt")}

        before = qt_modules()
        worker = threading.Thread(target=import_renderer)
        worker.start()
        worker.join()
        assert "pyvista" in sys.modules and "vtkmodules.vtkRenderingOpenGL2" in sys.modules
        print("worker:", sorted(qt_modules() - before))
        import desktop.viewer  # noqa: F401  (ViewerHost.ensure, on the GUI thread)
        print("gui:", sorted(qt_modules() - before))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    ).stdout.splitlines()
    assert out[0] == "worker: []"
    gui = out[1]
    assert "PySide6.QtOpenGLWidgets" in gui and "'pyvistaqt'" in gui  # what the worker left


def test_view_host_hands_the_worker_the_qt_free_import(qapp, monkeypatch):
    """What start_import runs off the GUI thread is import_renderer, not the viewer module."""
    from PySide6.QtCore import QObject

    from desktop import viewer_host

    started = []

    class Recorder:
        def __init__(self, fn, name):
            started.append((fn, name))
            self.finished = self

        def connect(self, slot):
            pass

        def start(self):
            return self

    monkeypatch.setattr(viewer_host, "FunctionWorker", Recorder)
    window = QObject()
    window.viewer = None
    viewer_host.ViewerHost(window, None, None).start_import()
    assert started == [(viewer_host.import_renderer, "viewer-import")]
