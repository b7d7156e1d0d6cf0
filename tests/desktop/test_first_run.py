"""The first launch in the real window: the welcome panel, and the device in the status bar,
with a missing-GPU case simulated (an NVIDIA card present, torch built for the CPU)."""

from __future__ import annotations

import pytest

from tests.engine.test_devices import LINUX, RTX, fake_torch

pytestmark = pytest.mark.gui


@pytest.fixture
def gpu_but_cpu_torch(monkeypatch):
    from engine import devices

    real = devices.detect_devices

    def simulated(**_kw):
        return real(probe_nvidia=lambda: RTX, torch_module=fake_torch(), host=LINUX)

    monkeypatch.setattr(devices, "detect_devices", simulated)


def test_first_launch_welcomes_and_warns_about_the_unused_gpu(
    make_window, qtbot, gpu_but_cpu_torch, artifacts_dir
):
    window = make_window(probe=True)
    qtbot.waitUntil(lambda: "welcome" in window.dialogs, timeout=60_000)
    panel = window.dialogs["welcome"]
    qtbot.waitExposed(panel)
    label = window.first_run.label
    assert label.has_warning and "CPU" in label.text()
    assert RTX in label.toolTip() and "pip install" in label.toolTip()
    from PySide6.QtWidgets import QLabel

    texts = [t.text() for t in panel.findChildren(QLabel)]  # the panel says it, prominently
    assert any(RTX in t and "20×" in t for t in texts)
    window.composite_image().save(str(artifacts_dir / "first_run_window.png"))
    panel.grab().save(str(artifacts_dir / "first_run_panel_gpu_warning.png"))
    panel.close()
    # a second window with the same profile does not welcome again
    window.close()
    again = make_window(probe=True)
    qtbot.waitUntil(lambda: again.first_run.report is not None, timeout=60_000)
    assert "welcome" not in again.dialogs
    assert again.first_run.label.has_warning
