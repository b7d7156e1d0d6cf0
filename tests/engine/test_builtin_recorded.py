"""The built-in model's output for a fixed prompt and seed, recorded before the routes redesign:
refactors of the request path must leave it bit for bit (to float32 rounding) the same."""

from __future__ import annotations

import numpy as np

import engine

# engine.generate(prompt="a red cube", seed=0) at the shipped defaults (Heun, 24 steps,
# guidance 1.5), recorded from the pipeline as it was before engine.routes existed.
FIRST_COORDS = [
    [-0.39211497, -0.4013192, 0.25189275],
    [-0.40922654, -0.04044855, 0.3616988],
    [-0.14882338, -0.4288599, 0.29873836],
    [-0.21338043, -0.48159748, -0.28442937],
]
LAST_COORDS = [[0.36344236, -0.46319842, -0.37397653], [-0.45017707, 0.37857592, -0.33389002]]
FIRST_COLOURS = [
    [0.8666667, 0.01960784, 0.02352941],
    [0.88235295, 0.01176471, 0.01568628],
    [0.8784314, 0.00392157, 0.00392157],
    [0.88235295, 0.00784314, 0.00392157],
]


def test_red_cube_seed_0_is_unchanged():
    cloud = engine.generate(prompt="a red cube", seed=0)
    assert len(cloud) == 1024
    np.testing.assert_allclose(cloud.coords[:4], FIRST_COORDS, atol=2e-6)
    np.testing.assert_allclose(cloud.coords[-2:], LAST_COORDS, atol=2e-6)
    np.testing.assert_allclose(cloud.colors[:4], FIRST_COLOURS, atol=1e-6)


def test_official_preset_is_the_default():
    default = engine.generate(prompt="a green cone", seed=3)
    official = engine.generate(prompt="a green cone", seed=3, preset="official")
    assert np.array_equal(default.coords, official.coords)
    assert np.array_equal(default.colors, official.colors)
    fast = engine.generate(prompt="a green cone", seed=3, preset="fast")
    assert fast.meta["sampler"] == ["dpmpp_2m"] and not np.allclose(fast.coords, default.coords)
