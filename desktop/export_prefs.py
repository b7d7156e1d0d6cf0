"""Remembered export choices (folder, file type) and a file name made from the prompt and seed."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

FOLDER_KEY = "export/folder"  # the folder of the last successful export
TYPE_KEY = "export/type"  # the id of the last format chosen in the Export dialog
OPTION_KEYS = {  # ExportOptions fields kept between exports, each under "export/<name>"
    "method": str,
    "grid": int,
    "smooth": int,
    "max_faces": int,  # 0: do not simplify
    "size_mm": float,
    "flat_base": bool,
    "base_depth_mm": float,
    "nozzle_mm": float,
}
MAX_STEM = 60  # long prompts make unwieldy file names


def default_folder() -> Path:
    """Documents when the system has one, else the home folder (first export only)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    if docs and Path(docs).is_dir():
        return Path(docs)
    return Path.home()


def safe_stem(meta: dict | None) -> str:
    """'a-red-cube-seed0' from the cloud's prompt and seed; 'pointcloud' when it has neither.

    Only ASCII letters, digits and dashes, so the name works on every file system."""
    meta = meta or {}
    prompt = str(meta.get("prompt") or "").strip()
    text = unicodedata.normalize("NFKD", prompt).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:MAX_STEM].strip("-")
    seed = meta.get("seed")
    if seed is not None and str(seed).strip().lstrip("-").isdigit():
        stem = f"{stem}-seed{int(seed)}" if stem else f"seed{int(seed)}"
    return stem or "pointcloud"


class ExportPrefs:
    """Reads and writes the export keys in the app's QSettings (or none, for a bare parent)."""

    def __init__(self, q: QSettings | None) -> None:
        self.q = q

    @classmethod
    def of(cls, parent: object) -> ExportPrefs:
        """The prefs of a main window (its `settings.q`); without one, nothing is remembered."""
        settings = getattr(parent, "settings", None)
        return cls(getattr(settings, "q", None))

    def folder(self) -> Path:
        """Where the save dialog starts: the last export folder while it still exists."""
        saved = self.q.value(FOLDER_KEY, "") if self.q is not None else ""
        if saved and Path(str(saved)).is_dir():
            return Path(str(saved))
        return default_folder()

    def file_type(self, default: str) -> str:
        if self.q is None:
            return default
        return str(self.q.value(TYPE_KEY, default) or default)

    def options(self) -> dict:
        """The mesh and print settings of the last export (only those saved and readable)."""
        out: dict = {}
        for name, kind in OPTION_KEYS.items():
            raw = self.q.value(f"export/{name}") if self.q is not None else None
            if raw is None:
                continue
            try:
                out[name] = str(raw).lower() == "true" if kind is bool else kind(raw)
            except (TypeError, ValueError):
                continue  # a hand-edited settings file: keep the default
        return out

    def remember_options(self, opts: object) -> None:
        """Keep the mesh and print settings for the next export (after a successful one)."""
        if self.q is None:
            return
        for name in OPTION_KEYS:
            value = getattr(opts, name)
            self.q.setValue(f"export/{name}", 0 if value is None else value)

    def remember(self, path: Path, file_type: str) -> None:
        """After a successful export: its folder and type become the next defaults."""
        if self.q is None:
            return
        self.q.setValue(FOLDER_KEY, str(Path(path).parent))
        self.q.setValue(TYPE_KEY, file_type)
        self.q.sync()
