"""Mesh formats that need no colour tricks: binary STL and OBJ with per-vertex colours."""

from __future__ import annotations

import io

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh


def encode_stl(mesh: Mesh) -> bytes:
    """Binary STL: 80-byte header, triangle count, then normal + 3 corners + 2 spare bytes."""
    tri = mesh.verts[mesh.faces].astype(np.float32)  # (F, 3, 3)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    rec = np.zeros(
        len(tri), dtype=np.dtype([("n", "<f4", (3,)), ("v", "<f4", (3, 3)), ("a", "<u2")])
    )
    rec["n"], rec["v"] = normal, tri
    header = b"Point-E Studio binary STL".ljust(80, b" ")
    return header + np.uint32(len(tri)).astype("<u4").tobytes() + rec.tobytes()


def encode_obj(mesh: Mesh) -> bytes:
    """Wavefront OBJ; colours as the widely read `v x y z r g b` extension (Blender, MeshLab)."""
    out = io.StringIO()
    out.write("# Point-E Studio\n")
    if mesh.colors is not None:
        np.savetxt(out, np.hstack([mesh.verts, mesh.colors]), fmt="v %.9g %.9g %.9g %.4f %.4f %.4f")
    else:
        np.savetxt(out, mesh.verts, fmt="v %.9g %.9g %.9g")
    np.savetxt(out, mesh.faces + 1, fmt="f %d %d %d")
    return out.getvalue().encode("ascii")


def decode_with_trimesh(data: bytes, file_type: str) -> Mesh:
    """STL and OBJ are read by trimesh (ASCII STL, quads and all); colours kept where present."""
    import trimesh

    try:
        m = trimesh.load(io.BytesIO(data), file_type=file_type, force="mesh", process=False)
    except Exception as exc:  # trimesh raises many types for damaged files
        raise UserInputError(f"Unreadable {file_type.upper()} file: {exc}") from exc
    if not isinstance(m, trimesh.Trimesh) or len(m.faces) == 0:
        raise UserInputError(f"The {file_type.upper()} file holds no triangles.")
    if file_type == "stl":
        m.merge_vertices()  # STL stores every corner separately
    cols = None
    if m.visual.kind == "vertex":
        cols = np.asarray(m.visual.vertex_colors)[:, :3]
    return Mesh(np.asarray(m.vertices), np.asarray(m.faces), cols)
