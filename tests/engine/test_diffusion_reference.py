"""Schedules, the sigma->t bridge and every sampler reproduce the reference vector files."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.diffusion import (
    ChannelScaling,
    GaussianDenoiser,
    NoiseSchedule,
    guided,
    karras_sigmas,
    make_noise_fn,
    sampler_by_name,
)
from engine.models import build_model, config_from_official_kwargs, load_state_dict_strict


def _load(vectors_dir, name):
    return torch.load(vectors_dir / name, weights_only=True)


class Recorder(nn.Module):
    """Wraps a network and remembers the timesteps and inputs of every call."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner
        self.ts: list[torch.Tensor] = []
        self.xs: list[torch.Tensor] = []

    def forward(self, x, t, **kw):
        self.ts.append(t.clone())
        self.xs.append(x.clone())
        return self.inner(x, t, **kw)


@pytest.mark.parametrize("name", ["cosine", "linear"])
def test_schedule_tables_match(vectors_dir, name):
    ref = _load(vectors_dir, "sampler_schedules.pt")["schedules"][name]
    sched = NoiseSchedule.from_name(name)
    for key in ("alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod"):
        want = ref[key].numpy()
        got = getattr(sched, key)
        assert abs(got - want).max() / abs(want).max() < 1e-12, key


def test_karras_sigmas_and_sigma_to_t_match(vectors_dir):
    ref = _load(vectors_dir, "sampler_schedules.pt")
    for key, want in ref["karras_sigmas"].items():
        n, lo, hi = key[1:].split("_")
        got = karras_sigmas(int(n), float(lo[3:]), float(hi[3:]))
        assert torch.equal(got, want), key
    for sched_name, tables in ref["sigma_to_t"].items():
        sched = NoiseSchedule.from_name(sched_name)
        for key, table in tables.items():
            sigma = table["sigma"]
            t_float = torch.from_numpy(sched.sigma_to_t_float(sigma))
            assert (t_float - table["t_float"]).abs().max() < 1e-6, (sched_name, key)
            assert torch.equal(sched.sigma_to_t(sigma), table["t_long"]), (sched_name, key)


SAMPLER_FILES = [
    "sampler_base_heun16.pt",
    "sampler_base_heun16_churn3.pt",
    "sampler_base_heun16_noclip.pt",
    "sampler_base_dpm16.pt",
    "sampler_base_ancestral16.pt",
    "sampler_upsample_heun16.pt",
    "sampler_upsample_heun16_guided.pt",
]


def _setup(vectors_dir, ref):
    """Model, conditional kwargs and schedule for one sampler file."""
    s = ref["settings"]
    weights = _load(vectors_dir, s["model_file"])
    model = build_model(config_from_official_kwargs(weights["config"]))
    load_state_dict_strict(model, weights["state_dict"])
    if "low_res" in ref:
        cond = {"low_res": ref["low_res"]}
        if s["guidance_scale"] not in (0.0, 1.0):
            cond["embeddings"] = weights["inputs"]["embeddings"][:1]
    else:
        cond = {"embeddings": ref["model_kwargs"]["embeddings"][:1]}
    return model, cond, NoiseSchedule.from_name(s["schedule"])


@pytest.mark.parametrize("filename", SAMPLER_FILES)
def test_sampler_reproduces_reference(vectors_dir, filename):
    ref = _load(vectors_dir, filename)
    s = ref["settings"]
    model, cond, sched = _setup(vectors_dir, ref)
    rec = Recorder(model)
    denoiser = guided(
        GaussianDenoiser(rec, sched, clip_denoised=s["clip_denoised"], cond=cond),
        s["guidance_scale"],
    )
    sigmas = karras_sigmas(s["steps"], s["sigma_min"], s["sigma_max"], s["rho"])
    assert torch.equal(sigmas, ref["sigmas"])
    # x_T is the stage's first draw from a generator seeded like the reference
    gen = torch.Generator().manual_seed(s["seed"])
    x_t = torch.randn(s["shape"], generator=gen) * s["sigma_max"]
    assert torch.equal(x_t, ref["x_T"])
    if "rng_draws_after_xT" in ref:
        draws = iter(ref["rng_draws_after_xT"])
        noise = lambda shape: next(draws)  # noqa: E731  (replay the recorded churn noise)
    else:
        noise = make_noise_fn(gen, x_t)
    kwargs = {} if s["sampler"] == "ancestral" else {"s_churn": s["s_churn"]}
    steps = list(sampler_by_name(s["sampler"])(denoiser, x_t, sigmas, noise=noise, **kwargs))

    assert torch.equal(torch.stack([t[0] for t in rec.ts]), ref["eval_t"][:, 0])
    assert len(rec.ts) == ref["n_model_evals"]
    if "eval_x_in" in ref:
        assert (torch.stack(rec.xs) - ref["eval_x_in"]).abs().max() < 1e-3
    scaling = ChannelScaling()
    assert len(steps) == s["steps"] + 1 and steps[-1].final
    assert [st.sigma_hat for st in steps[:-1]] == pytest.approx(
        ref["step_sigma_hat"].tolist(), rel=1e-6
    )
    step_x0 = torch.stack([scaling.unscale(st.denoised) for st in steps[:-1]])
    tol_x0 = torch.tensor([0.5, 0.5, 0.5, 127.5, 127.5, 127.5]).view(1, 1, 6, 1) * 2e-3
    assert ((step_x0 - ref["step_pred_xstart_unscaled"]).abs() <= tol_x0).all()
    final = scaling.unscale(steps[-1].denoised)
    data_tol = torch.tensor([1, 1, 1, 255, 255, 255]).view(1, 6, 1) * 1e-3
    assert ((final - ref["final_pred_xstart_unscaled"]).abs() <= data_tol).all()
    assert ((steps[-1].x - ref["final_x_raw"]).abs() <= 1e-3 * 5).all()


def test_guidance_doubles_batch_once_and_bypasses_at_zero_and_one(vectors_dir):
    ref = _load(vectors_dir, "clipvec.pt")
    model = build_model(config_from_official_kwargs(ref["config"]))
    load_state_dict_strict(model, ref["state_dict"])
    rec = Recorder(model)
    den = GaussianDenoiser(
        rec, NoiseSchedule.from_name("cosine"), cond={"embeddings": ref["inputs"]["embeddings"][:1]}
    )
    x, sigma = torch.randn(1, 6, 64), torch.tensor([3.0])
    for scale in (0.0, 1.0):
        assert guided(den, scale) is den
    out = guided(den, 3.0)(x, sigma)
    assert rec.xs[-1].shape[0] == 2  # one network call on the doubled batch
    cond_x0 = den(x, sigma)
    uncond_x0 = den.with_cond({"embeddings": torch.zeros(1, 768)})(x, sigma)
    assert torch.allclose(out, uncond_x0 + 3.0 * (cond_x0 - uncond_x0), atol=1e-4)
