"""The first-run panel and the status bar's device label, standalone, with simulated devices."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication

from desktop.widgets import welcome
from desktop.widgets.device_label import DeviceLabel
from desktop.widgets.welcome import WelcomePanel
from engine.devices import DeviceReport, Host, detect_devices
from tests.engine.test_devices import RTX, fake_torch

pytestmark = pytest.mark.gui

LINUX = Host(system="Linux", machine="x86_64", cpu_threads=16)
TEXT_OFFER = "Point-E text model: base40M-textvec + upsample + CLIP ViT-L/14, about 2.0 GB"


@pytest.fixture
def cpu_report() -> DeviceReport:
    return detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(), host=LINUX)


@pytest.fixture
def gpu_warning_report() -> DeviceReport:
    """An NVIDIA GPU in the machine, a CPU-only torch in the source checkout."""
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=fake_torch(), host=LINUX)
    assert report.warning and report.fix_command
    return report


@pytest.fixture
def show_panel(qtbot, settings):
    def show(report: DeviceReport | None, **kwargs) -> WelcomePanel:
        panel = WelcomePanel(settings, report, **kwargs)
        qtbot.addWidget(panel)
        panel.show()
        qtbot.waitExposed(panel)
        return panel

    return show


def test_cpu_panel_texts_and_try_button(qtbot, show_panel, cpu_report, artifacts_dir):
    panel = show_panel(cpu_report)
    assert "Generating on: CPU (16 threads)" in panel.device_text.text()
    assert "CPU-only build" in panel.device_text.text()
    assert not panel.warning_frame.isVisible()
    offers = {route: check.text() for route, check in panel.offers.items()}
    assert offers["official-text"] == TEXT_OFFER
    assert offers["image-grid"].startswith(
        "Picture → 3D: base40M + upsample + CLIP ViT-L/14, about"
    )
    assert panel.offers["official-text"].isChecked()
    assert not panel.offers["image-grid"].isChecked()
    assert panel.try_button.text() == "Try “a red cube”"
    assert panel.models_button.text() == "Get the official models (about 2.0 GB)…"
    panel.grab().save(str(artifacts_dir / "welcome_cpu.png"))
    with qtbot.waitSignal(panel.tryPromptRequested) as blocker:
        panel.try_button.click()
    assert blocker.args == ["a red cube"]
    assert not panel.isVisible()


def test_gpu_warning_panel_shows_fix(qtbot, show_panel, gpu_warning_report, artifacts_dir):
    panel = show_panel(gpu_warning_report)
    assert panel.warning_frame.isVisible() and panel.copy_button.isVisible()
    text = panel.warning_text.text()
    assert f"found an NVIDIA GPU ({RTX}) but is running on the CPU, about 20× slower" in text
    assert "Fix:" in text and "--index-url https://download.pytorch.org/whl/cu130" in text
    panel.grab().save(str(artifacts_dir / "welcome_gpu_warning.png"))
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == gpu_warning_report.fix_command
    assert panel.copy_button.text() == "Copied"


def test_models_button_emits_selected_names(qtbot, show_panel, cpu_report):
    panel = show_panel(cpu_report)
    with qtbot.waitSignal(panel.modelsRequested) as blocker:
        panel.models_button.click()
    assert blocker.args == [["clip-vit-l-14", "base40M-textvec", "upsample"]]
    panel = show_panel(cpu_report)
    panel.offers["image-grid"].setChecked(True)
    assert panel.selected_models() == ["clip-vit-l-14", "base40M-textvec", "upsample", "base40M"]
    panel.offers["official-text"].setChecked(False)
    panel.offers["image-grid"].setChecked(False)
    assert not panel.models_button.isEnabled()


def test_installed_offers_are_marked(show_panel, cpu_report):
    installed = frozenset({"clip-vit-l-14", "base40M-textvec", "upsample"})
    panel = show_panel(cpu_report, installed=installed)
    check = panel.offers["official-text"]
    assert check.text().endswith("— installed") and not check.isEnabled()
    assert panel.selected_models() == []


def test_report_arrives_after_showing(show_panel, gpu_warning_report):
    panel = show_panel(None)
    assert "Checking" in panel.device_text.text() and not panel.warning_frame.isVisible()
    panel.set_report(gpu_warning_report)
    assert panel.warning_frame.isVisible()


def test_should_show_and_mark_seen(show_panel, settings, cpu_report):
    assert welcome.should_show(settings)
    panel = show_panel(cpu_report)
    panel.dont_show.setChecked(False)
    panel.close_button.click()
    assert welcome.should_show(settings)
    panel = show_panel(cpu_report)
    assert panel.dont_show.isChecked()
    panel.close()  # the window's close box counts as Close
    assert not welcome.should_show(settings)
    settings.q.sync()
    again = type(settings)(QSettings(settings.q.fileName(), QSettings.Format.IniFormat))
    assert not welcome.should_show(again)  # read back from the ini file as a string
    welcome.mark_seen(settings, False)
    assert welcome.should_show(settings)


def test_device_label(qtbot, cpu_report, gpu_warning_report):
    label = DeviceLabel()
    qtbot.addWidget(label)
    assert label.plain_text() == "Checking the device…"
    label.set_report(cpu_report)
    assert label.plain_text() == "CPU" and not label.has_warning
    assert "CPU (16 threads)" in label.toolTip()
    label.set_report(gpu_warning_report)
    assert label.plain_text() == "⚠ CPU" and label.has_warning
    assert "⚠" in label.text() and "about 20× slower" in label.toolTip()
    cuda = detect_devices(
        probe_nvidia=lambda: RTX, torch_module=fake_torch(cuda="13.0", cuda_ok=True), host=LINUX
    )
    label.set_report(cuda)
    assert label.text() == "NVIDIA GeForce RTX 3060 · 12 GB" and not label.has_warning
    with qtbot.waitSignal(label.clicked):
        qtbot.mouseClick(label, Qt.MouseButton.LeftButton)
