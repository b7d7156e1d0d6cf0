"""A direct export to a known path (no dialog), and the plain-words text of an export error."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desktop.dialogs.export_options import (
    ExportOptions,
    build,
    load_mesh_libraries,
    type_for_path,
    write,
)
from desktop.workers import FunctionWorker
from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)


def error_text(exc: BaseException) -> str:
    """Plain words for the dialog; the traceback goes to the log."""
    from desktop.dialogs.errors import user_message

    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"Could not write the file{where}: {exc.strerror}."
    return user_message(exc)[1]


class ExportJob(QObject):
    """A direct export to a known path with the default settings (no dialog); reports once.

    Quitting the app waits for it to finish (the file was asked for), unlike the dialog's
    export, which Cancel or closing stops before anything is written."""

    done = Signal(object, str)  # path or None, error message ("" on success)

    def __init__(self, parent: QWidget, cloud: PointCloud, path: Path) -> None:
        super().__init__(parent)
        self.path = Path(path)
        opts = ExportOptions(path=self.path, file_type=type_for_path(self.path))

        def job(report):  # not cancellable: quitting waits for a file asked for by path
            return write(build(cloud, opts, report, lambda: False), self.path)

        if opts.file_type.mesh:
            load_mesh_libraries()
        self.worker = FunctionWorker(job, "export")  # not cancellable: no `aborted` path
        # bound methods, not lambdas: Qt drops them once this job (a window child) is deleted
        self.worker.returned.connect(self._written)
        self.worker.errored.connect(self._failed)

    def _written(self, path) -> None:
        self.done.emit(path, "")

    def _failed(self, exc: BaseException, tb: str) -> None:
        log.error("export failed: %s\n%s", exc, tb)
        self.done.emit(None, error_text(exc))

    def start(self) -> None:
        self.worker.start()
