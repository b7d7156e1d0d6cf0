"""Scores of generated clouds against procedural ground truth: Chamfer, shape label, colour."""

from __future__ import annotations

import functools

import numpy as np
from scipy.spatial import cKDTree

from engine.train.captions import ObjectSpec, spec_for
from engine.train.dataset import render, render_parts
from engine.train.shapes import COMPOSITES, PRIMITIVES

TEMPLATE_POINTS = 2048


def normalise_cloud(xyz: np.ndarray) -> np.ndarray:
    """Centre on the mean and scale to unit RMS radius: compares shapes, not sizes."""
    c = xyz - xyz.mean(axis=0)
    return c / max(float(np.sqrt((c**2).sum(axis=1).mean())), 1e-9)


def chamfer(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Chamfer distance (mean nearest-neighbour distance both ways) of two clouds."""
    da, _ = cKDTree(b).query(a)
    db, _ = cKDTree(a).query(b)
    return float(da.mean() + db.mean())


def ground_truth(
    kind: str, color: str, n: int = TEMPLATE_POINTS, proportion: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The canonical object "a [proportion] {color} {kind}" describes: xyz (n, 3), RGB 0..1."""
    spec = spec_for(kind, color, proportion)
    return render(spec, n, np.random.default_rng(12345), jitter=False)


@functools.cache
def template(kind: str, proportion: str | None = None) -> np.ndarray:
    """A normalised canonical cloud (colour plays no part in it)."""
    color = COMPOSITES[kind][0] if kind in COMPOSITES else "grey"
    return normalise_cloud(ground_truth(kind, color, proportion=proportion)[0])


def templates() -> dict[str, np.ndarray]:
    """Normalised canonical clouds of the seven primitives (for nearest-template labels)."""
    return {k: template(k) for k in PRIMITIVES}


def nearest(xyz: np.ndarray, candidates: dict[str, np.ndarray]) -> tuple[str, dict[str, float]]:
    """The candidate template nearest to xyz in Chamfer distance, and all distances."""
    x = normalise_cloud(xyz)
    dists = {k: chamfer(x, t) for k, t in candidates.items()}
    return min(dists, key=dists.get), dists


def classify(xyz: np.ndarray) -> tuple[str, dict[str, float]]:
    """The primitive whose template is nearest in Chamfer distance, and all distances."""
    return nearest(xyz, templates())


def colour_error(xyz: np.ndarray, rgb: np.ndarray, gt_xyz: np.ndarray, gt_rgb: np.ndarray) -> float:
    """Mean absolute RGB difference (0..1) to the colour of the nearest ground-truth point,
    after both clouds are normalised (so two-coloured objects compare part by part)."""
    _, idx = cKDTree(normalise_cloud(gt_xyz)).query(normalise_cloud(xyz))
    return float(np.abs(np.clip(rgb, 0, 1) - gt_rgb[idx]).mean())


def score(
    xyz: np.ndarray,
    rgb: np.ndarray,
    kind: str,
    color: str,
    candidates: dict[str, np.ndarray] | None = None,
    proportion: str | None = None,
    expect: str | None = None,
) -> dict[str, float | str | bool]:
    """All scores of one sample (rgb in 0..1) against the object its prompt names. The label
    is the nearest of `candidates` (default: the seven primitives); the sample is right when
    the label is `expect` (default: kind)."""
    gt_xyz, gt_rgb = ground_truth(kind, color, proportion=proportion)
    label, _ = nearest(xyz, templates() if candidates is None else candidates)
    return {
        "chamfer": chamfer(normalise_cloud(xyz), normalise_cloud(gt_xyz)),
        "label": label,
        "correct": label == (expect or kind),
        "colour_error": colour_error(xyz, rgb, gt_xyz, gt_rgb),
    }


def object_truth(
    kind: str, main: str, second: str, n: int = TEMPLATE_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The canonical object in two colours: xyz (n, 3), RGB (n, 3) and each point's part slot."""
    spec = ObjectSpec(kind=kind, colors=(main, second))
    return render_parts(spec, n, np.random.default_rng(12345), jitter=False)


def part_colour_errors(
    xyz: np.ndarray, rgb: np.ndarray, gt_xyz: np.ndarray, gt_rgb: np.ndarray, gt_slot: np.ndarray
) -> dict[int, float]:
    """Per part (slot): the mean RGB error (0..1) of the sample's points that lie on that part
    (nearest ground-truth point, both clouds normalised) against the part's own colour. A part
    none of whose points were drawn counts as the worst error, 1."""
    _, idx = cKDTree(normalise_cloud(gt_xyz)).query(normalise_cloud(xyz))
    errors: dict[int, float] = {}
    for slot in np.unique(gt_slot):
        colour = gt_rgb[gt_slot == slot][0]
        mine = gt_slot[idx] == slot
        errors[int(slot)] = (
            float(np.abs(np.clip(rgb[mine], 0, 1) - colour).mean()) if mine.any() else 1.0
        )
    return errors


def object_templates() -> dict[str, np.ndarray]:
    """Normalised canonical clouds of every object (for nearest-object labels)."""
    return {k: template(k) for k in COMPOSITES}
