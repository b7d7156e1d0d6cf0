"""Shared pieces of meshing: input checks, the report, and trimesh conversions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh, PointCloud

MIN_POINTS = 16  # fewer points cannot describe a surface worth printing


@dataclass(frozen=True)
class MeshReport:
    """What the mesher produced; shown in the Export dialog and printed by the CLI."""

    method: str  # "grid", "sdf" or "input" (a cleaned existing mesh)
    watertight: bool  # every edge shared by exactly two faces
    winding_consistent: bool  # neighbouring faces agree on orientation
    volume: float  # enclosed volume in mesh units³ (mm³ after prepare_for_print)
    area: float  # surface area in mesh units²
    n_vertices: int
    n_faces: int
    components_removed: int = 0  # floaters dropped
    seconds: float = 0.0  # wall time of the whole call
    notes: tuple[str, ...] = ()  # warnings a user should read


def check_point_cloud(pc: PointCloud) -> np.ndarray:
    """Refuse clouds that cannot become a surface, with a message a user understands."""
    if not isinstance(pc, PointCloud):
        raise TypeError(f"expected a PointCloud, got {type(pc).__name__}")
    xyz = pc.coords
    if len(xyz) == 0:
        raise UserInputError("The point cloud is empty: there is nothing to mesh.")
    bad = int((~np.isfinite(xyz).all(axis=1)).sum())
    if bad:
        raise UserInputError(
            f"The point cloud has {bad} point(s) with NaN or infinite coordinates."
        )
    if len(xyz) < MIN_POINTS:
        raise UserInputError(
            f"The point cloud has only {len(xyz)} points; at least {MIN_POINTS} are needed "
            "to build a surface."
        )
    if float(np.ptp(xyz, axis=0).max()) <= 1e-9:
        raise UserInputError("All points of the cloud are at the same place: no surface to build.")
    return xyz.astype(np.float64)


def check_grid(grid: int) -> int:
    if not isinstance(grid, (int, np.integer)) or not 16 <= grid <= 512:
        raise UserInputError(
            f"grid must be an integer from 16 to 512 (32–256 is usual), got {grid!r}"
        )
    return int(grid)


def nearest_colors(verts: np.ndarray, pc: PointCloud) -> np.ndarray | None:
    """Each vertex takes the colour of the nearest input point (as the official SDF path does)."""
    if pc.colors is None:
        return None
    from scipy.spatial import cKDTree

    if len(pc) == 1:
        return np.repeat(pc.colors, len(verts), axis=0)
    dist, idx = cKDTree(pc.coords.astype(np.float64)).query(verts, k=2)
    tie = dist[:, 0] == dist[:, 1]  # the official code takes the lowest index on a tie
    best = np.where(tie, idx.min(axis=1), idx[:, 0])
    return pc.colors[best]


def to_trimesh(mesh: Mesh, process: bool = False):
    import trimesh

    tm = trimesh.Trimesh(mesh.verts.astype(np.float64), mesh.faces, process=process)
    if mesh.colors is not None and not process:
        tm.visual.vertex_colors = np.round(mesh.colors * 255).astype(np.uint8)
    return tm


def from_trimesh(tm, colors: np.ndarray | None, meta: dict | None = None) -> Mesh:
    return Mesh(np.asarray(tm.vertices), np.asarray(tm.faces), colors, dict(meta or {}))


def report_for(tm, method: str, **extra) -> MeshReport:
    return MeshReport(
        method=method,
        watertight=bool(tm.is_watertight),
        winding_consistent=bool(tm.is_winding_consistent),
        volume=float(tm.volume) if tm.is_watertight else float("nan"),
        area=float(tm.area),
        n_vertices=len(tm.vertices),
        n_faces=len(tm.faces),
        **extra,
    )


def settle(tm):
    """Round vertices to float32 (what Mesh and the files hold) and re-merge, so the reported
    watertightness is that of the saved mesh; near-duplicate vertices collapse here, not later."""
    import trimesh

    verts = np.asarray(tm.vertices, dtype=np.float32).astype(np.float64)
    return trimesh.Trimesh(verts, np.asarray(tm.faces), process=True, validate=True)
