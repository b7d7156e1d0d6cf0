"""Models dialog: installed/available models, downloads with progress and cancel, import, remove."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.workers import FunctionWorker

log = logging.getLogger(__name__)

COLUMNS = ("Model", "Purpose", "Size", "Status", "Progress")
_BAR_MAX = 1000


def _human(n: float) -> str:
    from engine.checkpoints.download import human_size

    return human_size(n)


class ModelsDialog(QDialog):
    """Never blocks the GUI thread: downloads and imports run in a worker QThread."""

    modelsChanged = Signal()  # something was installed or removed: refresh availability
    jobFinished = Signal(str)  # "ok", "cancelled" or the error message (for tests and the log)

    def __init__(self, store=None, parent: QWidget | None = None, highlight=()) -> None:
        super().__init__(parent)
        from engine.checkpoints import default_store

        self.store = store if store is not None else default_store()
        self.setWindowTitle("Models")
        self.resize(900, 420)
        self._worker: FunctionWorker | None = None
        self._cancel = threading.Event()
        self._rows: dict[str, int] = {}
        self._bars: dict[str, QProgressBar] = {}
        self._active: set[str] = set()
        self.last_error = ""

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.folder_label = QLabel(f"Folder: {self.store.root}", self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel download", self)
        self.import_file_button = QPushButton("Import file…", self)
        self.import_folder_button = QPushButton("Import folder…", self)
        self.remove_button = QPushButton("Remove", self)
        self.folder_button = QPushButton("Open folder", self)
        self.close_button = QPushButton("Close", self)
        self.download_button.clicked.connect(lambda: self.download(self.selected_names()))
        self.cancel_button.clicked.connect(self.cancel)
        self.import_file_button.clicked.connect(self._ask_import_file)
        self.import_folder_button.clicked.connect(self._ask_import_folder)
        self.remove_button.clicked.connect(lambda: self.remove_models(self.selected_names()))
        self.folder_button.clicked.connect(self.open_folder)
        self.close_button.clicked.connect(self.close)

        buttons = QHBoxLayout()
        for b in (
            self.download_button,
            self.cancel_button,
            self.import_file_button,
            self.import_folder_button,
            self.remove_button,
            self.folder_button,
        ):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.refresh()
        self.select(list(highlight))

    # -- table ------------------------------------------------------------------------------
    def refresh(self) -> None:
        from engine.checkpoints import all_entries

        entries = all_entries()
        self.table.setRowCount(len(entries))
        self._rows = {}
        for row, entry in enumerate(entries):
            self._rows[entry.name] = row
            installed = self.store.is_installed(entry.name)
            size = self.store.installed_size(entry.name) if installed else entry.size
            cells = (
                entry.name,
                entry.purpose,
                _human(size) if size else "?",
                self._status_text(entry, installed),
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 1:
                    item.setToolTip(
                        f"{entry.purpose}\nLicence: {entry.licence}\nMemory: {entry.vram_hint}"
                    )
                self.table.setItem(row, col, item)
            bar = self._bars.get(entry.name) or QProgressBar(self.table)
            bar.setRange(0, _BAR_MAX)
            if entry.name not in self._active:
                bar.setValue(_BAR_MAX if installed else 0)
            self._bars[entry.name] = bar
            self.table.setCellWidget(row, 4, bar)
        self.table.resizeColumnToContents(0)
        self._update_buttons()

    def _status_text(self, entry, installed: bool) -> str:
        if entry.name in self._active:
            return "Downloading…"
        if installed:
            return "Installed"
        return "Available"

    def status_of(self, name: str) -> str:
        return self.table.item(self._rows[name], 3).text()

    def bar(self, name: str) -> QProgressBar:
        return self._bars[name]

    def selected_names(self) -> list[str]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.table.item(r, 0).text() for r in rows]

    def select(self, names: list[str]) -> None:
        """Select every named row (selectRow alone would keep only the last one)."""
        self.table.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        selection = self.table.selectionModel()
        for name in names:
            if name in self._rows:
                selection.select(self.table.model().index(self._rows[name], 0), flags)

    @property
    def busy(self) -> bool:
        return self._worker is not None

    def _update_buttons(self) -> None:
        names = self.selected_names()
        idle = not self.busy
        self.download_button.setEnabled(idle and any(not self.store.is_installed(n) for n in names))
        self.remove_button.setEnabled(idle and any(self.store.is_installed(n) for n in names))
        self.cancel_button.setEnabled(self.busy)
        self.import_file_button.setEnabled(idle)
        self.import_folder_button.setEnabled(idle)

    # -- jobs -------------------------------------------------------------------------------
    def _start(self, fn: Callable, on_progress: Callable) -> None:
        if self.busy:
            raise RuntimeError("a download or import is already running")
        self._cancel = cancel = threading.Event()
        worker = FunctionWorker(lambda report: fn(report, cancel), "models-worker")
        worker.progress.connect(on_progress)
        worker.returned.connect(lambda result: self._on_finished(result, None, ""))
        worker.errored.connect(lambda exc, tb: self._on_finished(None, exc, tb))
        self._worker = worker.start()
        self._update_buttons()

    def download(self, names: list[str]) -> None:
        """Queue the not-yet-installed `names` (in order) on the worker thread."""
        names = [n for n in names if not self.store.is_installed(n)]
        if not names or self.busy:
            return
        self._active = set(names)
        for name in names:
            self.bar(name).setValue(0)
            self.bar(name).setFormat("queued")
        self.refresh()
        self.status.setText(f"Downloading {', '.join(names)}…")
        self._start(
            lambda progress, cancel: self.store.download(names, progress=progress, cancel=cancel),
            self._on_download_progress,
        )

    def import_path(self, path: str | Path) -> None:
        from engine.checkpoints.importer import import_path

        self.status.setText(f"Importing from {path}…")
        self._start(
            lambda progress, cancel: import_path(
                self.store, Path(path), report=progress, cancel=cancel
            ),
            self._on_import_item,
        )

    def cancel(self) -> None:
        if self.busy:
            self._cancel.set()
            self.status.setText("Cancelling…")

    @Slot(object)
    def _on_download_progress(self, p) -> None:
        bar = self._bars.get(p.label)
        if bar is None:
            return
        if p.total:
            bar.setValue(min(_BAR_MAX, int(_BAR_MAX * p.done / p.total)))
            bar.setFormat("%p%")
        parts = [f"{p.label}: {_human(p.done)}" + (f" of {_human(p.total)}" if p.total else "")]
        if p.speed:
            parts.append(f"{_human(p.speed)}/s")
        if p.eta:
            parts.append(f"{int(p.eta) // 60}:{int(p.eta) % 60:02d} left")
        if p.message:
            parts.append(p.message)
        self.status.setText(" · ".join(parts))

    @Slot(object)
    def _on_import_item(self, item) -> None:
        self.status.setText(f"{item.path.name}: {item.message}")

    def _on_finished(self, result, exc, tb: str) -> None:
        from engine.checkpoints import DownloadCancelled
        from engine.errors import StudioError

        self._stop_thread()
        active, self._active = self._active, set()
        self.refresh()
        changed = bool(result) and (
            isinstance(result, list) and any(getattr(r, "installed", True) for r in result)
        )
        if exc is None:
            outcome = "ok"
            if result and not isinstance(result[0], str):  # import report
                lines = [f"{i.path.name}: {i.message}" for i in result]
                self.status.setText("\n".join(lines[-6:]))
            else:
                self.status.setText("Done: " + (", ".join(result) if result else "nothing to do"))
        elif isinstance(exc, DownloadCancelled):
            outcome = "cancelled"
            self.status.setText("Cancelled. Nothing was installed from the cancelled download.")
        else:
            outcome = self.last_error = str(exc)
            if not isinstance(exc, StudioError):
                log.error("models job failed: %s\n%s", exc, tb)
            self.status.setText(f"Failed: {exc}")
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Models", str(exc), QMessageBox.StandardButton.Ok, self
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()  # non-modal: never blocks the event loop
        for name in active - set(result or []):
            self.bar(name).setFormat("%p%")
        if changed:
            self.modelsChanged.emit()
        self.jobFinished.emit(outcome)

    def _stop_thread(self) -> None:
        if self._worker is not None:
            self._worker.wait()
        self._worker = None

    # -- other actions ----------------------------------------------------------------------
    def remove_models(self, names: list[str], *, confirm: bool = True) -> None:
        names = [n for n in names if self.store.is_installed(n)]
        if not names or self.busy:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Remove models", f"Delete {', '.join(names)} from {self.store.root}?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        for name in names:
            self.store.remove(name)
        self.status.setText(f"Removed {', '.join(names)}.")
        self.refresh()
        self.modelsChanged.emit()

    def open_folder(self) -> None:
        self.store.root.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.store.root)))

    def _ask_import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import a model file",
            str(Path.home()),
            "Weights (*.pt *.pth *.bin *.safetensors);;All files (*)",
        )
        if path:
            self.import_path(path)

    def _ask_import_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Import models from a folder (point_e_model_cache, Hugging Face cache…)"
        )
        if path:
            self.import_path(path)

    # -- shutdown ---------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    def reject(self) -> None:
        self.shutdown()
        super().reject()

    def shutdown(self) -> None:
        """Cancel a running job and wait for its thread (the partial file is removed)."""
        if self._worker is not None:
            self._cancel.set()
            self._worker.returned.disconnect()  # the dialog is closing: results go nowhere
            self._worker.errored.disconnect()
            self._stop_thread()
            self._active = set()
