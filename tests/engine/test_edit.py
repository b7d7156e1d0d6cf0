"""engine.edit: resampling, floaters, delete/recolour and the undo/redo history."""

from __future__ import annotations

import numpy as np
import pytest

from engine.edit import (
    EditHistory,
    delete_points,
    farthest_point_order,
    farthest_point_resample,
    recolour_points,
    statistical_outliers,
)


def cloud(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)).astype(np.float32), rng.random((n, 3)).astype(np.float32)


def test_downsample_picks_exactly_n_input_points_deterministically() -> None:
    xyz, rgb = cloud()
    before = xyz.copy(), rgb.copy()
    out, cols, idx = farthest_point_resample(xyz, rgb, 100, seed=7)
    assert out.shape == (100, 3) and cols.shape == (100, 3) and idx.shape == (100,)
    assert len(np.unique(idx)) == 100
    np.testing.assert_array_equal(out, xyz[idx])
    np.testing.assert_array_equal(cols, rgb[idx])
    again = farthest_point_resample(xyz, rgb, 100, seed=7)
    np.testing.assert_array_equal(again[2], idx)
    assert not np.array_equal(farthest_point_resample(xyz, rgb, 100, seed=8)[2], idx)
    out[:] = 0  # the result is a copy, and the inputs were not touched
    np.testing.assert_array_equal(xyz, before[0])
    np.testing.assert_array_equal(rgb, before[1])


def test_farthest_point_sampling_reaches_a_small_far_cluster() -> None:
    rng = np.random.default_rng(1)
    dense = rng.normal(scale=0.05, size=(1000, 3))
    far = rng.normal(scale=0.05, size=(10, 3)) + np.array([10.0, 0.0, 0.0])
    idx = farthest_point_order(np.vstack([dense, far]), 2, seed=0)
    assert (idx < 1000).sum() == 1 and (idx >= 1000).sum() == 1  # one from each


def test_upsample_keeps_every_point_and_adds_distinct_ones_between_neighbours() -> None:
    xyz, rgb = cloud(200)
    out, cols, idx = farthest_point_resample(xyz, rgb, 650, seed=0)
    assert out.shape == (650, 3) and cols.shape == (650, 3)
    np.testing.assert_array_equal(out[:200], xyz)
    np.testing.assert_array_equal(idx[:200], np.arange(200))
    np.testing.assert_array_equal(cols, rgb[idx])  # a new point takes its source's colour
    assert len(np.unique(out, axis=0)) == 650  # no duplicates, even for mutual neighbours
    step = np.linalg.norm(out[200:] - xyz[idx[200:]], axis=1)
    assert (step > 0).all() and (step < np.ptp(xyz, axis=0).max() / 3).all()
    assert np.bincount(idx[200:], minlength=200).min() == 2  # 450 extra: every point grows 2+
    again = farthest_point_resample(xyz, rgb, 650, seed=0)
    np.testing.assert_array_equal(again[0], out)


def test_resample_edge_cases() -> None:
    xyz, _ = cloud(5)
    out, cols, idx = farthest_point_resample(xyz, None, 40)  # many rounds on a tiny cloud
    assert out.shape == (40, 3) and cols is None and len(np.unique(out, axis=0)) == 40
    same, _, idx = farthest_point_resample(xyz, None, 5)
    np.testing.assert_array_equal(same, xyz)
    np.testing.assert_array_equal(idx, np.arange(5))
    one, _, idx = farthest_point_resample(xyz[:1], None, 3)  # one point can only repeat
    np.testing.assert_array_equal(one, np.repeat(xyz[:1], 3, axis=0))
    for bad in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="n must"):
            farthest_point_resample(xyz, None, bad)
    with pytest.raises(ValueError, match="empty"):
        farthest_point_resample(np.zeros((0, 3)), None, 3)
    with pytest.raises(ValueError, match="colors"):
        farthest_point_resample(xyz, np.zeros((4, 3)), 3)
    with pytest.raises(ValueError, match="coords"):
        farthest_point_resample(np.zeros((5, 2)), None, 3)


def test_outliers_find_the_planted_floaters_and_not_the_cluster() -> None:
    rng = np.random.default_rng(2)
    dense = rng.normal(scale=0.02, size=(800, 3))
    planted = np.array([[1, 0, 0], [0, -1, 0], [0, 0, 1.2], [-0.8, 0.8, 0], [0.7, 0.7, -0.7]])
    xyz = np.vstack([dense, planted])
    mask = statistical_outliers(xyz, neighbours=16, strength=2.0)
    assert mask.dtype == bool and mask.shape == (805,)
    assert mask[800:].all() and not mask[:800].any()
    counts = [statistical_outliers(xyz, strength=s).sum() for s in (0.0, 0.5, 2.0, 100.0)]
    assert counts == sorted(counts, reverse=True)  # a higher strength removes fewer
    assert counts[-1] == 0
    assert not statistical_outliers(xyz[:2]).any()  # too few points to judge
    assert statistical_outliers(xyz[:6], neighbours=16).shape == (6,)  # k clipped to N - 1
    with pytest.raises(ValueError, match="neighbours"):
        statistical_outliers(xyz, neighbours=0)
    with pytest.raises(ValueError, match="strength"):
        statistical_outliers(xyz, strength=float("nan"))


def test_delete_and_recolour_return_new_arrays() -> None:
    xyz, rgb = cloud(10)
    before = xyz.copy(), rgb.copy()
    mask = np.zeros(10, dtype=bool)
    mask[[1, 4, 9]] = True
    kept, kept_rgb = delete_points(xyz, rgb, mask)
    assert kept.shape == (7, 3)
    np.testing.assert_array_equal(kept, xyz[~mask])
    np.testing.assert_array_equal(kept_rgb, rgb[~mask])
    assert delete_points(xyz, None, mask)[1] is None
    painted = recolour_points(rgb, mask, (1.0, 0.0, 0.5))
    np.testing.assert_array_equal(painted[mask], np.tile([1.0, 0.0, 0.5], (3, 1)))
    np.testing.assert_array_equal(painted[~mask], rgb[~mask])
    assert painted.dtype == np.float32
    u8 = recolour_points((rgb * 255).astype(np.uint8), mask, (1.0, 0.0, 0.5))
    np.testing.assert_array_equal(u8[mask][0], [255, 0, 128])
    np.testing.assert_array_equal(xyz, before[0])
    np.testing.assert_array_equal(rgb, before[1])
    with pytest.raises(ValueError, match="mask"):
        delete_points(xyz, rgb, mask.astype(int))
    with pytest.raises(ValueError, match="rgb"):
        recolour_points(rgb, mask, (255, 0, 0))


def test_history_undo_redo_order_and_labels() -> None:
    xyz, rgb = cloud(20)
    hist = EditHistory(xyz, rgb)
    assert not hist.can_undo and hist.undo() is None and hist.redo() is None
    states = [hist.current]
    for n, label in ((15, "Remove floaters"), (10, "Delete"), (8, "Delete")):
        states.append(hist.push(xyz[:n], rgb[:n], label))
    assert hist.undo_label == "Delete" and hist.redo_label is None
    assert [len(hist.undo()), len(hist.undo()), len(hist.undo())] == [10, 15, 20]
    assert hist.undo() is None and hist.current is states[0]
    assert hist.redo_label == "Remove floaters"
    assert [len(hist.redo()), len(hist.redo())] == [15, 10]
    hist.push(xyz[:3], None, "Delete")  # a new edit forgets what could be redone
    assert not hist.can_redo and hist.redo() is None
    assert len(hist.undo()) == 10


def test_history_is_bounded_and_keeps_read_only_copies() -> None:
    xyz, rgb = cloud(30)
    hist = EditHistory(xyz, rgb, max_depth=3)
    for n in range(29, 24, -1):
        hist.push(xyz[:n], rgb[:n], f"to {n}")
    undone = []
    while (state := hist.undo()) is not None:
        undone.append(len(state))
    assert undone == [26, 27, 28]  # only the newest three steps are kept
    work = xyz.copy()
    hist.reset(work, None)
    work[:] = 0  # changing the caller's array later does not change the saved state
    assert hist.current.coords.any() and not hist.current.coords.flags.writeable
    assert not hist.can_undo and not hist.can_redo
    with pytest.raises(ValueError, match="max_depth"):
        EditHistory(xyz, rgb, max_depth=0)
