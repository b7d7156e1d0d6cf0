"""NPZ in Point-E's own layout (spec 14.3), so files round-trip with the original code."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh, PointCloud

_RGB = ("R", "G", "B")


def encode_npz(obj: PointCloud | Mesh) -> bytes:
    """PointCloud: `coords` + R, G, B channels; Mesh: `verts`, `faces` + `v_R`, `v_G`, `v_B`."""
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, PointCloud):
        arrays["coords"] = obj.coords
        prefix = ""
    else:
        arrays["verts"], arrays["faces"] = obj.verts, obj.faces
        prefix = "v_"
    if obj.colors is not None:
        for i, name in enumerate(_RGB):
            arrays[prefix + name] = np.ascontiguousarray(obj.colors[:, i])
    out = io.BytesIO()
    np.savez(out, **arrays)  # type: ignore[arg-type]
    return out.getvalue()


def _channels(data: np.lib.npyio.NpzFile, prefix: str, n: int) -> np.ndarray | None:
    if not all(prefix + c in data.files for c in _RGB):
        return None
    cols = np.stack([np.asarray(data[prefix + c], dtype=np.float32) for c in _RGB], axis=1)
    if cols.shape != (n, 3):
        raise UserInputError("The NPZ colour channels do not match the number of points.")
    return cols


def decode_npz(data: bytes) -> PointCloud | Mesh:
    """Never unpickles: object arrays are refused with a clear message."""
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise UserInputError("Not a readable NPZ file.") from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise UserInputError("Not an NPZ archive (it holds a single array).")
    try:
        with npz:
            if "coords" in npz.files:
                coords = np.asarray(npz["coords"], dtype=np.float32)
                if coords.ndim != 2 or coords.shape[1] != 3:
                    raise UserInputError(f"NPZ 'coords' must be (N, 3), got {coords.shape}.")
                return PointCloud(coords, _channels(npz, "", len(coords)))
            if "verts" in npz.files and "faces" in npz.files:
                verts = np.asarray(npz["verts"], dtype=np.float32)
                faces = np.asarray(npz["faces"], dtype=np.int64)
                return Mesh(verts, faces, _channels(npz, "v_", len(verts)))
    except ValueError as exc:
        if isinstance(exc, UserInputError):
            raise
        raise UserInputError(f"Unreadable NPZ contents: {exc}") from exc
    raise UserInputError("The NPZ file has neither 'coords' (point cloud) nor 'verts'/'faces'.")
