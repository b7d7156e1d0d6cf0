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


TRITON_BLOCKED = """
import engine, torch
try:
    import triton
except ImportError:
    print("blocked")
x = torch.nn.functional.softmax(torch.ones(3), dim=0)  # torch works without it
print(float(x.sum()))
"""


def test_engine_keeps_triton_out_of_the_process():
    """Software GL + a later triton import = two LLVMs = segfault; the engine blocks triton."""
    out = subprocess.run(
        [sys.executable, "-c", TRITON_BLOCKED], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["blocked", "1.0"]
