"""GLB (binary glTF 2.0): coloured point clouds as POINTS, meshes as TRIANGLES; Y-up on disk."""

from __future__ import annotations

import io
import json
import struct

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh, PointCloud

_FLOAT, _UBYTE, _UINT = 5126, 5121, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_POINTS, _TRIANGLES = 0, 4


def z_up_to_y_up(xyz: np.ndarray) -> np.ndarray:
    """glTF is Y-up: a rotation of -90° about X takes our Z-up (x, y, z) to (x, z, -y)."""
    return np.stack([xyz[:, 0], xyz[:, 2], -xyz[:, 1]], axis=1).astype(np.float32)


def y_up_to_z_up(xyz: np.ndarray) -> np.ndarray:
    return np.stack([xyz[:, 0], -xyz[:, 2], xyz[:, 1]], axis=1).astype(np.float32)


def encode_glb(obj: PointCloud | Mesh) -> bytes:
    """One node, one primitive; colours as normalised RGBA bytes in COLOR_0."""
    is_mesh = isinstance(obj, Mesh)
    xyz = z_up_to_y_up(obj.verts if is_mesh else obj.coords)
    blobs: list[tuple[bytes, int | None]] = []  # (data, bufferView target)
    accessors: list[dict] = []
    attributes = {"POSITION": 0}
    blobs.append((xyz.tobytes(), _ARRAY_BUFFER))
    lo = xyz.min(axis=0) if len(xyz) else np.zeros(3)
    hi = xyz.max(axis=0) if len(xyz) else np.zeros(3)
    accessors.append(
        {"componentType": _FLOAT, "count": len(xyz), "type": "VEC3",
         "min": [float(v) for v in lo], "max": [float(v) for v in hi]}
    )  # fmt: skip
    if obj.colors is not None:
        rgba = np.full((len(xyz), 4), 255, dtype=np.uint8)
        rgba[:, :3] = np.round(np.clip(obj.colors, 0.0, 1.0) * 255.0).astype(np.uint8)
        attributes["COLOR_0"] = len(accessors)
        blobs.append((rgba.tobytes(), _ARRAY_BUFFER))
        accessors.append(
            {"componentType": _UBYTE, "normalized": True, "count": len(xyz), "type": "VEC4"}
        )
    primitive: dict = {"attributes": attributes, "mode": _TRIANGLES if is_mesh else _POINTS}
    if is_mesh:
        primitive["indices"] = len(accessors)
        blobs.append((obj.faces.astype("<u4").tobytes(), _ELEMENT_ARRAY_BUFFER))
        accessors.append({"componentType": _UINT, "count": obj.faces.size, "type": "SCALAR"})
    binary, views = io.BytesIO(), []
    for i, (data, target) in enumerate(blobs):
        views.append({"buffer": 0, "byteOffset": binary.tell(), "byteLength": len(data)})
        if target is not None:
            views[-1]["target"] = target
        accessors[i]["bufferView"] = i
        binary.write(data + b"\0" * (-len(data) % 4))
    doc = {
        "asset": {"version": "2.0", "generator": "Point-E Studio"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "mesh" if is_mesh else "points"}],
        "meshes": [{"primitives": [primitive]}],
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": binary.tell()}],
    }
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    body = binary.getvalue()
    total = 12 + 8 + len(js) + 8 + len(body)
    return b"".join(
        [
            struct.pack("<4sII", b"glTF", 2, total),
            struct.pack("<I4s", len(js), b"JSON"),
            js,
            struct.pack("<I4s", len(body), b"BIN\0"),
            body,
        ]
    )


def decode_glb(data: bytes) -> PointCloud | Mesh:
    """Read any GLB through trimesh (node transforms applied), back to our Z-up frame."""
    import trimesh

    if not data.startswith(b"glTF"):
        raise UserInputError("Not a GLB file: it does not start with 'glTF'.")
    try:
        scene = trimesh.load(io.BytesIO(data), file_type="glb", force="scene", process=False)
        geoms = scene.dump(concatenate=False)
    except Exception as exc:  # trimesh raises many types for damaged files
        raise UserInputError(f"Unreadable GLB file: {exc}") from exc
    meshes = [g for g in geoms if isinstance(g, trimesh.Trimesh) and len(g.faces)]
    if meshes:
        m = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
        cols = None
        if m.visual.kind == "vertex":
            cols = np.asarray(m.visual.vertex_colors)[:, :3]
        return Mesh(y_up_to_z_up(np.asarray(m.vertices)), np.asarray(m.faces), cols)
    clouds = [g for g in geoms if isinstance(g, trimesh.PointCloud)]
    if not clouds:
        raise UserInputError("The GLB file holds no mesh or point cloud.")
    pc = clouds[0]
    cols = None
    if pc.colors is not None and len(pc.colors) == len(pc.vertices):
        cols = np.asarray(pc.colors)[:, :3]
    return PointCloud(y_up_to_z_up(np.asarray(pc.vertices)), cols)
