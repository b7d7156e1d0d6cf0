"""The Models window's "Download mirror…" dialog: edits the store's list of extra mirrors."""

from __future__ import annotations

import urllib.parse

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.models_table import ElidedLabel

EXPLANATION = (
    "A download mirror is another web address that holds the same model files, for example a "
    "copy on your own network or a site you trust. Put one address per line; they are tried in "
    "order, before the official servers, with the model's file name added at the end. Leave it "
    "empty to use only the official servers."
)


def parse_mirrors(text: str) -> tuple[list[str], list[str]]:
    """(addresses, problems): one address per line, blank lines ignored, duplicates dropped."""
    urls: list[str] = []
    problems: list[str] = []
    for line in text.splitlines():
        url = line.strip()
        if not url:
            continue
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(f"“{url}” is not a web address (it should start with https://).")
        elif url not in urls:
            urls.append(url)
    return urls, problems


def mirror_summary(store) -> str:
    """One line for the Models window: which mirror is tried first, if any."""
    from engine.checkpoints.settings import env_mirrors

    mirrors = [*env_mirrors(), *store.settings.extra_mirrors]
    if not mirrors:
        return "Download mirror: none (the official servers only)"
    more = f" and {len(mirrors) - 1} more" if len(mirrors) > 1 else ""
    return f"Download mirror: {mirrors[0]}{more}"


class MirrorDialog(QDialog):
    """Saves through StoreSettings, so the command line and the window share one mirror list."""

    def __init__(self, store, parent: QWidget | None = None) -> None:
        from engine.checkpoints.settings import MIRROR_ENV, env_mirrors

        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Download mirror")
        self.resize(560, 300)
        explanation = QLabel(EXPLANATION, self)
        explanation.setWordWrap(True)
        self.edit = QPlainTextEdit(self)
        self.edit.setPlaceholderText("https://example.org/point-e/")
        self.edit.setPlainText("\n".join(store.settings.extra_mirrors))
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.edit, 1)
        outside = env_mirrors()
        if outside:
            note = QLabel(
                f"Also tried first, set outside the app ({MIRROR_ENV}): {', '.join(outside)}",
                self,
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)

    def accept(self) -> None:
        """Save and close; an address that is not a web address keeps the dialog open."""
        from engine.errors import StudioError

        urls, problems = parse_mirrors(self.edit.toPlainText())
        if problems:
            self._show_error("\n".join(problems))
            return
        settings = self.store.settings
        previous = list(settings.extra_mirrors)
        settings.extra_mirrors = urls
        try:
            settings.save()
        except (StudioError, OSError) as exc:
            settings.extra_mirrors = previous
            self._show_error(f"Could not save the mirror: {exc}")
            return
        super().accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class MirrorRow(QWidget):
    """The Models window's "Download mirror: …  [Download mirror…]" line and its editor."""

    saved = Signal()

    def __init__(self, store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.dialog: MirrorDialog | None = None  # open while the user edits
        self.label = ElidedLabel(mirror_summary(store), self)
        self.button = QPushButton("Download mirror…", self)
        self.button.setToolTip("Another address to download the models from")
        self.button.clicked.connect(self.edit)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)

    def edit(self) -> None:
        """Open the editor (non-modal, so downloads and tests keep running)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        self.dialog = MirrorDialog(self.store, self)
        self.dialog.accepted.connect(self._on_saved)
        self.dialog.finished.connect(self._on_closed)
        self.dialog.open()

    def close_editor(self) -> None:
        if self.dialog is not None:
            self.dialog.reject()

    def _on_saved(self) -> None:
        self.label.setText(mirror_summary(self.store))
        self.saved.emit()

    def _on_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None
