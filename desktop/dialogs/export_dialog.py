"""File → Export…: point clouds straight to engine.export, meshes built off the GUI thread."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from desktop.workers import FunctionWorker
from engine.pointcloud import Mesh, PointCloud

log = logging.getLogger(__name__)

CLOUD_FILTERS = {
    "PLY point cloud (*.ply)": ".ply",
    "Point-E NPZ point cloud (*.npz)": ".npz",
    "GLB point cloud (*.glb)": ".glb",
}
MESH_FILTERS = {
    "STL printable mesh, mm (*.stl)": ".stl",
    "3MF printable mesh, mm (*.3mf)": ".3mf",
    "OBJ mesh, mm (*.obj)": ".obj",
}
MESH_EXTS = set(MESH_FILTERS.values())
PRINT_SIZE_MM = 80.0


def export_object(cloud: PointCloud, path: Path) -> Path:
    """Write `cloud` (or a printable mesh built from it, by extension). Runs in any thread."""
    from engine import export

    path = Path(path)
    obj: PointCloud | Mesh = cloud
    if path.suffix.lower() in MESH_EXTS:
        from engine.meshing import mesh_point_cloud, prepare_for_print

        mesh, report = mesh_point_cloud(cloud, method="grid")
        obj, _ = prepare_for_print(mesh, size_mm=PRINT_SIZE_MM)
        log.info("mesh for %s: %s", path.name, report)
    return export.save(obj, path)


class ExportJob(QObject):
    """One export on a helper thread (meshing takes seconds); reports once, then is done."""

    done = Signal(object, str)  # path or None, error message ("" on success)

    def __init__(self, parent: QWidget, cloud: PointCloud, path: Path) -> None:
        super().__init__(parent)
        self.path = path
        self.worker = FunctionWorker(lambda: export_object(cloud, path), "export")
        self.worker.returned.connect(lambda p: self.done.emit(p, ""))
        self.worker.errored.connect(lambda exc, _tb: self.done.emit(None, str(exc)))

    def start(self) -> None:
        self.worker.start()


def ask_path(parent: QWidget, stem: str = "pointcloud") -> Path | None:
    filters = {**CLOUD_FILTERS, **MESH_FILTERS}
    name, chosen = QFileDialog.getSaveFileName(parent, "Export", f"{stem}.ply", ";;".join(filters))
    if not name:
        return None
    path = Path(name)
    if not path.suffix and chosen in filters:
        path = path.with_suffix(filters[chosen])
    return path


def run_export(parent: QWidget, cloud: PointCloud, path: Path | None = None) -> ExportJob | None:
    """Ask for a file (unless given) and export in the background with a busy dialog."""
    path = path or ask_path(parent)
    if path is None:
        return None
    progress = QProgressDialog(f"Exporting {path.name}…", "", 0, 0, parent)
    progress.setCancelButton(None)
    progress.setWindowTitle("Export")
    progress.setMinimumDuration(300)
    job = ExportJob(parent, cloud, path)

    def finished(written, error: str) -> None:
        progress.close()
        if error:
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Export failed",
                f"Could not export {path.name}:\n{error}", QMessageBox.StandardButton.Ok, parent,
            )  # fmt: skip
            box.open()  # non-modal: never blocks the window (or a test)
            job.error_box = box
        else:
            log.info("exported to %s", written)
            status = getattr(parent, "statusBar", None)
            if status is not None:
                status().showMessage(f"Exported {written}", 8000)
        job.deleteLater()

    job.done.connect(finished)
    job.start()
    return job
