"""Start-up stays fast: the window's import path pulls in neither torch nor pyvista/VTK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import desktop.app, desktop.main_window
heavy = sorted(m for m in ("torch", "pyvista", "pyvistaqt", "vtkmodules", "open_clip", "diffusers")
               if m in sys.modules)
print(json.dumps(heavy))
"""


def test_window_import_path_has_no_heavy_imports():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.gui
def test_background_probe_reports_devices_and_models(make_window, qtbot):
    window = make_window(probe=True)
    qtbot.waitUntil(lambda: hasattr(window, "availability"), timeout=120_000)
    assert "cpu" in window.availability.devices
    assert window.availability.model_installed("embedded")
    devices = [window.side.device.itemData(i) for i in range(window.side.device.count())]
    assert devices == list(window.availability.devices)


TRITON_AFTER_GL = """
import sys, time, importlib.util
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
from desktop.viewer import Viewer
window = QMainWindow()
viewer = Viewer(window)
window.setCentralWidget(viewer.widget)
window.show()
for _ in range(20):
    app.processEvents()
    time.sleep(0.01)
viewer.flush()
if importlib.util.find_spec("triton") is not None:
    import triton  # segfaults here if llvmpipe started first
viewer.close()
print("OK")
"""


@pytest.mark.gui
def test_triton_after_the_viewer_does_not_crash():
    """Software GL + triton loaded later = two LLVMs = segfault; the viewer preloads triton."""
    out = subprocess.run(
        [sys.executable, "-c", TRITON_AFTER_GL], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stderr[-2000:]
