"""The one-call-per-step samplers against an analytic ODE, their call counts, karras_sample."""

from __future__ import annotations

import itertools

import pytest
import torch

from engine.diffusion import (
    SAMPLERS,
    ChannelScaling,
    NoiseSchedule,
    karras_sample,
    karras_sigmas,
    make_noise_fn,
    model_evaluations,
    sampler_by_name,
)
from engine.models import build_model, config_from_official_kwargs, load_state_dict_strict

# Data ~ N(MU, S^2) per element: the exact x0 denoiser is linear in x, so the probability-flow
# ODE dx/dsigma = (x - D(x, sigma)) / sigma has a closed-form solution from any x_T.
MU, S = 0.3, 0.5
SIGMA_MIN, SIGMA_MAX = 1e-3, 80.0
DETERMINISTIC = ("heun", "dpm", "euler", "dpmpp_2m")


class GaussianX0:
    """E[x0 | x] for x = x0 + sigma * noise and x0 ~ N(MU, S^2); counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        s2 = sigma.view(-1, 1, 1).to(x.dtype) ** 2
        return MU + S**2 / (S**2 + s2) * (x - MU)


def _exact_x0(x_t: torch.Tensor) -> torch.Tensor:
    """The ODE's solution at sigma = 0: MU + (x_T - MU) * S / sqrt(S^2 + sigma_max^2)."""
    return MU + (x_t - MU) * S / (S**2 + SIGMA_MAX**2) ** 0.5


def _run(name: str, steps: int, x_t: torch.Tensor) -> tuple[list, torch.Tensor, int]:
    den = GaussianX0()
    sigmas = karras_sigmas(steps, SIGMA_MIN, SIGMA_MAX).double()
    noise = make_noise_fn(torch.Generator().manual_seed(1), x_t)
    records = []
    gen = sampler_by_name(name)(den, x_t, sigmas, noise=noise)
    while True:
        try:
            records.append(next(gen))
        except StopIteration as stop:
            return records, stop.value, den.calls


def _error(name: str, steps: int) -> float:
    x_t = torch.randn(2, 6, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x_t = x_t * SIGMA_MAX
    records, _, _ = _run(name, steps, x_t)
    return float((records[-1].x - _exact_x0(x_t)).abs().max())


def test_dpmpp_2m_beats_euler_at_the_same_calls():
    assert _error("dpmpp_2m", 10) < 0.8 * _error("euler", 10)
    assert _error("dpmpp_2m", 20) < 0.5 * _error("euler", 20)


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_error_shrinks_as_steps_grow_at_the_method_order(name):
    errors = [_error(name, n) for n in (10, 20, 40, 80)]
    assert all(b < a for a, b in itertools.pairwise(errors)), errors
    # doubling the steps halves a first-order error and quarters a second-order one
    order = 1 if name == "euler" else 2
    assert errors[-2] / errors[-1] > 0.8 * 2**order, errors


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("steps", [1, 2, 7])
def test_calls_records_and_final_index(name, steps):
    x_t = torch.randn(1, 6, 8, generator=torch.Generator().manual_seed(2)) * SIGMA_MAX
    records, result, calls = _run(name, steps, x_t.double())
    assert calls == model_evaluations(name, steps)
    assert len(records) == steps + 1
    assert [r.index for r in records] == list(range(steps + 1))
    assert records[-1].final and records[-1].index == records[-1].total == steps
    assert not any(r.final for r in records[:-1])
    assert torch.equal(records[-1].x0, result)


def test_model_evaluations_table():
    assert [model_evaluations(s, 64) for s in ("heun", "dpm", "euler", "dpmpp_2m")] == [
        127,
        128,
        64,
        64,
    ]
    assert model_evaluations("euler_ancestral", 16) == model_evaluations("ancestral", 16) == 16
    with pytest.raises(ValueError, match="unknown sampler"):
        model_evaluations("ddim", 10)
    with pytest.raises(ValueError, match="steps"):
        model_evaluations("heun", 0)


# karras_sample with the reference inputs reproduces the reference sampler files (these draw
# every random number from a generator seeded like the reference, so no replay is needed).
KARRAS_FILES = [
    "sampler_base_heun16.pt",
    "sampler_base_heun16_churn3.pt",
    "sampler_base_dpm16.pt",
    "sampler_upsample_heun16_guided.pt",
]


@pytest.mark.parametrize("filename", KARRAS_FILES)
def test_karras_sample_reproduces_reference(vectors_dir, filename):
    ref = torch.load(vectors_dir / filename, weights_only=True)
    s = ref["settings"]
    weights = torch.load(vectors_dir / s["model_file"], weights_only=True)
    model = build_model(config_from_official_kwargs(weights["config"]))
    load_state_dict_strict(model, weights["state_dict"])
    if "low_res" in ref:
        cond = {"low_res": ref["low_res"], "embeddings": weights["inputs"]["embeddings"][:1]}
    else:
        cond = {"embeddings": ref["model_kwargs"]["embeddings"][:1]}
    calls = []
    model.register_forward_hook(lambda mod, args, out: calls.append(args[1].clone()))
    gen = karras_sample(
        model,
        NoiseSchedule.from_name(s["schedule"]),
        tuple(s["shape"]),
        steps=s["steps"],
        sigma_min=s["sigma_min"],
        sigma_max=s["sigma_max"],
        s_churn=s["s_churn"],
        guidance_scale=s["guidance_scale"],
        sampler=s["sampler"],
        cond=cond,
        generator=torch.Generator().manual_seed(s["seed"]),
        clip_denoised=s["clip_denoised"],
    )
    steps = []
    while True:
        try:
            steps.append(next(gen))
        except StopIteration as stop:
            result = stop.value
            break
    assert len(calls) == ref["n_model_evals"] == model_evaluations(s["sampler"], s["steps"])
    assert torch.equal(torch.stack([t[0] for t in calls]), ref["eval_t"][:, 0])
    scaling = ChannelScaling()
    step_x0 = torch.stack([scaling.unscale(st.x0) for st in steps[:-1]])
    tol_x0 = torch.tensor([0.5, 0.5, 0.5, 127.5, 127.5, 127.5]).view(1, 1, 6, 1) * 2e-3
    assert ((step_x0 - ref["step_pred_xstart_unscaled"]).abs() <= tol_x0).all()
    data_tol = torch.tensor([1, 1, 1, 255, 255, 255]).view(1, 6, 1) * 1e-3
    assert ((scaling.unscale(result) - ref["final_pred_xstart_unscaled"]).abs() <= data_tol).all()
    assert torch.equal(steps[-1].x0, result) and steps[-1].final
    assert not torch.is_inference_mode_enabled()  # never left on between steps


def test_karras_sample_uses_given_x_t_and_checks_its_shape():
    model = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=16)
    sched = NoiseSchedule.from_name("cosine")
    kw = dict(steps=3, sigma_min=1e-3, sigma_max=120.0, sampler="dpmpp_2m")
    x_t = torch.randn(1, 6, 16) * 120.0
    first = next(karras_sample(model, sched, (1, 6, 16), x_T=x_t, **kw))
    assert torch.equal(first.x, x_t)
    with pytest.raises(ValueError, match="x_T"):
        next(karras_sample(model, sched, (1, 6, 16), x_T=x_t[:, :, :8], **kw))
    with pytest.raises(ValueError, match="unknown sampler"):
        next(karras_sample(model, sched, (1, 6, 16), **{**kw, "sampler": "nope"}))


def test_no_graph_forward_equals_the_training_forward():
    """Sampling runs the blocks in place (no graph); training must see the same numbers."""
    torch.manual_seed(0)
    model = build_model("base40M-textvec", width=32, layers=2, heads=2, n_ctx=16)
    torch.nn.init.normal_(model.output_proj.weight, std=0.3)
    x, t, emb = torch.randn(2, 6, 16), torch.tensor([3, 700]), torch.randn(2, 768)
    with torch.inference_mode():
        fast = model(x, t, embeddings=emb)
    out = model(x, t, embeddings=emb)
    out.square().sum().backward()  # the graph path still differentiates
    assert torch.equal(out.detach(), fast)
    assert model.backbone.resblocks[0].mlp.c_fc.weight.grad is not None
