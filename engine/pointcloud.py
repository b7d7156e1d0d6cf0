"""PointCloud and Mesh: the two result types that flow from the engine to the app and exporters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _as_colors(colors: np.ndarray | None, n: int, what: str) -> np.ndarray | None:
    if colors is None:
        return None
    c = np.asarray(colors)
    if c.shape != (n, 3):
        raise ValueError(f"{what} colours must have shape ({n}, 3), got {c.shape}")
    if c.dtype == np.uint8:
        c = c.astype(np.float32) / 255.0
    return np.ascontiguousarray(c, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class PointCloud:
    """Points in Point-E's data space (xyz about ±0.5, z up) with RGB colours in 0…1."""

    coords: np.ndarray  # (N, 3) float32
    colors: np.ndarray | None = None  # (N, 3) float32 in [0, 1], or None
    meta: dict = field(default_factory=dict)  # free-form provenance (prompt, seed, model…)

    def __post_init__(self) -> None:
        xyz = np.ascontiguousarray(np.asarray(self.coords, dtype=np.float32))
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ValueError(f"point coordinates must have shape (N, 3), got {xyz.shape}")
        object.__setattr__(self, "coords", xyz)
        object.__setattr__(self, "colors", _as_colors(self.colors, len(xyz), "point"))

    def __len__(self) -> int:
        return len(self.coords)

    @property
    def colors_u8(self) -> np.ndarray:
        """Colours as 0…255 bytes (grey when the cloud has none)."""
        if self.colors is None:
            return np.full((len(self), 3), 200, dtype=np.uint8)
        return np.round(np.clip(self.colors, 0.0, 1.0) * 255.0).astype(np.uint8)

    def subset(self, index: np.ndarray) -> PointCloud:
        cols = None if self.colors is None else self.colors[index]
        return PointCloud(self.coords[index], cols, dict(self.meta))


@dataclass(frozen=True, eq=False)
class Mesh:
    """A triangle mesh with optional per-vertex RGB colours in 0…1."""

    verts: np.ndarray  # (V, 3) float32
    faces: np.ndarray  # (F, 3) int64
    colors: np.ndarray | None = None  # (V, 3) float32 in [0, 1], or None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = np.ascontiguousarray(np.asarray(self.verts, dtype=np.float32))
        f = np.ascontiguousarray(np.asarray(self.faces, dtype=np.int64))
        if v.ndim != 2 or v.shape[1] != 3:
            raise ValueError(f"mesh vertices must have shape (V, 3), got {v.shape}")
        if f.ndim != 2 or f.shape[1] != 3:
            raise ValueError(f"mesh faces must have shape (F, 3), got {f.shape}")
        if f.size and (f.min() < 0 or f.max() >= len(v)):
            raise ValueError("mesh faces index vertices that do not exist")
        object.__setattr__(self, "verts", v)
        object.__setattr__(self, "faces", f)
        object.__setattr__(self, "colors", _as_colors(self.colors, len(v), "vertex"))
