"""A small shaded picture of a mesh or cloud for the Export dialog (numpy only: any thread)."""

from __future__ import annotations

import numpy as np

from engine.pointcloud import Mesh, PointCloud

SIZE = 260  # pixels, square
SAMPLES = 120_000  # surface samples splatted into the picture
BACKGROUND = (236, 238, 242)
BASE_COLOUR = np.array([0.75, 0.77, 0.82])  # for a mesh without colours


def _view(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screen x/y (0..1), depth and the view direction, looking from above at 3/4 (z is up)."""
    az, el = np.radians(35.0), np.radians(25.0)
    right = np.array([-np.cos(az), np.sin(az), 0.0])  # right x up points at the viewer
    toward = np.array([np.sin(az) * np.cos(el), np.cos(az) * np.cos(el), np.sin(el)])
    up = np.cross(toward, right)
    centred = xyz - (xyz.min(axis=0) + xyz.max(axis=0)) / 2
    sx, sy, depth = centred @ right, centred @ up, centred @ toward
    span = max(float(np.ptp(sx)), float(np.ptp(sy)), 1e-9) * 1.1
    return np.stack([sx / span + 0.5, 0.5 - sy / span], axis=1), depth, toward


def _splat(screen: np.ndarray, depth: np.ndarray, rgb: np.ndarray, radius: int) -> np.ndarray:
    """Nearest sample wins each pixel (painter's order: far first, near last)."""
    img = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    base = (screen * SIZE).astype(int)
    offsets = [(dx, dy) for dx in range(radius) for dy in range(radius)]
    px = np.concatenate([base + np.array(o) for o in offsets])  # every splat pixel at once
    order = np.argsort(np.tile(depth, len(offsets)), kind="stable")  # far first, near last
    px = np.clip(px[order], 0, SIZE - 1)
    colour = (np.clip(np.tile(rgb, (len(offsets), 1))[order], 0, 1) * 255).astype(np.uint8)
    img[px[:, 1], px[:, 0]] = colour
    return img


def render_preview(obj: PointCloud | Mesh) -> np.ndarray:
    """(SIZE, SIZE, 3) uint8: cheap enough to draw after every export preview."""
    if isinstance(obj, PointCloud):
        xyz = obj.coords.astype(np.float64)
        rgb = obj.colors if obj.colors is not None else np.tile(BASE_COLOUR, (len(xyz), 1))
        screen, depth, _ = _view(xyz)
        return _splat(screen, depth, np.asarray(rgb, dtype=np.float64), 3)
    verts = obj.verts.astype(np.float64)
    tris = verts[obj.faces]  # (F, 3, 3)
    normals = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    areas = np.linalg.norm(normals, axis=1)
    normals = normals / np.maximum(areas, 1e-12)[:, None]
    rng = np.random.default_rng(0)
    face = rng.choice(len(tris), size=SAMPLES, p=areas / areas.sum())
    a, b = rng.random((2, SAMPLES, 1))
    flip = (a + b) > 1
    a, b = np.where(flip, 1 - a, a), np.where(flip, 1 - b, b)
    t = tris[face]
    pts = t[:, 0] + a * (t[:, 1] - t[:, 0]) + b * (t[:, 2] - t[:, 0])  # (S, 3)
    screen, depth, toward = _view(pts)
    if obj.colors is not None:
        base = obj.colors[obj.faces[face]].mean(axis=1)
    else:
        base = np.tile(BASE_COLOUR, (SAMPLES, 1))
    light = toward + np.array([0.0, 0.0, 0.6])
    light /= np.linalg.norm(light)
    shade = 0.35 + 0.65 * np.abs(normals[face] @ light)
    return _splat(screen, depth, base * shade[:, None], 2)
