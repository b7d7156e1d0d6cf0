"""Point-cloud editing: resample to n points, find floaters, delete, recolour, undo/redo history."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CloudState",
    "EditHistory",
    "delete_points",
    "farthest_point_order",
    "farthest_point_resample",
    "recolour_points",
    "statistical_outliers",
]


def _check_coords(coords: np.ndarray) -> np.ndarray:
    xyz = np.asarray(coords)
    if xyz.ndim != 2 or xyz.shape[1] != 3:
        raise ValueError(f"coords must have shape (N, 3), got {xyz.shape}")
    if not np.isfinite(xyz).all():
        raise ValueError("coords has NaN or infinite values")
    return xyz


def _check_colors(colors: np.ndarray | None, n: int) -> np.ndarray | None:
    if colors is None:
        return None
    c = np.asarray(colors)
    if c.shape != (n, 3):
        raise ValueError(f"colors must have shape ({n}, 3), got {c.shape}")
    return c


def _check_mask(mask: np.ndarray, n: int) -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != (n,) or m.dtype != bool:
        raise ValueError(f"mask must be a boolean array of shape ({n},), got {m.dtype} {m.shape}")
    return m


def farthest_point_order(coords: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
    """Indices of n points, each the farthest from those before it: an even spread of the shape.

    Starts from a point drawn with `seed`; ties go to the lowest index, so the order repeats.
    O(N * n) time and O(N) memory."""
    xyz = _check_coords(coords).astype(np.float64)
    if not 1 <= n <= len(xyz):
        raise ValueError(f"n must be between 1 and the number of points ({len(xyz)}), got {n}")
    order = np.empty(n, dtype=np.int64)
    order[0] = np.random.default_rng(seed).integers(len(xyz))
    dist = np.full(len(xyz), np.inf)
    for i in range(1, n):
        step = xyz - xyz[order[i - 1]]
        np.minimum(dist, np.einsum("ij,ij->i", step, step), out=dist)
        order[i] = int(np.argmax(dist))
    return order


def farthest_point_resample(
    coords: np.ndarray, colors: np.ndarray | None, n: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Bring a cloud back to exactly n points (Point-E's models and the viewer expect a fixed n).

    More than n points: farthest-point sampling keeps n of them, spread evenly over the shape.
    Fewer: every point is kept and each new point goes a third of the way from an existing point
    towards one of its nearest neighbours, so new points fill the gaps on the surface instead of
    piling up (a third, not half: two mutual neighbours would otherwise make the same midpoint).
    When only some points grow a new one, they are picked in farthest-point order, so the
    additions spread over the whole shape; each further round of growth uses the next-nearest
    neighbour. A single point can only be repeated. A new point takes its existing point's
    colour. `indices[i]` is the input point that output point i is (or grew from).
    Deterministic for a seed; inputs are never modified."""
    xyz = _check_coords(coords)
    cols = _check_colors(colors, len(xyz))
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if len(xyz) == 0:
        raise ValueError("coords is empty: there is nothing to resample")
    n, count = int(n), len(xyz)
    if n <= count:
        idx = np.arange(count) if n == count else farthest_point_order(xyz, n, seed=seed)
        return xyz[idx].copy(), None if cols is None else cols[idx].copy(), idx
    extra = n - count
    full, rest = divmod(extra, count)  # whole rounds use every point; order matters in the last
    tail = farthest_point_order(xyz, rest, seed=seed) if rest else np.empty(0, dtype=np.int64)
    sources = np.concatenate([np.tile(np.arange(count), full), tail])
    new = xyz[sources].astype(np.float64)
    if count > 1:
        from scipy.spatial import cKDTree

        rounds = -(-extra // count)  # round r uses each source's (r+1)-th nearest neighbour
        k = min(rounds, count - 1)
        _, nb = cKDTree(xyz).query(xyz, k=k + 1)  # (N, k+1); column 0 is the point itself
        r = np.arange(extra) // count
        towards = nb[sources, 1 + r % k]
        t = 1.0 / (3.0 + r // k)  # beyond N-1 rounds, shorter steps keep new points distinct
        new += (xyz[towards] - xyz[sources]) * t[:, None]
    idx = np.concatenate([np.arange(count), sources])
    out = np.concatenate([xyz, new.astype(xyz.dtype)])
    out_cols = None if cols is None else cols[idx].copy()
    return out, out_cols, idx


def statistical_outliers(
    coords: np.ndarray, *, neighbours: int = 16, strength: float = 2.0
) -> np.ndarray:
    """True for floaters: points whose mean distance to their k nearest neighbours is above
    mean + strength * std of that distance over the cloud.

    Diffusion samples scatter a few stray points around the shape; they spoil meshes and prints.
    A higher strength removes fewer points, so a "Remove floaters" slider can preview its mask."""
    xyz = _check_coords(coords)
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)):
        raise ValueError(f"neighbours must be an integer, got {neighbours!r}")
    if neighbours < 1:
        raise ValueError(f"neighbours must be at least 1, got {neighbours}")
    if not np.isfinite(strength) or strength < 0:
        raise ValueError(f"strength must be a finite number >= 0, got {strength}")
    if len(xyz) < 3:
        return np.zeros(len(xyz), dtype=bool)
    from scipy.spatial import cKDTree

    k = min(int(neighbours), len(xyz) - 1)
    dist, _ = cKDTree(xyz).query(xyz, k=k + 1)  # column 0: the point itself
    mean = dist[:, 1:].mean(axis=1)
    return mean > mean.mean() + float(strength) * mean.std()


def delete_points(
    coords: np.ndarray, colors: np.ndarray | None, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """New arrays without the points where mask is True (the inputs stay as they were, for undo)."""
    xyz = _check_coords(coords)
    cols = _check_colors(colors, len(xyz))
    keep = ~_check_mask(mask, len(xyz))
    return xyz[keep].copy(), None if cols is None else cols[keep].copy()


def recolour_points(colors: np.ndarray, mask: np.ndarray, rgb: Sequence[float]) -> np.ndarray:
    """A new colour array with the masked points painted `rgb` (three values in 0…1)."""
    cols = np.asarray(colors)
    if cols.ndim != 2 or cols.shape[1] != 3:
        raise ValueError(f"colors must have shape (N, 3), got {cols.shape}")
    m = _check_mask(mask, len(cols))
    paint = np.asarray(rgb, dtype=np.float64)
    if (
        paint.shape != (3,)
        or not np.isfinite(paint).all()
        or (paint < 0).any()
        or (paint > 1).any()
    ):
        raise ValueError(f"rgb must be three values between 0 and 1, got {rgb!r}")
    out = cols.copy()
    if not np.issubdtype(out.dtype, np.floating):  # 0…255 bytes
        paint = np.round(paint * 255.0)
    out[m] = paint.astype(out.dtype)
    return out


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    out = np.array(a, copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class CloudState:
    """One step of the history: read-only copies, so no later edit can change a saved state."""

    coords: np.ndarray  # (N, 3)
    colors: np.ndarray | None  # (N, 3) or None
    label: str = ""  # what produced this state ("Remove floaters"), for "Undo …" menu text

    def __post_init__(self) -> None:
        xyz = _check_coords(self.coords)
        _check_colors(self.colors, len(xyz))
        object.__setattr__(self, "coords", _frozen(xyz))
        object.__setattr__(self, "colors", _frozen(self.colors))

    def __len__(self) -> int:
        return len(self.coords)


class EditHistory:
    """Undo/redo of cloud states for Ctrl+Z / Ctrl+Shift+Z; pure Python, so a GUI only drives it.

    `current` is what the viewer shows. `push` records an edit and forgets the redo steps (as
    every editor does). At most `max_depth` undo steps are kept; the oldest go first.
    `undo`/`redo` return the new current state, or None when there is nothing to undo/redo."""

    def __init__(
        self,
        coords: np.ndarray,
        colors: np.ndarray | None = None,
        *,
        max_depth: int = 50,
        label: str = "original",
    ) -> None:
        if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
            raise ValueError(f"max_depth must be a positive integer, got {max_depth!r}")
        self.max_depth = max_depth
        self._current = CloudState(coords, colors, label)
        self._undo: deque[CloudState] = deque(maxlen=max_depth)
        self._redo: list[CloudState] = []

    @property
    def current(self) -> CloudState:
        return self._current

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        """The edit an undo would take back (for the menu: "Undo Remove floaters")."""
        return self._current.label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None

    def push(self, coords: np.ndarray, colors: np.ndarray | None, label: str = "") -> CloudState:
        """Record an edit's result as the new current state."""
        state = CloudState(coords, colors, label)
        self._undo.append(self._current)
        self._current = state
        self._redo.clear()
        return state

    def undo(self) -> CloudState | None:
        if not self._undo:
            return None
        self._redo.append(self._current)
        self._current = self._undo.pop()
        return self._current

    def redo(self) -> CloudState | None:
        if not self._redo:
            return None
        self._undo.append(self._current)
        self._current = self._redo.pop()
        return self._current

    def reset(self, coords: np.ndarray, colors: np.ndarray | None = None, label: str = "original"):
        """Start over from a new cloud (a new generation or file): both stacks are cleared."""
        self._current = CloudState(coords, colors, label)
        self._undo.clear()
        self._redo.clear()
        return self._current
