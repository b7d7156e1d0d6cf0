"""Procedural data: geometry of every shape, colours of parts, captions and held-out pairs."""

from __future__ import annotations

import numpy as np
import pytest

from engine.models.text_encoder import words_of
from engine.train.captions import FIRST_OBJECTS, HELD_OUT, random_spec, spec_for, vocabulary
from engine.train.dataset import make_batch, render
from engine.train.shapes import COLORS, COMPOSITES, PRIMITIVES


def _render(kind: str, color: str = "red", n: int = 2048):
    return render(spec_for(kind, color), n, np.random.default_rng(0), jitter=False)


@pytest.mark.parametrize("kind", PRIMITIVES + tuple(COMPOSITES))
def test_objects_are_centred_inside_the_unit_box(kind: str) -> None:
    xyz, rgb = _render(kind)
    assert xyz.shape == (2048, 3) and rgb.shape == (2048, 3)
    assert np.abs(xyz).max() <= 0.5 + 1e-6
    lo, hi = xyz.min(0), xyz.max(0)
    np.testing.assert_allclose((lo + hi) / 2, 0, atol=0.02)  # bounding box centred
    assert (hi - lo).max() > 0.7  # fills the box along its longest side


def test_points_lie_on_the_surfaces() -> None:
    xyz, _ = _render("sphere")
    r = np.linalg.norm(xyz, axis=1)
    assert r.std() < 0.01 * r.mean()  # all on one radius (faceting only)
    xyz, _ = _render("cube")
    assert np.allclose(np.abs(xyz).max(axis=1), np.abs(xyz).max(), atol=1e-4)  # on a face
    xyz, _ = _render("torus")
    ring = np.linalg.norm(xyz[:, :2], axis=1)
    assert ring.min() > 0.1  # a hole in the middle
    assert np.ptp(xyz[:, 2]) < 0.4 * np.ptp(xyz[:, 0])  # lying flat, z up


def test_z_is_up() -> None:
    cone, _ = _render("cone")
    top = cone[:, 2] > 0.3
    assert np.linalg.norm(cone[top, :2], axis=1).max() < 0.15  # the apex points up
    cyl, _ = _render("cylinder")
    assert np.ptp(cyl[:, 2]) > np.ptp(cyl[:, 0])  # standing
    tree, rgb = _render("tree", "green")
    low = tree[:, 2] < tree[:, 2].min() + 0.1
    np.testing.assert_allclose(rgb[low].mean(0), COLORS["brown"], atol=0.05)  # trunk at bottom


def test_two_coloured_composite_paints_the_named_part() -> None:
    rng = np.random.default_rng(0)
    spec = spec_for("mushroom", "red")
    xyz, rgb = render(spec, 4096, rng, jitter=False)
    stem = xyz[:, 2] < -0.2
    cap = xyz[:, 2] > 0.2
    np.testing.assert_allclose(rgb[stem].mean(0), COLORS["white"], atol=0.02)
    np.testing.assert_allclose(rgb[cap].mean(0), COLORS["red"], atol=0.02)


def test_area_uniform_sampling() -> None:
    # a cylinder of diameter 0.7 and height 1: side area 2.2, caps 0.385 each -> 74% on the side
    xyz, _ = _render("cylinder", n=20000)
    side = np.abs(xyz[:, 2]) < np.abs(xyz[:, 2]).max() - 1e-4  # not on a cap
    assert 0.70 < side.mean() < 0.78


def test_captions_cover_the_vocabulary_and_skip_held_out_pairs() -> None:
    rng = np.random.default_rng(3)
    vocab = set(vocabulary(1))
    specs = [random_spec(rng) for _ in range(3000)]  # the first generation's stream
    for spec in specs:
        words = words_of(spec.caption)
        assert words and set(words) <= vocab, spec.caption
        if spec.kind in PRIMITIVES:
            assert (spec.kind, spec.colors[0]) not in HELD_OUT
    kinds = {s.kind for s in specs}
    assert kinds == set(PRIMITIVES) | set(FIRST_OBJECTS)
    assert {c for s in specs for c in s.colors} == set(COLORS)
    assert any(" with " in s.caption for s in specs)  # two-coloured captions exist
    assert any(s.proportion == "tall" for s in specs)
    for kind, color in HELD_OUT:
        assert kind in PRIMITIVES and color in COLORS


def test_caption_names_colour_and_shape() -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        spec = random_spec(rng, composite_prob=0.0)
        words = words_of(spec.caption)
        assert spec.kind in words or {"box", "ball", "ring", "donut"} & set(words)
        if spec.proportion:
            assert spec.proportion in words


def test_batches_are_reproducible() -> None:
    caps, x, *_ = make_batch(7, 3, 4, 128)
    caps2, x2, *_ = make_batch(7, 3, 4, 128)
    _, x3, *_ = make_batch(7, 4, 4, 128)
    assert caps == caps2 and np.array_equal(x.numpy(), x2.numpy())
    assert not np.array_equal(x.numpy(), x3.numpy())
    assert x.shape == (4, 6, 128)
    assert float(x[:, 3:].min()) >= 0 and float(x[:, 3:].max()) <= 255  # RGB in 0..255
    assert float(x[:, 3:].max()) > 1  # not 0..1
