"""Procedural coloured shapes: primitives and composites as triangle meshes, sampled on the surface.

Every primitive is a surface of revolution (a "lathe"): the cube and the pyramid are lathes with
four segments turned by 45 degrees. Meshes are scaled per axis and placed as parts of an object;
points are drawn uniformly by area over all parts, so non-uniform scaling stays area-uniform.
Objects follow Point-E's data convention: z up, centred bounding box, xyz within +-0.5.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

PRIMITIVES = ("cube", "sphere", "cylinder", "cone", "torus", "pyramid", "capsule")

# colour word -> RGB in 0..1 (the diffusion's data space is these times 255)
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.10, 0.10),
    "green": (0.12, 0.62, 0.16),
    "blue": (0.10, 0.25, 0.86),
    "yellow": (0.96, 0.86, 0.10),
    "orange": (1.00, 0.50, 0.05),
    "purple": (0.50, 0.15, 0.70),
    "pink": (1.00, 0.52, 0.72),
    "white": (0.95, 0.95, 0.95),
    "black": (0.08, 0.08, 0.08),
    "brown": (0.45, 0.27, 0.12),
    "grey": (0.50, 0.50, 0.50),
}


@dataclass(frozen=True)
class Mesh:
    """A triangle soup: corner positions (F, 3, 3)."""

    tris: np.ndarray  # (F, 3, 3) float64

    def areas(self) -> np.ndarray:
        a, b, c = self.tris[:, 0], self.tris[:, 1], self.tris[:, 2]
        return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)  # (F,)


def lathe(profile: list[tuple[float, float]], segments: int, phase: float = 0.0) -> Mesh:
    """Revolve a (radius, z) polyline about the z axis."""
    prof = np.asarray(profile, dtype=np.float64)  # (P, 2)
    ang = phase + np.linspace(0.0, 2 * math.pi, segments + 1)  # (S+1,)
    ring = np.stack(
        [prof[:, None, 0] * np.cos(ang)[None], prof[:, None, 0] * np.sin(ang)[None]], axis=-1
    )  # (P, S+1, 2)
    pts = np.concatenate([ring, np.broadcast_to(prof[:, None, 1:2], (*ring.shape[:2], 1))], -1)
    p00, p01 = pts[:-1, :-1], pts[:-1, 1:]
    p10, p11 = pts[1:, :-1], pts[1:, 1:]
    t1 = np.stack([p00, p10, p11], axis=2).reshape(-1, 3, 3)
    t2 = np.stack([p00, p11, p01], axis=2).reshape(-1, 3, 3)
    tris = np.concatenate([t1, t2])
    m = Mesh(tris)
    return Mesh(tris[m.areas() > 1e-12])  # drop the degenerate triangles at the poles


def _arc(cx: float, cz: float, r: float, a0: float, a1: float, n: int) -> list[tuple[float, float]]:
    return [(cx + r * math.cos(a), cz + r * math.sin(a)) for a in np.linspace(a0, a1, n)]


@functools.cache
def unit_mesh(kind: str) -> Mesh:
    """Each primitive at its default proportions, about 1 unit across, centred at the origin."""
    h = math.pi / 2
    if kind == "cube":  # side 1: corner radius sqrt(0.5)
        r = math.sqrt(0.5)
        return lathe([(0, -0.5), (r, -0.5), (r, 0.5), (0, 0.5)], 4, math.pi / 4)
    if kind == "pyramid":  # square base 1 x 1, height 0.9
        r = math.sqrt(0.5)
        return lathe([(0, -0.45), (r, -0.45), (0, 0.45)], 4, math.pi / 4)
    if kind == "sphere":
        return lathe(_arc(0, 0, 0.5, -h, h, 17), 32)
    if kind == "cylinder":  # diameter 0.7, height 1
        return lathe([(0, -0.5), (0.35, -0.5), (0.35, 0.5), (0, 0.5)], 32)
    if kind == "cone":  # base diameter 0.9, height 1
        return lathe([(0, -0.5), (0.45, -0.5), (0, 0.5)], 32)
    if kind == "torus":  # lying flat: ring radius 0.35, tube radius 0.15
        return lathe(_arc(0.35, 0, 0.15, -math.pi, math.pi, 17), 32)
    if kind == "capsule":  # diameter 0.5, total height 1.1
        prof = _arc(0, -0.3, 0.25, -h, 0, 9) + _arc(0, 0.3, 0.25, 0, h, 9)
        return lathe(prof, 32)
    if kind == "hemisphere":  # dome: a mushroom cap or a lamp shade top
        return lathe([*_arc(0, 0, 0.5, h, 0, 9), (0.5, 0.0), (0, 0.0)][::-1], 32)
    if kind in PROFILES:
        return lathe(PROFILES[kind], 32)
    raise ValueError(f"unknown primitive {kind!r}")


# Turned parts of the second-generation objects, as (radius, z) outlines from bottom to top:
# each is about 1 unit tall and placed by Part like any primitive.
PROFILES: dict[str, list[tuple[float, float]]] = {
    # vase: a round belly (the body) under a narrow neck that flares into a lip
    "vase_body": [(0, 0), (0.22, 0), (0.34, 0.12), (0.40, 0.28), (0.36, 0.44), (0.22, 0.58)],
    "vase_neck": [(0.22, 0.58), (0.14, 0.70), (0.13, 0.86), (0.20, 1.0), (0, 1.0)],
    # bowl: an open shell, outside and inside, on a low foot ring (the base)
    "bowl_shell": [
        (0.22, 0.08),
        (0.36, 0.14),
        (0.46, 0.28),
        (0.50, 0.46),
        (0.47, 0.46),
        (0.43, 0.30),
        (0.34, 0.18),
        (0.20, 0.13),
        (0, 0.13),
    ],
    "bowl_foot": [(0, 0), (0.24, 0), (0.24, 0.08), (0.22, 0.08)],
    # chess pawn: a wide base, a tapering stem and a collar (the body) under a ball (the head)
    "pawn_body": [
        (0, 0),
        (0.40, 0),
        (0.40, 0.08),
        (0.30, 0.14),
        (0.18, 0.30),
        (0.13, 0.55),
        (0.24, 0.60),
        (0.24, 0.64),
        (0.10, 0.66),
        (0, 0.66),
    ],
    "pawn_head": [(0, 0.62), *_arc(0, 0.78, 0.19, -math.pi / 2 + 0.6, math.pi / 2, 9)],
}


@dataclass(frozen=True)
class Part:
    """One primitive of an object: scaled per axis, optionally laid on its side, then moved."""

    kind: str
    scale: tuple[float, float, float]
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)
    slot: int = 0  # which colour of the object paints it (0 = main, 1 = second)
    # "x" or "y": rotate so the primitive's z axis points along that axis; "z<radians>": turn
    # about z by that angle
    axis: str = "z"


def place(part: Part) -> Mesh:
    tris = unit_mesh(part.kind).tris * np.asarray(part.scale)
    if part.axis.startswith("z") and len(part.axis) > 1:  # "z<angle>": turned about z
        a = float(part.axis[1:])
        rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        tris = tris @ rot.T
    elif part.axis == "x":
        tris = tris[..., [2, 1, 0]]
    elif part.axis == "y":
        tris = tris[..., [0, 2, 1]]
    return Mesh(tris + np.asarray(part.offset))


def sample_parts(
    parts: list[Part], colors: list[np.ndarray], n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n points uniform by area over all parts -> (xyz (n, 3), rgb (n, 3) in 0..1, slot (n,)):
    the slot says which part's colour each point has (0 main, 1 the named part)."""
    meshes = [place(p) for p in parts]
    tris = np.concatenate([m.tris for m in meshes])  # (F, 3, 3)
    slots = np.concatenate(
        [np.full(len(m.tris), p.slot) for p, m in zip(parts, meshes, strict=True)]
    )
    areas = Mesh(tris).areas()
    idx = rng.choice(len(tris), size=n, p=areas / areas.sum())
    u, v = rng.random((2, n))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    t = tris[idx]  # (n, 3, 3)
    xyz = t[:, 0] + u[:, None] * (t[:, 1] - t[:, 0]) + v[:, None] * (t[:, 2] - t[:, 0])
    palette = np.stack(colors)  # (slots, 3)
    rgb = palette[slots[idx]]
    return xyz, rgb, slots[idx]


def normalise(xyz: np.ndarray, half_extent: float = 0.5) -> np.ndarray:
    """Centre the bounding box and scale so the largest half-extent is `half_extent`."""
    lo, hi = xyz.min(axis=0), xyz.max(axis=0)
    return (xyz - (lo + hi) / 2) * (half_extent / max(float((hi - lo).max()) / 2, 1e-9))


# ---- composites: name -> (parts, default colours (main, second), name of the second part)


def composite_parts(name: str) -> list[Part]:
    """Recognisable everyday objects assembled from primitives (slot 1 = the named part)."""
    leg = 0.05
    if name == "table":
        legs = [
            Part("cylinder", (leg, leg, 0.7), (x, y, 0.35), 1)
            for x in (-0.42, 0.42)
            for y in (-0.25, 0.25)
        ]
        return [Part("cube", (1.0, 0.6, 0.06), (0, 0, 0.73)), *legs]
    if name == "chair":
        legs = [
            Part("cylinder", (leg, leg, 0.5), (x, y, 0.25), 1)
            for x in (-0.22, 0.22)
            for y in (-0.22, 0.22)
        ]
        return [
            Part("cube", (0.55, 0.55, 0.06), (0, 0, 0.52)),
            Part("cube", (0.55, 0.06, 0.55), (0, -0.25, 0.82)),
            *legs,
        ]
    if name == "mug":
        return [
            Part("cylinder", (1.0, 1.0, 0.8), (0, 0, 0.4)),
            Part("torus", (0.7, 0.7, 1.1), (0.4, 0, 0.4), 1, axis="y"),
        ]
    if name == "snowman":
        return [
            Part("sphere", (0.6, 0.6, 0.6), (0, 0, 0.3)),
            Part("sphere", (0.44, 0.44, 0.44), (0, 0, 0.8)),
            Part("sphere", (0.3, 0.3, 0.3), (0, 0, 1.15)),
            Part("cylinder", (0.45, 0.45, 0.18), (0, 0, 1.36), 1),
        ]
    if name == "mushroom":
        return [
            Part("cylinder", (0.5, 0.5, 0.5), (0, 0, 0.25), 1),
            Part("hemisphere", (0.9, 0.9, 0.8), (0, 0, 0.48)),
        ]
    if name == "tree":
        return [
            Part("cylinder", (0.35, 0.35, 0.35), (0, 0, 0.17), 1),
            Part("cone", (1.0, 1.0, 0.9), (0, 0, 0.78)),
        ]
    if name == "lamp":
        return [
            Part("cylinder", (1.0, 1.0, 0.05), (0, 0, 0.02)),
            Part("cylinder", (0.08, 0.08, 0.7), (0, 0, 0.38)),
            Part("cone", (1.1, 1.1, 0.4), (0, 0, 0.85), 1),
        ]
    if name == "dumbbell":
        return [
            Part("cylinder", (0.12, 0.12, 0.7), (0, 0, 0), 1, axis="x"),
            Part("cylinder", (0.9, 0.9, 0.25), (-0.4, 0, 0), axis="x"),
            Part("cylinder", (0.9, 0.9, 0.25), (0.4, 0, 0), axis="x"),
        ]
    if name == "house":
        return [
            Part("cube", (1.0, 0.8, 0.6), (0, 0, 0.3)),
            Part("pyramid", (1.2, 1.0, 0.55), (0, 0, 0.85), 1),
        ]
    if name == "vase":
        return [Part("vase_body", (1, 1, 1)), Part("vase_neck", (1, 1, 1), slot=1)]
    if name == "bowl":
        return [Part("bowl_shell", (1, 1, 1)), Part("bowl_foot", (1, 1, 1), slot=1)]
    if name == "pawn":
        return [Part("pawn_body", (1, 1, 1)), Part("pawn_head", (1, 1, 1), slot=1)]
    if name == "rocket":  # a tall body, a nose cone and three fins at the bottom (nose colour)
        fins = [
            Part("cube", (0.22, 0.04, 0.28), (0.25 * math.cos(a), 0.25 * math.sin(a), 0.14), 1,
                 axis=f"z{a:.6f}")
            for a in (0.0, 2 * math.pi / 3, 4 * math.pi / 3)
        ]  # fmt: skip
        return [
            Part("cylinder", (0.6, 0.6, 0.75), (0, 0, 0.375)),
            Part("cone", (0.47, 0.47, 0.35), (0, 0, 0.925), 1),
            *fins,
        ]
    if name == "duck":  # a body, a head up front and a flat beak pointing forward (x)
        return [
            Part("sphere", (1.0, 0.7, 0.6), (0, 0, 0.3)),
            Part("sphere", (0.45, 0.45, 0.45), (0.32, 0, 0.72)),
            Part("cone", (0.12, 0.3, 0.2), (0.6, 0, 0.68), 1, axis="x"),
        ]
    raise ValueError(f"unknown composite {name!r}")


# name -> (default main colour, second part word, default second colour)
COMPOSITES: dict[str, tuple[str, str, str]] = {
    "table": ("brown", "legs", "brown"),
    "chair": ("brown", "legs", "black"),
    "mug": ("white", "handle", "white"),
    "snowman": ("white", "hat", "black"),
    "mushroom": ("red", "stem", "white"),
    "tree": ("green", "trunk", "brown"),
    "lamp": ("grey", "shade", "yellow"),
    "dumbbell": ("black", "bar", "grey"),
    "house": ("white", "roof", "red"),
    # second generation: things makers print
    "vase": ("blue", "neck", "blue"),
    "bowl": ("white", "base", "white"),
    "pawn": ("black", "head", "black"),
    "rocket": ("white", "nose", "red"),
    "duck": ("yellow", "beak", "orange"),
}

#: Other nouns for an object ("a chess pawn" is a pawn).
OBJECT_SYNONYMS: dict[str, str] = {"chess": "pawn"}

SIZES = {"small": 0.25, "large": 0.5}  # half-extent of the largest side; default about 0.42
PROPORTIONS = ("tall", "flat", "wide")


def primitive_parts(
    kind: str, proportion: str | None, rng: np.random.Generator | None
) -> list[Part]:
    """One primitive with a proportion word applied (tall: z stretched, flat: z squashed,
    wide: x and y stretched) or, without one, a small random jitter of its proportions.
    rng=None gives the canonical proportions (the bench's ground truth)."""
    if rng is None:
        factor = {"tall": (1.0, 1.9), "flat": (1.0, 0.375), "wide": (1.9, 1.0)}
        sx, sz = factor.get(proportion or "", (1.0, 1.0))
        return [Part(kind, (sx, sx, sz))]
    if proportion == "tall":
        sx, sz = 1.0, rng.uniform(1.7, 2.1)
    elif proportion == "flat":
        sx, sz = 1.0, rng.uniform(0.3, 0.45)
    elif proportion == "wide":
        sx, sz = rng.uniform(1.7, 2.1), 1.0
    else:
        sx, sz = rng.uniform(0.93, 1.07), rng.uniform(0.93, 1.07)
    return [Part(kind, (sx, sx, sz))]
