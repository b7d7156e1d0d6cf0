"""History of results: each generation saved as npz + thumbnail + JSON in the data folder."""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.pointcloud import PointCloud

log = logging.getLogger(__name__)

CLOUD_FILE = "cloud.npz"
THUMB_FILE = "thumb.png"
META_FILE = "meta.json"
PICTURE_FILE = "picture.png"  # Text → Image → 3D: the picture the cloud was lifted from
FORMAT_VERSION = 1


@dataclass(frozen=True)
class HistoryEntry:
    """One saved result; `folder` holds the three files, `meta` is the parsed JSON."""

    folder: Path
    meta: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.folder.name

    @property
    def prompt(self) -> str:
        return str(self.meta.get("prompt") or "")

    @property
    def title(self) -> str:
        """What the gallery shows: the prompt, or the picture's name for image runs."""
        if self.prompt:
            return self.prompt
        image = self.meta.get("image")
        return Path(image).name if image else "(untitled)"

    @property
    def cloud_path(self) -> Path:
        return self.folder / CLOUD_FILE

    @property
    def thumb_path(self) -> Path:
        return self.folder / THUMB_FILE

    @property
    def picture_path(self) -> Path:
        return self.folder / PICTURE_FILE


def save_cloud_npz(cloud: PointCloud, path: Path) -> None:
    """Point-E's own npz layout (coords, R, G, B) so the files open in Point-E's tools too."""
    colors = cloud.colors if cloud.colors is not None else np.full_like(cloud.coords, 0.8)
    with open(path, "wb") as fh:
        np.savez(fh, coords=cloud.coords, R=colors[:, 0], G=colors[:, 1], B=colors[:, 2])


def load_cloud_npz(path: Path) -> PointCloud:
    """Read a history npz without ever unpickling (allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as data:
        coords = np.asarray(data["coords"], dtype=np.float32)
        if all(k in data for k in ("R", "G", "B")):
            colors = np.stack([data["R"], data["G"], data["B"]], axis=1).astype(np.float32)
        else:
            colors = None
    return PointCloud(coords, colors)


def square_thumbnail(rgb: np.ndarray, size: int = 160) -> np.ndarray:
    """The centre square of a frame, scaled to `size` pixels: what the gallery shows."""
    from PIL import Image

    pil = Image.fromarray(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8))
    side = min(pil.size)
    left, top = (pil.width - side) // 2, (pil.height - side) // 2
    pil = pil.crop((left, top, left + side, top + side)).resize((size, size))
    return np.asarray(pil)


def _save_png(rgb: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)).save(path, format="PNG")


class HistoryStore:
    """Folder-per-result store; an entry appears atomically (built in a temp dir, then renamed)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(
        self,
        cloud: PointCloud,
        meta: dict,
        thumbnail: np.ndarray | None = None,
        picture=None,
    ) -> HistoryEntry:
        """Write cloud, thumbnail, metadata and the source picture (PIL); returns the entry."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"{stamp}-{secrets.token_hex(3)}"
        full_meta = {
            "version": FORMAT_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "created_ts": time.time(),
            "n_points": len(cloud),
            **meta,
        }
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.root))
        try:
            save_cloud_npz(cloud, tmp / CLOUD_FILE)
            if thumbnail is not None:
                _save_png(thumbnail, tmp / THUMB_FILE)
            if picture is not None:
                picture.save(tmp / PICTURE_FILE, format="PNG")
            (tmp / META_FILE).write_text(json.dumps(full_meta, indent=2, default=str), "utf-8")
            final = self.root / name
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log.info("saved result to %s", final)
        return HistoryEntry(final, full_meta)

    def entries(self) -> list[HistoryEntry]:
        """All readable entries, newest first; damaged folders are skipped with a log line."""
        if not self.root.is_dir():
            return []
        found = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            try:
                meta = json.loads((folder / META_FILE).read_text("utf-8"))
                if not isinstance(meta, dict) or not (folder / CLOUD_FILE).is_file():
                    raise ValueError("incomplete entry")
            except (OSError, ValueError) as exc:
                log.warning("skipping history folder %s: %s", folder, exc)
                continue
            found.append(HistoryEntry(folder, meta))
        found.sort(key=lambda e: (e.meta.get("created_ts", 0.0), e.key), reverse=True)
        return found

    def load(self, entry: HistoryEntry) -> PointCloud:
        cloud = load_cloud_npz(entry.cloud_path)
        return PointCloud(cloud.coords, cloud.colors, dict(entry.meta))

    def delete(self, entry: HistoryEntry) -> None:
        """Remove the entry's folder; only folders inside this store are ever deleted."""
        folder = entry.folder.resolve()
        if folder.parent != self.root.resolve():
            raise ValueError(f"{folder} is not a history entry of {self.root}")
        shutil.rmtree(folder)
        log.info("deleted %s", folder)
