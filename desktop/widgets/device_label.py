"""The status bar's device label: what generation runs on, with a warning sign when a GPU idles."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from engine.devices import DeviceReport

WARNING_SIGN = "⚠"
WARNING_COLOUR = "#b45309"  # amber: readable on light and dark status bars


def device_details(report: DeviceReport) -> str:
    """One line for tooltips: full name, PyTorch version and build."""
    torch = f"PyTorch {report.torch_version}" if report.torch_version else "no PyTorch"
    return (
        f"{report.name} — {torch}, {report.build}" if report.build else f"{report.name} — {torch}"
    )


class DeviceLabel(QLabel):
    """Shows "CPU" or "NVIDIA … · 12 GB"; a warning adds a sign and becomes the tooltip.

    A permanent status-bar widget: the window creates it at start-up (text "Checking…") and calls
    set_report() when the device probe returns; a click asks for the details (the welcome panel)."""

    clicked = Signal()

    def __init__(self, report: DeviceReport | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deviceLabel")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(6, 0, 6, 0)
        self.report: DeviceReport | None = None
        self.setText("Checking the device…")
        self.setToolTip("Point-E Studio is finding out whether this computer has a usable GPU.")
        if report is not None:
            self.set_report(report)

    def set_report(self, report: DeviceReport) -> None:
        self.report = report
        if report.warning:
            self.setText(
                f'<span style="color:{WARNING_COLOUR}; font-weight:bold">{WARNING_SIGN}</span> '
                f"{escape(report.label)}"
            )
            # rich-text tooltips wrap; plain text would be one very long line
            self.setToolTip(
                f"<p>{escape(report.warning)}</p><p>{escape(device_details(report))}</p>"
            )
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.setText(escape(report.label))
            self.setToolTip(escape(device_details(report)))
            self.unsetCursor()

    @property
    def has_warning(self) -> bool:
        return bool(self.report and self.report.warning)

    def plain_text(self) -> str:
        """The text as shown, without markup (for tests and the log)."""
        if self.report is None:
            return "Checking the device…"
        sign = f"{WARNING_SIGN} " if self.report.warning else ""
        return sign + self.report.label

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)
