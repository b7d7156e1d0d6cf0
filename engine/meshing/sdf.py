"""Point-E's SDF path: query the SDF model on a grid and run marching cubes (spec 9.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from engine.pointcloud import Mesh, PointCloud


class SDFModel(Protocol):
    """What the mesher needs from `engine.models.sdf.CrossAttentionPointCloudSDFModel`."""

    def encode_point_clouds(self, point_clouds): ...  # (B, 3, N) -> latents
    def predict_sdf(self, x, encoded): ...  # (B, 3, M), latents -> (B, M)


def sdf_volume(
    model: SDFModel,
    pc: PointCloud,
    grid_size: int = 128,
    side_length: float = 1.02,
    batch: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """SDF values on the official grid, shaped (g, g, g) and indexed [x][y][z] (z fastest)."""
    import torch

    param = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    g = grid_size
    voxel = side_length / (g - 1)
    origin = -side_length / 2
    total = g**3
    out = np.empty(total, dtype=np.float32)
    with torch.no_grad():
        cloud = torch.as_tensor(pc.coords.T[None], dtype=dtype, device=device)  # (1, 3, N)
        latents = model.encode_point_clouds(cloud)
        for start in range(0, total, batch):
            i = torch.arange(start, min(start + batch, total), device=device)
            idx = torch.stack([i // (g * g), (i // g) % g, i % g], dim=0)  # (3, M) x, y, z
            query = (idx.to(dtype) * voxel + origin)[None]  # (1, 3, M)
            out[start : start + len(i)] = model.predict_sdf(query, latents)[0].float().cpu().numpy()
            if progress is not None:
                progress(min(start + batch, total), total)
    volume = out.reshape(g, g, g)
    if np.all(volume < 0) or np.all(volume > 0):
        volume = volume - volume.mean()  # the official safety net so a surface exists
    return volume


def sdf_marching_cubes(
    model: SDFModel,
    pc: PointCloud,
    grid_size: int = 128,
    side_length: float = 1.02,
    batch: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> Mesh:
    """Exactly Point-E's `marching_cubes_mesh`: level 0, winding flipped, nearest-point colours."""
    from skimage import measure

    from engine.meshing.common import nearest_colors

    volume = sdf_volume(model, pc, grid_size, side_length, batch, progress)
    voxel = side_length / (grid_size - 1)
    verts, faces, _, _ = measure.marching_cubes(
        volume, level=0, allow_degenerate=False, spacing=(voxel, voxel, voxel)
    )
    faces = faces[:, [1, 0, 2]]  # left-handed -> right-handed
    verts = verts - side_length / 2
    return Mesh(verts, faces, nearest_colors(verts, pc), {"method": "sdf", "grid": grid_size})


def closed_sdf_surface(volume: np.ndarray, side_length: float = 1.02):
    """The same surface from a volume padded with 'outside', so it is closed even at the border."""
    from engine.meshing.reconstruct import contour

    g = volume.shape[0]
    voxel = side_length / (g - 1)
    outside = min(float(volume.min()), 0.0) - voxel
    padded = np.pad(volume, 1, constant_values=outside)
    return contour(padded, 0.0, voxel, np.full(3, -side_length / 2 - voxel))
