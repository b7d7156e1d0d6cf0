"""Save and load point clouds and meshes; the file extension picks the format."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from engine.errors import UserInputError
from engine.export._io import ExportError, atomic_write_bytes, read_bytes
from engine.export.gltf import decode_glb, encode_glb
from engine.export.meshfiles import decode_with_trimesh, encode_obj, encode_stl
from engine.export.npz import decode_npz, encode_npz
from engine.export.ply import decode_ply, encode_ply
from engine.export.threemf import decode_3mf, encode_3mf
from engine.pointcloud import Mesh, PointCloud

__all__ = [
    "CLOUD_FORMATS",
    "MESH_FORMATS",
    "ExportError",
    "atomic_write_bytes",
    "encode",
    "load",
    "save",
]

log = logging.getLogger(__name__)

CLOUD_FORMATS = (".ply", ".npz", ".glb")  # what a point cloud can be saved as
MESH_FORMATS = (".stl", ".obj", ".ply", ".glb", ".3mf", ".npz")  # what a mesh can be saved as


def _check(obj: PointCloud | Mesh) -> None:
    xyz = obj.verts if isinstance(obj, Mesh) else obj.coords
    what = "mesh" if isinstance(obj, Mesh) else "point cloud"
    if len(xyz) == 0:
        raise UserInputError(f"Nothing to save: the {what} is empty.")
    if not np.all(np.isfinite(xyz)):
        raise UserInputError(f"Cannot save: the {what} has NaN or infinite coordinates.")
    if isinstance(obj, Mesh) and len(obj.faces) == 0:
        raise UserInputError("Nothing to save: the mesh has no triangles.")


def encode(obj: PointCloud | Mesh, ext: str, *, ascii: bool = False) -> bytes:
    """The file's bytes for `ext` (".ply", ".3mf"…); `ascii` applies to PLY only."""
    ext = ext.lower()
    if not isinstance(obj, (PointCloud, Mesh)):
        raise TypeError(f"expected a PointCloud or Mesh, got {type(obj).__name__}")
    _check(obj)
    if isinstance(obj, PointCloud):
        if ext not in CLOUD_FORMATS:
            raise UserInputError(
                f"A point cloud cannot be saved as {ext or 'a file without extension'}: "
                f"use {', '.join(CLOUD_FORMATS)}, or build a mesh first."
            )
        if ext == ".ply":
            return encode_ply(obj.coords, obj.colors, ascii=ascii)
        return encode_npz(obj) if ext == ".npz" else encode_glb(obj)
    if ext not in MESH_FORMATS:
        raise UserInputError(
            f"A mesh cannot be saved as {ext or 'a file without extension'}: "
            f"use {', '.join(MESH_FORMATS)}."
        )
    if ext == ".3mf" and obj.meta.get("units") != "mm":
        log.info("3MF is in millimetres; this mesh was not prepared for print (units unknown)")
    writers = {
        ".stl": encode_stl,
        ".obj": encode_obj,
        ".glb": encode_glb,
        ".3mf": encode_3mf,
        ".npz": encode_npz,
        ".ply": lambda m: encode_ply(m.verts, m.colors, m.faces, ascii=ascii),
    }
    return writers[ext](obj)


def save(obj: PointCloud | Mesh, path: str | os.PathLike, *, ascii: bool = False) -> Path:
    """Write atomically (temp file + rename); raises UserInputError/ExportError with a message."""
    path = Path(path)
    return atomic_write_bytes(path, encode(obj, path.suffix, ascii=ascii))


def load(path: str | os.PathLike) -> PointCloud | Mesh:
    """Open a saved cloud or mesh; anything unreadable raises UserInputError with the reason."""
    path = Path(path)
    ext = path.suffix.lower()
    readers = {".ply", ".npz", ".glb", ".stl", ".obj", ".3mf"}
    if ext not in readers:
        raise UserInputError(
            f"Cannot open {path.name}: unknown file type (use {', '.join(sorted(readers))})."
        )
    data = read_bytes(path)
    try:
        if ext == ".ply":
            coords, colors, faces = decode_ply(data)
            if faces is not None and len(faces):
                return Mesh(coords, faces, colors, {"source": str(path)})
            return PointCloud(coords, colors, {"source": str(path)})
        if ext == ".npz":
            return decode_npz(data)
        if ext == ".glb":
            return decode_glb(data)
        if ext == ".3mf":
            return decode_3mf(data)
        return decode_with_trimesh(data, ext[1:])
    except UserInputError as exc:
        raise UserInputError(f"Cannot open {path.name}: {exc}") from exc
