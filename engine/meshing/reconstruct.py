"""Classical point cloud -> closed surface: thickened points on a grid, filled, eroded, contoured.

The points are splatted into a padded voxel grid, grown by a radius tied to the point spacing,
internal cavities are filled, then the signed distance to that solid is contoured a little
inside it (undoing part of the growth). A padded volume makes marching cubes' output closed.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def _largest_component(mask: np.ndarray) -> tuple[np.ndarray, int]:
    from scipy import ndimage

    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask, 0
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == sizes.argmax(), n - 1


def solid_field(
    xyz: np.ndarray, *, grid: int = 128, radius: float | None = None
) -> tuple[np.ndarray, np.ndarray, float, float, int]:
    """(signed distance volume, origin, voxel size, radius, floaters dropped); positive inside."""
    from scipy import ndimage
    from scipy.spatial import cKDTree

    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    extent = float((hi - lo).max())
    spacing = float(np.median(cKDTree(xyz).query(xyz, k=2)[0][:, 1]))
    h0 = extent / grid
    r = radius if radius is not None else 2.0 * spacing
    r = float(np.clip(r, 1.5 * h0, 0.25 * extent))  # a shell at least ~2 voxels thick
    pad = 1.5 * r
    h = (extent + 2 * pad) / (grid - 1)
    origin = lo - pad - 2 * h
    shape = np.ceil((hi - lo + 2 * pad) / h).astype(int) + 5
    idx = np.round((xyz - origin) / h).astype(int)
    empty = np.ones(shape, dtype=bool)
    empty[tuple(idx.T)] = False
    shell = ndimage.distance_transform_edt(empty) * h < r  # union of balls around the points
    solid = ndimage.binary_fill_holes(shell)  # closed pockets become inside
    solid, dropped = _largest_component(solid)  # floaters
    sd = ndimage.distance_transform_edt(solid) - ndimage.distance_transform_edt(~solid)
    sd = ndimage.gaussian_filter(sd * h, 1.0)
    return sd.astype(np.float32), origin, h, r, dropped


def contour(volume: np.ndarray, level: float, h: float, origin: np.ndarray):
    """Marching cubes with outward (right-handed) triangles as a trimesh, vertices merged."""
    import trimesh
    from skimage import measure

    verts, faces, _, _ = measure.marching_cubes(
        volume, level=level, spacing=(h, h, h), allow_degenerate=False
    )
    faces = faces[:, [1, 0, 2]]  # skimage's winding is left-handed for positive-inside fields
    tm = trimesh.Trimesh(verts + origin, faces, process=True)
    if tm.is_watertight and tm.volume < 0:
        tm.invert()
    return tm


def grid_surface(xyz: np.ndarray, *, grid: int = 128, erode: float = 0.5):
    """One closed surface around the points; returns (trimesh, floaters dropped, notes)."""
    volume, origin, h, r, dropped = solid_field(xyz, grid=grid)
    notes: list[str] = []
    for fraction in (erode, erode / 2, 0.0):
        tm = contour(volume, fraction * r, h, origin)
        parts = tm.split(only_watertight=False)
        big = [p for p in parts if len(p.faces) >= 0.02 * len(tm.faces)]
        if len(big) <= 1:
            break
        log.info(
            "contour at %.2f r split into %d parts; trying closer to the points", fraction, len(big)
        )
    if len(parts) > 1:
        tm = max(parts, key=lambda p: len(p.faces))
        dropped += len(parts) - 1
        notes.append(f"kept the largest of {len(parts)} surface pieces")
    return tm, dropped, notes
