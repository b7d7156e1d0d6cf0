"""File → Export…: asks for a file name and hands the cloud to engine.export when it exists."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)

NOT_AVAILABLE = (
    "Export is not available in this build yet. Every result is already saved as a Point-E "
    ".npz file in the history folder (right-click a result → Show in folder)."
)


def exporter():
    """engine.export.save if the exporter is installed, else None (imported lazily)."""
    try:
        module = importlib.import_module("engine.export")
    except ImportError as exc:
        log.info("engine.export not importable: %s", exc)
        return None
    return getattr(module, "save", None)


def run_export(parent: QWidget, cloud: PointCloud) -> Path | None:
    save = exporter()
    if save is None:
        QMessageBox.information(parent, "Export", NOT_AVAILABLE)
        return None
    name, _ = QFileDialog.getSaveFileName(
        parent, "Export point cloud", "pointcloud.ply", "PLY point cloud (*.ply);;All files (*)"
    )
    if not name:
        return None
    return export_to(parent, cloud, Path(name), save)


def export_to(parent: QWidget, cloud: PointCloud, path: Path, save=None) -> Path | None:
    from engine.errors import StudioError

    save = save or exporter()
    try:
        save(cloud, path)
    except (StudioError, ValueError, OSError) as exc:
        QMessageBox.warning(parent, "Export failed", f"Could not export to {path}:\n{exc}")
        return None
    log.info("exported %d points to %s", len(cloud), path)
    return path
