"""Models dialog: installed/available models, downloads with progress and cancel, import, remove."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.mirror_settings import MirrorDialog, MirrorRow
from desktop.dialogs.models_report import describe_failure, live_status, progress_line
from desktop.dialogs.models_table import (
    PROGRESS_COL,
    STATUS_COL,
    ElidedLabel,
    row_cells,
    setup_table,
)
from desktop.workers import FunctionWorker

log = logging.getLogger(__name__)

_BAR_MAX = 1000


class ModelsDialog(QDialog):
    """Never blocks the GUI thread: downloads and imports run in a worker QThread."""

    modelsChanged = Signal()  # something was installed or removed: refresh availability
    jobFinished = Signal(str)  # "ok", "cancelled" or the error message (for tests and the log)

    def __init__(self, store=None, parent: QWidget | None = None, highlight=()) -> None:
        super().__init__(parent)
        from engine.checkpoints import default_store

        self.store = store if store is not None else default_store()
        self.setWindowTitle("Models")
        self.resize(1100, 480)
        self._worker: FunctionWorker | None = None
        self._cancel = threading.Event()
        self._rows: dict[str, int] = {}
        self._bars: dict[str, QProgressBar] = {}
        self._active: list[str] = []  # queued or downloading, in order
        self._live: dict[str, str] = {}  # status text of the active names
        self._failed: dict[str, tuple[str, str]] = {}  # name -> (short reason, full message)
        self.last_error = ""
        self.report_box: QMessageBox | None = None  # the last job's report, when it failed

        self.table = QTableWidget(0, 0, self)
        setup_table(self.table)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.folder_label = ElidedLabel(f"Folder: {self.store.root}", self)
        self.mirror_row = MirrorRow(self.store, self)
        self.mirror_row.saved.connect(self._mirrors_saved)
        self.mirror_label, self.mirror_button = self.mirror_row.label, self.mirror_row.button
        self.status = ElidedLabel("", self)
        button = self._button
        self.details_button = button("Details…", self.show_report, "The whole last report")
        policy = self.details_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # its row keeps one height: the table never jumps
        self.details_button.setSizePolicy(policy)
        self.details_button.hide()
        self.download_button = button("Download", lambda: self.download(self.selected_names()))
        self.cancel_button = button("Cancel download", self.cancel)
        self.import_file_button = button("Import file…", self._ask_import_file)
        self.import_folder_button = button("Import folder…", self._ask_import_folder)
        self.remove_button = button("Remove", lambda: self.remove_models(self.selected_names()))
        self.folder_button = button("Open folder", self.open_folder)
        self.close_button = button("Close", self.close)

        layout = QVBoxLayout(self)
        actions = (self.download_button, self.cancel_button, self.import_file_button)
        actions += (self.import_folder_button, self.remove_button, None, self.close_button)
        rows = (
            (self.folder_label, self.folder_button),
            (self.mirror_row,),
            (self.table,),
            (self.status, self.details_button),
            actions,
        )
        for widgets in rows:  # labels and the table take the room; None is a stretch
            row = QHBoxLayout()
            for w in widgets:
                if w is None:
                    row.addStretch(1)
                else:
                    row.addWidget(w, 0 if isinstance(w, QPushButton) else 1)
            layout.addLayout(row, 1 if widgets[0] is self.table else 0)
        self.refresh()
        self.select(list(highlight))

    def _button(self, text: str, slot: Callable, tip: str = "") -> QPushButton:
        button = QPushButton(text, self)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

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
            for col, (text, tip) in enumerate(row_cells(entry, size)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                self.table.setItem(row, col, item)
            self.table.setItem(row, STATUS_COL, QTableWidgetItem())
            self._set_status(entry.name, *self._status_text(entry, installed))
            bar = self._bars.get(entry.name) or QProgressBar(self.table)
            bar.setRange(0, _BAR_MAX)
            if entry.name not in self._active:  # an empty bar says "not here" without a 0%
                bar.setValue(_BAR_MAX if installed else 0)
                bar.setFormat("%p%" if installed else "")
            self._bars[entry.name] = bar
            self.table.setCellWidget(row, PROGRESS_COL, bar)
        self._update_buttons()

    def _status_text(self, entry, installed: bool) -> tuple[str, str]:
        """(text, tooltip) of the Status column: what a person would call it."""
        if entry.name in self._active:
            return self._live.get(entry.name, "Queued"), ""
        if installed:
            return "Installed", f"Installed in {self.store.model_dir(entry.name)}"
        if entry.name in self._failed:
            reason, full = self._failed[entry.name]
            return f"Failed: {reason}", full
        if not entry.files:
            return "Not available yet", entry.purpose
        return "Not downloaded", "Select it and press Download"

    def _set_status(self, name: str, text: str, tip: str = "") -> None:
        item = self.table.item(self._rows[name], STATUS_COL)
        item.setText(text)
        item.setToolTip(tip or text)

    def row_of(self, name: str) -> int:
        return self._rows[name]

    def status_of(self, name: str) -> str:
        return self.table.item(self._rows[name], STATUS_COL).text()

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
        for button in (self.import_file_button, self.import_folder_button, self.mirror_button):
            button.setEnabled(idle)

    # -- jobs -------------------------------------------------------------------------------
    def _start(self, fn: Callable, on_progress: Callable) -> None:
        if self.busy:
            raise RuntimeError("a download or import is already running")
        self._cancel = cancel = threading.Event()
        self.details_button.hide()
        worker = FunctionWorker(lambda report: fn(report, cancel), "models-worker")
        worker.progress.connect(on_progress)
        worker.returned.connect(lambda result: self._on_finished(result, None, ""))
        worker.errored.connect(lambda exc, tb: self._on_finished(None, exc, tb))
        self._worker = worker.start()
        self._update_buttons()

    def download(self, names: list[str]) -> None:
        """Queue the not-yet-installed `names` (in order) on the worker thread."""
        names = [n for n in dict.fromkeys(names) if not self.store.is_installed(n)]
        if not names or self.busy:
            return
        self._active = names
        self._live = {names[0]: "Downloading 0%"}
        for name in names:
            self._failed.pop(name, None)
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
        if bar is None or p.label not in self._active:
            return
        self._advance_to(p.label)
        if p.total:
            bar.setValue(min(_BAR_MAX, int(_BAR_MAX * p.done / p.total)))
            bar.setFormat("%p%")
        live = live_status(p)
        if self._live.get(p.label) != live:
            self._live[p.label] = live
            self._set_status(p.label, live)
        self.status.setText(progress_line(p))

    def _advance_to(self, name: str) -> None:
        """The models queued before `name` are done: show whether each one made it."""
        for earlier in self._active[: self._active.index(name)]:
            if self._live.get(earlier) not in ("Installed", "Failed"):
                self._live[earlier] = "Installed" if self.store.is_installed(earlier) else "Failed"
                self._set_status(earlier, self._live[earlier])
                self.bar(earlier).setFormat("%p%")

    @Slot(object)
    def _on_import_item(self, item) -> None:
        self.status.setText(f"{item.path.name}: {item.message}")

    def _on_finished(self, result, exc, tb: str) -> None:
        from engine.checkpoints import DownloadCancelled
        from engine.checkpoints.store import DownloadsFailed

        self._stop_thread()
        self._active, self._live = [], {}
        changed = isinstance(result, list) and any(getattr(r, "installed", True) for r in result)
        if exc is None:
            outcome = "ok"
            if result and not isinstance(result[0], str):  # import report
                lines = [f"{i.path.name}: {i.message}" for i in result]
                self.status.setText("\n".join(lines[-6:]))
            elif result:
                self.status.setText(f"Done: {', '.join(result)} installed.")
            else:
                self.status.setText("Done: nothing to do.")
        elif isinstance(exc, DownloadCancelled):
            outcome = "cancelled"
            self.status.setText("Cancelled. Nothing was installed from the cancelled download.")
        else:
            outcome = self.last_error = str(exc)
            if isinstance(exc, DownloadsFailed):
                changed = bool(exc.installed)
                for name in exc.failed:
                    self._failed[name] = (exc.reason(name), str(exc.failed[name]))
            self._report_failure(exc, tb)
        self.refresh()
        if changed:
            self.modelsChanged.emit()
        self.jobFinished.emit(outcome)

    def _report_failure(self, exc: BaseException, tb: str) -> None:
        """A one-line summary under the table and a report box with the whole story."""
        from engine.errors import StudioError

        if not isinstance(exc, StudioError):
            log.error("models job failed: %s\n%s", exc, tb)
        report = describe_failure(exc)
        self.status.setText(report.summary)
        self._close_report()
        box = QMessageBox(
            QMessageBox.Icon.Warning, "Models", report.text, QMessageBox.StandardButton.Ok, self
        )
        box.setInformativeText(report.hint)
        box.setDetailedText(report.details)
        self.report_box = box
        self.details_button.show()
        box.open()  # non-modal: never blocks the event loop

    def show_report(self) -> None:
        if self.report_box is not None:
            self.report_box.open()

    def _close_report(self) -> None:
        if self.report_box is not None:
            self.report_box.close()
            self.report_box.deleteLater()
            self.report_box = None

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

    @property
    def mirror_dialog(self) -> MirrorDialog | None:
        """The "Download mirror…" editor while it is open."""
        return self.mirror_row.dialog

    def _mirrors_saved(self) -> None:
        self.status.setText("Download mirror saved; it is tried first from the next download on.")

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
        self._close_report()
        self.mirror_row.close_editor()
        if self._worker is not None:
            self._cancel.set()
            self._worker.returned.disconnect()  # the dialog is closing: results go nowhere
            self._worker.errored.disconnect()
            self._stop_thread()
            self._active, self._live = [], {}
