"""The built-in model's output for a fixed prompt and seed, recorded from the shipped weights:
refactors of the request path must leave it bit for bit (to float32 rounding) the same.
Re-recorded when the weights change (text model step 18,387; upsampler step 3,256)."""

from __future__ import annotations

import numpy as np

import engine

# engine.generate(prompt="a red cube", seed=0) at the shipped defaults (Heun, 24 steps,
# guidance 1.5; then the built-in upsampler, Heun 6 steps from copies of the base points),
# recorded from the pipeline with the step-18,387 text model. The base's 1,024 points come
# first, exactly what the base stage alone makes.
FIRST_COORDS = [
    [-0.39624667, -0.4208453, 0.26337188],
    [-0.40437225, -0.06210752, 0.36113435],
    [-0.13891177, -0.43010363, 0.27131438],
    [-0.20946991, -0.48046452, -0.2791121],
]
BASE_LAST_COORDS = [
    [0.3721888, -0.4827172, -0.39387396],
    [-0.4538466, 0.42246273, -0.35485402],
]
LAST_COORDS = [[0.3025018, -0.49868062, -0.31660414], [-0.44553468, 0.29745513, -0.40560025]]
FIRST_COLOURS = [
    [0.84313726, 0.04313726, 0.03921569],
    [0.8627451, 0.03529412, 0.03529412],
    [0.85490197, 0.03137255, 0.02745098],
    [0.85882354, 0.03137255, 0.02352941],
]
LAST_COLOURS = [[0.84705883, 0.03921569, 0.02745098], [0.85882354, 0.02745098, 0.04705882]]


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
