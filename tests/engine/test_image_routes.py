"""Image -> 3D and text -> image -> 3D end to end with tiny random models installed in a store.

Every piece is real (store install and strict loading, open_clip grid embedding, a diffusers
pipeline, both Point-E stages); only the sizes are reduced so it runs in seconds on a CPU."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.checkpoints import CLIP_NAME, default_store
from engine.errors import GenerationCancelled, ModelNotInstalled
from engine.pipeline import generate, run
from engine.requests import GenerationRequest, PictureOptions
from tests.tiny_store import build_tiny_store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A model store holding tiny base40M, upsample and CLIP, installed the normal way."""
    return build_tiny_store(tmp_path_factory.mktemp("store"), tmp_path_factory.mktemp("src"))


def _drain(r):
    steps = list(r)
    return steps, r.result


def test_image_to_3d_with_real_example(store, examples_dir):
    req = GenerationRequest(model="base40M", image=examples_dir / "corgi.jpg", steps=2, seed=1)
    steps, cloud = _drain(run(req, store=store))
    assert [s.stage for s in steps] == ["base"] * 3 + ["upsample"] * 3
    assert len(cloud) == 64 + 192 and np.isfinite(cloud.coords).all()
    # the picture conditions the result: another picture gives another cloud
    other = generate(
        GenerationRequest(model="base40M", image=examples_dir / "cube_stack.jpg", steps=2, seed=1),
        store=store,
    )
    assert not np.allclose(cloud.coords, other.coords)


def test_missing_clip_is_named_before_any_work(tmp_path, examples_dir):
    empty = default_store(tmp_path / "empty")
    with pytest.raises(ModelNotInstalled) as info:
        generate(GenerationRequest(model="base40M", image=examples_dir / "corgi.jpg"), store=empty)
    assert set(info.value.names) == {CLIP_NAME, "base40M", "upsample"}


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory):
    from tests.engine.tiny_models import tiny_sd_pipeline

    return tiny_sd_pipeline(tmp_path_factory.mktemp("sd") / "tiny-sd")


def _via_image(sd_folder, **kw):
    picture = PictureOptions(model=str(sd_folder), steps=2)
    return GenerationRequest(
        prompt="a red chair", model="base40M", steps=2, seed=3, picture=picture, **kw
    )


def test_text_to_image_to_3d(store, sd_folder):
    r = run(_via_image(sd_folder), store=store)
    steps, cloud = _drain(r)
    stages = [s.stage for s in steps]
    assert stages[0] == "image" and stages[-1] == "upsample" and "base" in stages
    pictures = [s.image for s in steps if s.image is not None]
    assert len(pictures) == 1 and isinstance(pictures[0], Image.Image)
    # the step hands on the very picture the 3D stages were conditioned on
    handed = [s.prepared for s in steps if s.prepared is not None]
    assert len(handed) == 1 and handed[0] is r.prepared and r.prepared.image is not None
    assert np.array_equal(np.asarray(pictures[0]), np.asarray(r.picture))
    assert steps[stages.index("base")].stage_index == 1 and steps[-1].n_stages == 3
    assert len(cloud) == 256


@pytest.mark.parametrize("cancel_in", ["image", "base"])
def test_cancel_in_picture_and_3d_stages(store, sd_folder, cancel_in):
    flag = {"on": False}
    gen = run(_via_image(sd_folder), store=store, should_cancel=lambda: flag["on"])
    seen = []
    with pytest.raises(GenerationCancelled):
        for step in gen:
            seen.append(step.stage)
            if step.stage == cancel_in:
                flag["on"] = True
    assert seen[-1] == cancel_in
