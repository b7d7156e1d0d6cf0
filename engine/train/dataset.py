"""Seeded batches of captioned coloured point clouds in Point-E's data space, made on the fly."""

from __future__ import annotations

import numpy as np
import torch

from engine.train.captions import ObjectSpec, random_spec
from engine.train.shapes import (
    COLORS,
    COMPOSITES,
    SIZES,
    composite_parts,
    normalise,
    primitive_parts,
    sample_parts,
)

DEFAULT_HALF_EXTENT = 0.42  # objects without a size word; "small"/"large" use SIZES


def render(
    spec: ObjectSpec,
    n_points: int,
    rng: np.random.Generator,
    jitter: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Points of one object: xyz (n, 3) within +-0.5 (z up) and RGB (n, 3) in 0..1.

    jitter=False gives the canonical shape and exact colours (the bench's ground truth)."""
    xyz, rgb, _ = render_parts(spec, n_points, rng, jitter)
    return xyz, rgb


def render_parts(
    spec: ObjectSpec,
    n_points: int,
    rng: np.random.Generator,
    jitter: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """render() plus each point's part slot (n,): 0 the main part, 1 the named part."""
    if spec.kind in COMPOSITES:
        parts = composite_parts(spec.kind)
    else:
        parts = primitive_parts(spec.kind, spec.proportion, rng if jitter else None)
    colors = [np.asarray(COLORS[c], dtype=np.float64) for c in spec.colors]
    if len(colors) == 1:
        colors.append(colors[0])
    if jitter:
        colors = [np.clip(c + rng.uniform(-0.03, 0.03, 3), 0, 1) for c in colors]
    xyz, rgb, slots = sample_parts(parts, colors, n_points, rng)
    half = SIZES.get(spec.size or "", DEFAULT_HALF_EXTENT)
    if jitter and spec.size is None:
        half *= rng.uniform(0.94, 1.06)
    xyz = normalise(xyz, half)
    if jitter:
        rgb = np.clip(rgb + rng.normal(0, 0.01, rgb.shape), 0, 1)
    return xyz.astype(np.float32), rgb.astype(np.float32), slots


def to_data_space(xyz: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """(n, 3) + (n, 3) in 0..1 -> (6, n): the diffusion's data space (xyz, RGB in 0..255)."""
    return np.concatenate([xyz, rgb * 255.0], axis=1).T.astype(np.float32)


def make_batch(
    seed: int,
    step: int,
    batch: int,
    n_points: int,
    composite_prob: float = 0.25,
    generation: int = 1,
) -> tuple[list[str], torch.Tensor, list[ObjectSpec], torch.Tensor]:
    """Batch `step` of the stream seeded by `seed`: the same arguments give the same batch,
    so a resumed run sees exactly the data it would have seen. Returns captions, x (B, 6, N),
    the specs and each point's part slot (B, N)."""
    rng = np.random.default_rng([seed, step])
    specs = [random_spec(rng, composite_prob, generation) for _ in range(batch)]
    clouds = [render_parts(s, n_points, rng) for s in specs]
    x = np.stack([to_data_space(xyz, rgb) for xyz, rgb, _ in clouds])  # (B, 6, N)
    slots = np.stack([slot for _, _, slot in clouds])  # (B, N)
    return [s.caption for s in specs], torch.from_numpy(x), specs, torch.from_numpy(slots)


def part_weights(slots: torch.Tensor, cap: float) -> torch.Tensor:
    """Per-point loss weights (B, N) that give each part of a cloud the same total weight,
    each point's weight capped at `cap` times the others' before normalising to mean 1.

    Uniform sampling by area leaves a duck's beak 3% of its points and a dumbbell's bar 7%,
    so a plain mean lets the model paint them the main colour at almost no cost. A cloud of
    one part (every primitive) keeps weight 1 everywhere."""
    slots = slots.long()
    n_parts = int(slots.max()) + 1 if slots.numel() else 1
    onehot = torch.nn.functional.one_hot(slots, n_parts).to(torch.float32)  # (B, N, P)
    share = onehot.mean(dim=1)  # (B, P): each part's fraction of the points
    present = (share > 0).sum(dim=1, keepdim=True).to(torch.float32)  # (B, 1)
    want = (1.0 / present) / share.clamp(min=1e-9)  # (B, P): equal total per present part
    want = want / want.min(dim=1, keepdim=True).values  # the largest part weighs 1
    w = torch.gather(want.clamp(max=cap), 1, slots)  # (B, N)
    return w / w.mean(dim=1, keepdim=True)
