"""The two-stage sampler reproduces the official PointCloudSampler run from its seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.diffusion import NoiseSchedule
from engine.errors import GenerationCancelled
from engine.models import build_model, config_from_official_kwargs, load_state_dict_strict
from engine.stages import Stage, sample_stages, samples_to_arrays


def _model(vectors_dir, name):
    ref = torch.load(vectors_dir / name, weights_only=True)
    model = build_model(config_from_official_kwargs(ref["config"]))
    return load_state_dict_strict(model, ref["state_dict"])


def _stages(vectors_dir, ref):
    s = ref["settings"]
    base = Stage(
        name="base",
        model=_model(vectors_dir, "clipvec.pt"),
        schedule=NoiseSchedule.from_name("cosine"),
        n_points=s["num_points"][0],
        cond={"embeddings": ref["cond_embedding"]},
        guidance=s["guidance_scale"][0],
        steps=s["karras_steps"][0],
        sigma_max=s["sigma_max"][0],
        s_churn=s["s_churn"][0],
    )
    up = Stage(
        name="upsample",
        model=_model(vectors_dir, "clipgrid_upsample.pt"),
        schedule=NoiseSchedule.from_name("linear"),
        n_points=s["num_points"][1],
        guidance=s["guidance_scale"][1],
        steps=s["karras_steps"][1],
        sigma_max=s["sigma_max"][1],
        s_churn=s["s_churn"][1],
        uses_low_res=True,
    )
    return [base, up]


def test_pipeline_reproduces_reference_run(vectors_dir):
    ref = torch.load(vectors_dir / "sampler_pipeline16.pt", weights_only=True)
    gen = torch.Generator().manual_seed(ref["settings"]["seed"])
    records = []
    it = sample_stages(_stages(vectors_dir, ref), generator=gen)
    while True:
        try:
            records.append(next(it))
        except StopIteration as stop:
            final = stop.value
            break
    assert len(records) == ref["n_yields"] == 34
    tol = torch.tensor([1, 1, 1, 255, 255, 255]).view(1, 6, 1) * 1e-3
    assert ((records[0].samples - ref["yield_0"]).abs() <= tol).all()
    assert records[17].stage == "upsample" and records[17].step == 1
    assert ((records[17].samples - ref["yield_17_first_upsampler_record"]).abs() <= tol).all()
    assert ((final - ref["final_samples"]).abs() <= tol).all()
    coords, colors = samples_to_arrays(final)
    assert np.abs(coords - ref["point_cloud_coords"].numpy()).max() < 1e-3
    want = torch.stack([ref[f"point_cloud_{c}"] for c in "RGB"], dim=1).numpy()
    assert np.abs(colors - want).max() <= 1 / 255 + 1e-6  # rounding may flip one level
    assert np.mean(np.abs(colors - want) < 1e-6) > 0.99
    # low-res points come first in the upsampled cloud
    assert torch.equal(final[:, :, :64], records[16].samples)


def test_cancel_stops_before_the_next_model_call(vectors_dir):
    ref = torch.load(vectors_dir / "sampler_pipeline16.pt", weights_only=True)
    stages = _stages(vectors_dir, ref)
    calls = {"n": 0}
    model = stages[0].model
    orig = model.forward

    def counting(*a, **k):
        calls["n"] += 1
        return orig(*a, **k)

    model.forward = counting
    seen = []
    flag = {"cancel": False}
    with pytest.raises(GenerationCancelled):
        for rec in sample_stages(
            stages, generator=torch.Generator().manual_seed(1), should_cancel=lambda: flag["cancel"]
        ):
            seen.append(rec)
            if len(seen) == 3:
                flag["cancel"] = True
                n_at_cancel = calls["n"]
    assert calls["n"] == n_at_cancel  # no model call after the flag was raised
    assert len(seen) == 3
