"""The shipped built-in route ends at 4,096 points like the official ones: the base model's
1,024 points first, unchanged, then the built-in upsampler's 3,072."""

from __future__ import annotations

import numpy as np

import engine
from engine.embedded import RESOURCE_DIR, UPSAMPLER_CONFIG, read_config
from engine.routes import ROUTES


def test_builtin_route_has_the_shipped_upsampler_stage() -> None:
    route = ROUTES["builtin-text"]
    assert [s.role for s in route.stages] == ["base", "upsample"]
    assert route.upsampler == "embedded-upsampler"
    up = route.stages[1]
    shipped = read_config(RESOURCE_DIR, UPSAMPLER_CONFIG)["defaults"]
    assert (up.start, up.sigma_max, up.steps) == (
        shipped["start"], shipped["sigma_max"], shipped["steps"],
    )  # fmt: skip
    assert not up.conditioned


def test_default_generation_is_4096_points_with_the_base_first() -> None:
    full = engine.generate(prompt="a blue sphere", seed=2)
    base = engine.generate(prompt="a blue sphere", seed=2, upsample=False)
    assert len(full) == 4096 and len(base) == 1024
    np.testing.assert_array_equal(full.coords[:1024], base.coords)
    np.testing.assert_array_equal(full.colors[:1024], base.colors)
    # each new point starts beside one base point and stays near the surface it samples
    new = full.coords[1024:]
    nearest = np.sqrt(((new[:, None, :] - base.coords[None, ::4, :]) ** 2).sum(-1)).min(1)
    assert np.median(nearest) < 0.1  # data units: the object spans about 1
    blue = full.colors[1024:, 2] > full.colors[1024:, 0]
    assert blue.mean() > 0.9  # the new points keep the sphere's colour
