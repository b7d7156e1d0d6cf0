"""Print preparation: real size in mm, Z-up on the bed, optional flat base, thin-wall check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.errors import UserInputError
from engine.meshing.common import from_trimesh, nearest_colors, settle, to_trimesh
from engine.meshing.flatbase import cut_and_cap
from engine.pointcloud import Mesh, PointCloud

BASES = ("none", "cut", "rest")  # no base / cut the bottom off / rest on the lowest hull face
FITS = ("longest", "height")  # which dimension size_mm sets


@dataclass(frozen=True)
class PrintReport:
    """Numbers a slicer user checks before printing."""

    size_mm: tuple[float, float, float]  # bounding box x, y, z
    volume_mm3: float  # NaN when not watertight
    watertight: bool
    base: str  # one of BASES
    base_area_mm2: float  # flat area touching the bed (z = 0)
    thin_fraction: float  # share of the surface thinner than the nozzle (heuristic)
    warnings: tuple[str, ...] = ()


def _rest_on_lowest_face(tm) -> np.ndarray:
    """The rotation that lays the convex-hull facet facing most downward flat on the bed."""
    import trimesh

    hull = tm.convex_hull
    down = np.array([0.0, 0.0, -1.0])
    normals, areas = hull.facets_normal, hull.facets_area
    if len(normals) == 0:
        normals, areas = hull.face_normals, hull.area_faces
    facing = normals @ down
    near = facing > np.cos(np.radians(30))
    pick = int(np.argmax(np.where(near, areas, -np.inf))) if near.any() else int(np.argmax(facing))
    return trimesh.geometry.align_vectors(normals[pick], down)


def thin_wall_fraction(tm, nozzle_mm: float, samples: int = 20000, seed: int = 0) -> float:
    """Heuristic share of the surface where the wall is thinner than the nozzle.

    From each surface sample, step half a nozzle inward; a wall is thin there if a nearby sample
    facing the other way (the wall's far side) lies within half a nozzle of that probe, measured
    to its tangent plane. Sharp features and walls much thinner than the sample spacing may be
    misjudged; it is a warning, not a guarantee."""
    import trimesh
    from scipy.spatial import cKDTree

    pts, face_idx = trimesh.sample.sample_surface(tm, samples, seed=seed)
    normals = tm.face_normals[face_idx]
    half = nozzle_mm / 2
    probe = pts - normals * half
    reach = half + 2.0 * np.sqrt(tm.area / samples)
    k = 32
    dist, idx = cKDTree(pts).query(probe, k=k, distance_upper_bound=reach)
    found = np.isfinite(dist)
    idx = np.where(found, idx, 0)
    other_n = normals[idx]  # (S, k, 3)
    facing_away = np.einsum("sj,skj->sk", normals, other_n) < -0.5
    plane = np.abs(np.einsum("skj,skj->sk", probe[:, None, :] - pts[idx], other_n))
    thin = (found & facing_away & (plane < 0.98 * half)).any(axis=1)
    return float(np.mean(thin))


def prepare_for_print(
    mesh: Mesh,
    *,
    size_mm: float = 80.0,
    fit: str = "longest",
    base: str = "none",
    base_depth_mm: float = 1.0,
    nozzle_mm: float = 0.4,
) -> tuple[Mesh, PrintReport]:
    """Scale to millimetres, stand on z = 0 centred in x/y, optionally flatten the bottom.

    Point-E's data space is already Z-up, so no rotation is needed except for base="rest"."""
    if fit not in FITS:
        raise UserInputError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if base not in BASES:
        raise UserInputError(f"base must be one of {', '.join(BASES)}, got {base!r}")
    if not np.isfinite(size_mm) or not 0.1 <= size_mm <= 10000:
        raise UserInputError(f"size must be between 0.1 and 10000 mm, got {size_mm}")
    if not nozzle_mm > 0:
        raise UserInputError(f"nozzle width must be positive, got {nozzle_mm}")
    if len(mesh.faces) == 0:
        raise UserInputError("The mesh has no triangles: there is nothing to print.")
    import trimesh

    tm = to_trimesh(mesh)
    placed = mesh.verts.astype(np.float64)  # the original vertices, moved along (for colours)

    def move(matrix: np.ndarray) -> None:
        nonlocal placed
        tm.apply_transform(matrix)
        placed = trimesh.transform_points(placed, matrix)

    if base == "rest":
        move(_rest_on_lowest_face(tm))

    def fit_to_size() -> None:
        ext = tm.extents
        current = float(ext.max() if fit == "longest" else ext[2])
        if current <= 0:
            raise UserInputError("The mesh is flat in that direction: it cannot be scaled.")
        lo, hi = tm.bounds
        centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
        move(trimesh.transformations.translation_matrix(-centre))
        move(trimesh.transformations.scale_matrix(size_mm / current))

    fit_to_size()
    warnings: list[str] = []
    if base == "cut":
        height = float(tm.extents[2])
        if not 0 < base_depth_mm < 0.5 * height:
            raise UserInputError(
                f"base depth must be between 0 and half the height ({0.5 * height:.1f} mm), "
                f"got {base_depth_mm}"
            )
        verts, faces = cut_and_cap(tm.vertices, tm.faces, base_depth_mm)
        tm = trimesh.Trimesh(verts, faces, process=True)
        fit_to_size()  # back to the exact size; the cut depth scales by a hair
    tm = settle(tm)
    if not tm.is_watertight:
        warnings.append("The mesh is not watertight; the slicer may need to repair it.")
    bottom = (np.abs(tm.triangles[:, :, 2]).max(axis=1) < 1e-6 * size_mm) & (
        tm.face_normals[:, 2] < -0.99
    )
    base_area = float(tm.area_faces[bottom].sum())
    if base != "none" and base_area < nozzle_mm**2 * 10:
        warnings.append("Very little of the model touches the bed; consider supports or a brim.")
    thin = thin_wall_fraction(tm, nozzle_mm)
    if thin > 0.01:
        warnings.append(
            f"About {thin:.0%} of the surface may be thinner than the {nozzle_mm} mm nozzle "
            "(a rough estimate); consider a larger size."
        )
    cols = None
    if mesh.colors is not None:  # colours follow each vertex back to the nearest original one
        cols = nearest_colors(np.asarray(tm.vertices), PointCloud(placed, mesh.colors))
    meta = {**mesh.meta, "units": "mm"}
    report = PrintReport(
        size_mm=tuple(float(x) for x in tm.extents),
        volume_mm3=float(tm.volume) if tm.is_watertight else float("nan"),
        watertight=bool(tm.is_watertight),
        base=base,
        base_area_mm2=base_area,
        thin_fraction=thin,
        warnings=tuple(warnings),
    )
    return from_trimesh(tm, cols, meta), report
