"""File → Export…: the Export dialog (formats, mesher, print settings, preview, print check)."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.export_form import ExportForm
from desktop.dialogs.export_job import ExportJob, error_text
from desktop.dialogs.export_options import (
    DEFAULT_TYPE,
    ExportOptions,
    Prepared,
    build,
    load_mesh_libraries,
    report_html,
    sdf_availability,
    stop_if_cancelled,
    type_for_path,
    write,
)
from desktop.export_prefs import ExportPrefs, safe_stem
from desktop.workers import FunctionWorker
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


class ExportDialog(QDialog):
    """Non-modal: build (on a worker, cancellable), preview and check, then write atomically."""

    done = Signal(object, str)  # written path or None, error message ("" on success or cancel)

    def __init__(self, parent: QWidget | None, cloud: PointCloud) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self.cloud = cloud
        self.prefs = ExportPrefs.of(parent)
        self.worker: FunctionWorker | None = None
        self.prepared: Prepared | None = None
        self._prepared_key: ExportOptions | None = None  # the options `prepared` was built with
        self.written: Path | None = None
        self._step, self._step_started = "", 0.0  # the current step, for "about N s left"
        self._replace_ok: Path | None = None  # an existing file the user agreed to overwrite

        ok, reason = sdf_availability()
        self.form = ExportForm(self, ok, reason)
        self.preview_label = QLabel("Press Preview to see the model\nand its print check.", self)
        self.preview_label.setObjectName("exportPreview")
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setFixedSize(260, 260)
        self.preview_label.setStyleSheet("border: 1px solid palette(mid);")
        self.check_label = QLabel("", self)
        self.check_label.setObjectName("exportCheck")
        self.check_label.setWordWrap(True)
        self.check_label.setTextFormat(Qt.TextFormat.RichText)
        self.check_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.check_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea(self)  # long warnings scroll instead of squeezing the dialog
        scroll.setWidget(self.check_label)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setFixedWidth(290)
        scroll.setMinimumHeight(220)
        right = QVBoxLayout()
        right.addWidget(self.preview_label, 0, Qt.AlignmentFlag.AlignHCenter)
        right.addWidget(scroll, 1)
        top = QHBoxLayout()
        top.addWidget(self.form, 1)
        top.addLayout(right)

        self.status_label = QLabel("", self)
        self.status_label.setObjectName("exportStatus")
        self.status_label.setWordWrap(True)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setVisible(False)
        self.preview_button = QPushButton("Preview", self)
        self.export_button = QPushButton("Export", self)
        self.export_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop building the mesh; nothing is written")
        self.cancel_button.setEnabled(False)
        self.close_button = QPushButton("Close", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress_bar, 1)
        for b in (self.preview_button, self.export_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)

        f = self.form
        f.set_file_type(self.prefs.file_type(DEFAULT_TYPE))
        f.apply(self.prefs.options())
        ext = f.file_type().ext
        f.path_edit.setText(str(self.prefs.folder() / f"{safe_stem(cloud.meta)}{ext}"))
        self._type_changed()
        f.type_combo.currentIndexChanged.connect(self._type_changed)
        f.path_edit.textChanged.connect(self._path_changed)
        f.browse_button.clicked.connect(self.browse)
        self.preview_button.clicked.connect(self.preview)
        self.export_button.clicked.connect(self.export)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        opener = getattr(parent, "open_models", None)
        f.install_button.setVisible(f.install_button.isVisibleTo(self) and callable(opener))
        if callable(opener):
            f.install_button.clicked.connect(lambda: opener(["sdf"]))
        self.resize(self.sizeHint().expandedTo(QSize(780, 560)))

    # ---- the form ---------------------------------------------------------------------------
    def _type_changed(self) -> None:
        t = self.form.file_type()
        self.form.set_mesh_enabled(t.mesh)
        text = self.form.path_edit.text().strip()
        if text:
            self.form.path_edit.setText(str(Path(text).with_suffix(t.ext)))

    def _path_changed(self) -> None:
        self._replace_ok = None
        self.export_button.setText("Export")

    def browse(self) -> None:
        """The system's save dialog, starting at the path field (the last export folder)."""
        t = self.form.file_type()
        start = self.form.path_edit.text().strip() or str(self.prefs.folder())
        name, _ = QFileDialog.getSaveFileName(
            self, "Export as", start, f"{t.label.rsplit(' (', 1)[0]} (*{t.ext});;All files (*)"
        )
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() != t.ext:
            other = type_for_path(path) if path.suffix else None
            if other is not None and path.suffix.lower() == other.ext:
                self.form.set_file_type(other.id)
            else:
                path = path.with_suffix(t.ext)
        self.form.path_edit.setText(str(path))
        self._replace_ok = path  # the system dialog already asked about replacing it

    # ---- work ---------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def preview(self) -> None:
        """Build and check without writing."""
        self._start(self.form.options(), write_file=False)

    def export(self) -> None:
        """Build (unless the preview already matches the settings), show it, then write."""
        opts = self.form.options()
        if not opts.path.name or opts.path.suffix.lower() != opts.file_type.ext:
            self._say(f"Choose a file name ending in {opts.file_type.ext}.", error=True)
            return
        if opts.path.is_file() and self._replace_ok != opts.path:
            self._replace_ok = opts.path  # a second press replaces it (never a blocking question)
            self.export_button.setText("Replace")
            self._say(f"{opts.path.name} already exists. Press Replace to overwrite it.")
            return
        self.export_button.setText("Export")
        self._start(opts, write_file=True)

    def _start(self, opts: ExportOptions, *, write_file: bool) -> None:
        if self.busy():
            return
        key = replace(opts, path=Path())
        reuse = self.prepared if self._prepared_key == key else None
        cloud = self.cloud

        def job(report, cancelled):
            prepared = reuse or build(cloud, opts, report, cancelled)
            report(prepared)
            if not write_file:
                return prepared, None
            stop_if_cancelled(cancelled)  # the last chance to stop: after this the file is written
            return prepared, write(prepared, opts.path)

        if opts.file_type.mesh and reuse is None:
            load_mesh_libraries()
        self.worker = worker = FunctionWorker(job, "export")
        worker.progress.connect(self._progress)
        worker.returned.connect(lambda value: self._finished(key, opts, *value))
        worker.errored.connect(self._failed)
        worker.aborted.connect(self._aborted)
        worker.finished.connect(self._idle)
        self._set_running(True)
        self._say("Writing…" if reuse is not None and write_file else "Starting…")
        worker.start()

    def cancel(self) -> None:
        if self.busy():
            self.worker.quit()
            self._say("Stopping… (after the current step)")
            self.cancel_button.setEnabled(False)

    def _set_running(self, running: bool) -> None:
        self.progress_bar.setVisible(running)
        self.progress_bar.setRange(0, 0)
        self.cancel_button.setEnabled(running)
        for w in (self.preview_button, self.export_button, self.form):
            w.setEnabled(not running)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #b00020;" if error else "")
        self.status_label.setText(text)

    def _progress(self, item: object) -> None:
        if isinstance(item, Prepared):
            self._show(item)
            return
        text, done, total = item
        if text != self._step:
            self._step, self._step_started = text, time.monotonic()
        if total and done:
            elapsed = time.monotonic() - self._step_started
            left = elapsed * (total - done) / done
            eta = f", about {left:.0f} s left" if left >= 1 else ""
            text = f"{text} {100 * done // total}%{eta}"
        if not (self.worker and self.worker.abort_requested):
            self._say(text)
        self.progress_bar.setRange(0, total or 0)
        if total:
            self.progress_bar.setValue(done)

    def _show(self, prepared: Prepared) -> None:
        """The preview picture and, for a mesh, the print check beside it."""
        if prepared.preview is not None:
            img = np.ascontiguousarray(prepared.preview)
            h, w, _ = img.shape
            qimg = QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self.preview_label.setPixmap(QPixmap.fromImage(qimg))
        self.check_label.setText(report_html(prepared))

    def _finished(self, key: ExportOptions, opts: ExportOptions, prepared, path) -> None:
        self.prepared, self._prepared_key = prepared, key
        if path is None:
            self._say("Preview ready. Press Export to save it.")
            return
        self.written = Path(path)
        self.prefs.remember(self.written, opts.file_type.id)
        if opts.file_type.mesh:
            self.prefs.remember_options(opts)
        self._say(f"Saved {self.written.name} in {self.written.parent}.")
        log.info("exported to %s", self.written)
        status = getattr(self.parent(), "statusBar", None)
        if status is not None:
            status().showMessage(f"Exported {self.written}", 8000)
        self.done.emit(self.written, "")

    def _failed(self, exc: BaseException, tb: str) -> None:
        log.error("export failed: %s\n%s", exc, tb)
        message = error_text(exc)
        self._say(f"Could not export: {message}", error=True)
        self.done.emit(None, message)

    def _aborted(self) -> None:
        self._say("Export cancelled: nothing was written.")
        self.done.emit(None, "")

    def _idle(self) -> None:
        self._set_running(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing stops a running build (the window's shutdown waits for it)."""
        if self.busy():
            self.worker.quit()
        super().closeEvent(event)


def run_export(
    parent: QWidget, cloud: PointCloud, path: Path | None = None
) -> ExportDialog | ExportJob:
    """With a path: export straight away. Without: open (or raise) the Export dialog."""
    if path is not None:
        job = ExportJob(parent, cloud, Path(path))
        job.start()
        return job
    dialogs = getattr(parent, "dialogs", None)
    old = dialogs.get("export") if isinstance(dialogs, dict) else None
    if isinstance(old, ExportDialog) and old.isVisible() and old.busy():
        old.raise_()
        old.activateWindow()
        return old
    if old is not None:
        old.close()
    dialog = ExportDialog(parent, cloud)
    if isinstance(dialogs, dict):
        dialogs["export"] = dialog
    dialog.show()
    return dialog
