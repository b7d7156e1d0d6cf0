"""The device in use (status bar) and the welcome panel a first launch shows."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject

from desktop import workers
from desktop.widgets import welcome
from desktop.widgets.device_label import DeviceLabel

log = logging.getLogger(__name__)


class FirstRun(QObject):
    """Detects the device off the GUI thread; shows it, warns, and welcomes a new user once."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.report = None
        self.label = DeviceLabel(parent=window)
        window.statusBar().addPermanentWidget(self.label)
        self.label.clicked.connect(self.show_welcome)
        self._probe: workers.FunctionWorker | None = None

    def start(self) -> None:
        if self._probe is not None:
            return
        from engine import devices

        self._probe = workers.FunctionWorker(devices.detect_devices, "devices")
        self._probe.returned.connect(self._on_report)
        self._probe.start()

    def _on_report(self, report) -> None:
        if self.w.closing:
            return
        self.report = report
        self.label.set_report(report)
        if report.warning:
            log.warning("%s", report.warning)
        if welcome.should_show(self.w.settings):
            self.show_welcome()

    def show_welcome(self) -> welcome.WelcomePanel:
        w = self.w
        panel = welcome.WelcomePanel(w.settings, self.report, w, installed=w.availability.installed)
        panel.tryPromptRequested.connect(self._try)
        panel.modelsRequested.connect(w.open_models)
        old = w.dialogs.get("welcome")
        if old is not None:
            old.close()
        w.dialogs["welcome"] = panel
        panel.show()  # non-modal
        return panel

    def _try(self, prompt: str) -> None:
        self.w.side.prompt.set_text(prompt)
        self.w.generate()
