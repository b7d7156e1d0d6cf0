"""The built-in model's output for a fixed prompt and seed, recorded from the shipped weights:
refactors of the request path must leave it bit for bit (to float32 rounding) the same.
Re-recorded when the weights change (text model step 30,387, 10 blocks; upsampler step 3,256)."""

from __future__ import annotations

import numpy as np

import engine

# engine.generate(prompt="a red cube", seed=0) at the shipped defaults (Heun, 24 steps,
# guidance 1.5; then the built-in upsampler, Heun 6 steps from copies of the base points),
# recorded from the pipeline with the step-30,387 text model. The base's 1,024 points come
# first, exactly what the base stage alone makes.
FIRST_COORDS = [
    [-0.41409248, -0.42625496, 0.30533102],
    [-0.42674929, -0.060429215, 0.37418145],
    [-0.13505444, -0.43837643, 0.28404298],
    [-0.20629781, -0.4796415, -0.28936511],
]
BASE_LAST_COORDS = [
    [0.39096767, -0.48243484, -0.40379313],
    [-0.4636876, 0.4426977, -0.34505424],
]
LAST_COORDS = [
    [0.31746864, -0.49778083, -0.32250407],
    [-0.46060005, 0.32345933, -0.4042621],
]
FIRST_COLOURS = [
    [0.84313726, 0.06666667, 0.082352944],
    [0.86274511, 0.062745102, 0.082352944],
    [0.85882354, 0.054901961, 0.070588239],
    [0.86274511, 0.054901961, 0.062745102],
]
LAST_COLOURS = [
    [0.85490197, 0.062745102, 0.06666667],
    [0.86274511, 0.050980393, 0.086274512],
]


def test_red_cube_seed_0_is_unchanged():
    cloud = engine.generate(prompt="a red cube", seed=0)
    assert len(cloud) == 4096
    np.testing.assert_allclose(cloud.coords[:4], FIRST_COORDS, atol=2e-6)
    np.testing.assert_allclose(cloud.coords[1022:1024], BASE_LAST_COORDS, atol=2e-6)
    np.testing.assert_allclose(cloud.colors[:4], FIRST_COLOURS, atol=1e-6)
    np.testing.assert_allclose(cloud.coords[-2:], LAST_COORDS, atol=2e-6)
    np.testing.assert_allclose(cloud.colors[-2:], LAST_COLOURS, atol=1e-6)


def test_official_preset_is_the_default():
    default = engine.generate(prompt="a green cone", seed=3)
    official = engine.generate(prompt="a green cone", seed=3, preset="official")
    assert np.array_equal(default.coords, official.coords)
    assert np.array_equal(default.colors, official.colors)
    fast = engine.generate(prompt="a green cone", seed=3, preset="fast")
    assert fast.meta["sampler"] == ["dpmpp_2m", "dpmpp_2m"]  # base and upsampler
    assert not np.allclose(fast.coords, default.coords)
