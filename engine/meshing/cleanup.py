"""Mesh clean-up for printing: drop floaters, fill holes, orient outward, smooth, decimate."""

from __future__ import annotations

import logging
import time

import numpy as np

from engine.errors import UserInputError
from engine.meshing.common import (
    MeshReport,
    from_trimesh,
    nearest_colors,
    report_for,
    settle,
    to_trimesh,
)
from engine.pointcloud import Mesh, PointCloud

log = logging.getLogger(__name__)


def drop_floaters(tm, keep_largest: bool = True, min_fraction: float = 0.05):
    """Keep the largest piece (or every piece with at least `min_fraction` of the faces)."""
    import trimesh

    parts = tm.split(only_watertight=False)
    if len(parts) <= 1:
        return tm, 0
    if keep_largest:
        kept = [max(parts, key=lambda p: len(p.faces))]
    else:
        kept = [p for p in parts if len(p.faces) >= min_fraction * len(tm.faces)]
    return trimesh.util.concatenate(kept), len(parts) - len(kept)


def fill_holes(tm):
    """trimesh fills small holes; pymeshlab closes the larger ones it leaves."""
    import trimesh

    if tm.is_watertight:
        return tm
    trimesh.repair.fill_holes(tm)
    if tm.is_watertight:
        return tm
    import pymeshlab

    ms = pymeshlab.MeshSet()
    ms.add_mesh(pymeshlab.Mesh(tm.vertices, tm.faces))
    ms.meshing_repair_non_manifold_edges()
    ms.meshing_close_holes(maxholesize=max(30, len(tm.faces)), newfaceselected=False)
    out = ms.current_mesh()
    return trimesh.Trimesh(out.vertex_matrix(), out.face_matrix(), process=True)


def orient_outward(tm) -> None:
    import trimesh

    trimesh.repair.fix_winding(tm)
    if tm.is_watertight and tm.volume < 0:
        tm.invert()


def decimate(tm, target_faces: int):
    """Quadric edge collapse that keeps the topology; returns the input if it would open it."""
    import pymeshlab
    import trimesh

    if target_faces >= len(tm.faces):
        return tm
    ms = pymeshlab.MeshSet()
    ms.add_mesh(pymeshlab.Mesh(tm.vertices, tm.faces))
    ms.meshing_decimation_quadric_edge_collapse(
        targetfacenum=int(target_faces),
        preservetopology=True,
        preservenormal=True,
        planarquadric=True,
        qualitythr=0.5,
    )
    out = ms.current_mesh()
    small = trimesh.Trimesh(out.vertex_matrix(), out.face_matrix(), process=True)
    if tm.is_watertight and not small.is_watertight:
        log.warning("decimation opened the mesh; keeping %d faces", len(tm.faces))
        return tm
    return small


def clean_tm(
    tm,
    *,
    keep_largest: bool = True,
    smooth_iterations: int = 0,
    target_faces: int | None = None,
) -> tuple[object, int, list[str]]:
    """The clean-up chain on a trimesh; returns (mesh, floaters dropped, notes)."""
    import trimesh

    notes: list[str] = []
    tm, dropped = drop_floaters(tm, keep_largest)
    if not tm.is_watertight:
        tm = fill_holes(tm)
        if tm.is_watertight:
            notes.append("filled holes")
    orient_outward(tm)
    if smooth_iterations > 0:
        trimesh.smoothing.filter_taubin(tm, iterations=int(smooth_iterations))
    if target_faces is not None:
        if target_faces < 4:
            raise UserInputError(f"target face count must be at least 4, got {target_faces}")
        before = len(tm.faces)
        tm = decimate(tm, target_faces)
        if len(tm.faces) == before and target_faces < before:
            notes.append("decimation skipped: it would have opened the mesh")
        orient_outward(tm)
    if not tm.is_watertight:
        notes.append("the mesh is not watertight; a slicer may need to repair it")
    return tm, dropped, notes


def clean_mesh(
    mesh: Mesh,
    *,
    keep_largest: bool = True,
    smooth_iterations: int = 0,
    target_faces: int | None = None,
) -> tuple[Mesh, MeshReport]:
    """Clean an existing mesh (e.g. one opened from a file); colours follow the nearest vertex."""
    start = time.perf_counter()
    if len(mesh.faces) == 0:
        raise UserInputError("The mesh has no triangles: there is nothing to clean.")
    tm, dropped, notes = clean_tm(
        to_trimesh(mesh, process=True),
        keep_largest=keep_largest,
        smooth_iterations=smooth_iterations,
        target_faces=target_faces,
    )
    tm = settle(tm)
    cols = None
    if mesh.colors is not None:
        cols = nearest_colors(np.asarray(tm.vertices), PointCloud(mesh.verts, mesh.colors))
    report = report_for(
        tm, "input", components_removed=dropped, seconds=time.perf_counter() - start,
        notes=tuple(notes),
    )  # fmt: skip
    return from_trimesh(tm, cols, mesh.meta), report
