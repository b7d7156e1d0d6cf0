"""The main window's dialogs and message boxes: errors, missing models, Models, About."""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.dialogs.errors import ErrorBox
from desktop.paths import data_dir


class DialogsMixin:
    """Opens the window's non-modal dialogs; `self.dialogs` keeps them for closeEvent."""

    dialogs: dict[str, QWidget]

    def show_error(self, exc: BaseException, tb: str) -> ErrorBox:
        """The single error path: a non-modal dialog plus the traceback in the log."""
        if self.last_error_box is not None:
            self.last_error_box.close()
        box = ErrorBox(self, exc, tb)
        box.modelsRequested.connect(self.open_models)
        box.open()
        self.dialogs["error"] = box
        return box

    @property
    def last_error_box(self) -> ErrorBox | None:
        return self.dialogs.get("error")

    @property
    def last_offer_box(self) -> QMessageBox | None:
        return self.dialogs.get("offer")

    def open_models(self, names: list | None = None) -> None:
        """The model manager (desktop.dialogs.models_dialog), with the missing names selected."""
        from desktop.dialogs.models_dialog import ModelsDialog

        dialog = self.dialogs.get("models")
        if dialog is not None and dialog.isVisible():
            dialog.raise_()
            return
        try:
            dialog = ModelsDialog(parent=self, highlight=tuple(names or ()))
        except Exception as exc:
            self.show_error(exc, traceback.format_exc())
            return
        dialog.modelsChanged.connect(self.refresh_installed)
        self.dialogs["models"] = dialog
        dialog.open()

    @property
    def models_dialog(self):
        return self.dialogs.get("models")

    def offer_models(self, names: list[str], text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Information,
            "Model not installed",
            text,
            QMessageBox.StandardButton.Cancel,
            self,
        )
        get = box.addButton("Open Models…", QMessageBox.ButtonRole.AcceptRole)
        get.clicked.connect(lambda: self.open_models(names))
        box.open()
        self.dialogs["offer"] = box

    def show_about(self) -> None:
        from desktop.dialogs.about import AboutDialog

        self.dialogs["about"] = AboutDialog(self)
        self.dialogs["about"].open()

    @property
    def about_dialog(self):
        return self.dialogs.get("about")

    def reveal(self, folder: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def reveal_data_folder(self) -> None:
        self.reveal(data_dir())
