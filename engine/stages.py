"""Multi-stage point sampling (base -> upsampler) as one generator of per-step records."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
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
from engine.errors import GenerationCancelled
from engine.requests import GenerationRequest
from engine.routes import StageSpec, get_preset

#: Where a stage's sampling starts (StageSpec.start).
STARTS = ("noise", "low_res")


@dataclass(frozen=True, kw_only=True)
class Stage:
    """One diffusion stage: a network, its schedule and the sampler settings it runs with."""

    name: str  # "base", "upsample"... shown to the user
    model: nn.Module  # the epsilon network (eval mode)
    schedule: NoiseSchedule  # its discrete noise schedule
    n_points: int  # points this stage denoises (upsampler: new points only)
    cond: dict[str, torch.Tensor] = field(default_factory=dict)  # conditional kwargs, batch B
    guidance: float = 3.0  # classifier-free guidance scale; 0 or 1 = none
    steps: int = 64  # Karras steps
    sigma_min: float = 1e-3
    sigma_max: float = 120.0
    s_churn: float = 0.0
    sampler: str = "heun"
    clip_denoised: bool = True
    uses_low_res: bool = False  # receives the previous stage's samples as `low_res`
    start: str = "noise"  # "noise" or "low_res" (see StageSpec.start)
    scaling: ChannelScaling = field(default_factory=ChannelScaling)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.n_points < 1:
            raise ValueError(f"n_points must be at least 1, got {self.n_points}")
        if self.start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(STARTS)}, got {self.start!r}")
        if self.start == "low_res" and not self.uses_low_res:
            raise ValueError("only an upsampling stage can start from the low-res points")


def build_stage(
    spec: StageSpec,
    request: GenerationRequest,
    *,
    route: str,
    model: nn.Module,
    n_points: int,
    cond: dict[str, torch.Tensor] | None = None,
    uses_low_res: bool = False,
) -> Stage:
    """A Stage from a route's spec. The request's explicit settings win over its preset, which
    wins over the route's official values; guidance set by the user applies to the base only."""
    tune = get_preset(request.preset).for_stage(route, spec.role)
    guidance = spec.guidance if tune.guidance is None else tune.guidance
    if spec.role == "base" and request.guidance is not None:
        guidance = request.guidance
    return Stage(
        name=spec.role,
        model=model,
        schedule=NoiseSchedule.from_name(spec.schedule),
        n_points=n_points,
        cond=dict(cond or {}),
        guidance=guidance,
        steps=request.steps or tune.steps or spec.steps,
        sigma_min=spec.sigma_min,
        sigma_max=spec.sigma_max,
        s_churn=spec.s_churn if tune.s_churn is None else tune.s_churn,
        sampler=request.sampler or tune.sampler or spec.sampler,
        uses_low_res=uses_low_res,
        start=spec.start,
    )


def build_upsample_stage(
    spec: StageSpec,
    request: GenerationRequest,
    *,
    route: str,
    model: nn.Module,
    cond: dict[str, torch.Tensor] | None = None,
) -> Stage:
    """The upsampler's Stage: it denoises the model's n_ctx new points and reads the previous
    stage's cloud as `low_res` (shared by the official and built-in routes)."""
    return build_stage(
        spec, request, route=route, model=model, n_points=model.config.n_ctx, cond=cond,
        uses_low_res=True,
    )  # fmt: skip


@dataclass(frozen=True)
class StageRecord:
    """A stage's current result in data units (low-res points first when upsampling)."""

    stage: str
    stage_index: int
    n_stages: int
    step: int  # 1-based; total_steps + 1 is the final record of the stage
    total_steps: int
    sigma: float
    samples: torch.Tensor  # (B, 6, N) data units

    @property
    def final(self) -> bool:
        return self.step > self.total_steps


def low_res_copies(low_res: torch.Tensor, n: int) -> torch.Tensor:
    """(B, 6, n) data: new point k is a copy of low-res point k mod L, so each low-res point
    is copied equally often (n = 3 L for the upsamplers: three copies each)."""
    index = torch.arange(n) % low_res.shape[2]
    return low_res[:, :, index]


def start_sample(
    noise: torch.Tensor,
    sigma_max: float,
    start: str = "noise",
    low_res: torch.Tensor | None = None,
    scaling: ChannelScaling | None = None,
) -> torch.Tensor:
    """x_T in model space from unit noise (B, 6, n): the noise at sigma_max, plus (start
    "low_res") the copies of the low-res data points it starts beside."""
    x_t = noise * sigma_max
    if start == "low_res":
        copies = low_res_copies(low_res.cpu().float(), noise.shape[2])
        x_t = x_t + (scaling or ChannelScaling()).scale(copies)
    return x_t


def _cancellable(
    denoiser: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    should_cancel: Callable[[], bool] | None,
):
    if should_cancel is None:
        return denoiser

    def checked(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        if should_cancel():
            raise GenerationCancelled()
        return denoiser(x, sigma)

    return checked


def _per_row_noise(
    generators: list[torch.Generator | None],
) -> Callable[[torch.Size], torch.Tensor]:
    """Float32 CPU noise whose row i comes from generators[i] (one seed per variation)."""
    draws = [make_noise_fn(g, torch.empty(0)) for g in generators]

    def draw(shape: torch.Size) -> torch.Tensor:
        if len(draws) == 1:
            return draws[0](shape)
        return torch.cat([d(torch.Size((1, *shape[1:]))) for d in draws])

    return draw


def _batched(v: torch.Tensor, batch: int) -> torch.Tensor:
    """Conditioning made for one prompt, repeated for `batch` variations."""
    return v.expand(batch, *v.shape[1:]) if v.shape[0] == 1 and batch > 1 else v


def sample_stages(
    stages: list[Stage],
    *,
    batch: int = 1,
    generator: torch.Generator | list[torch.Generator] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    low_res: torch.Tensor | None = None,
    on_stage: Callable[[Stage, bool], None] | None = None,
) -> Generator[StageRecord, None, torch.Tensor]:
    """Run the stages in order; yields every step of every stage; returns (B, 6, N) data.

    Random draws come from `generator` in the reference order (x_T, then one per step), so a
    generator seeded like torch.manual_seed reproduces the official PointCloudSampler. A list
    of generators gives row i its own seed, so variation i equals a single run with that seed.
    `low_res` (B, 6, N) data starts the run with a base cloud already made (re-upsampling).
    `on_stage(stage, starting)` runs before each stage and after it (low-VRAM moves models)."""
    generators = generator if isinstance(generator, list) else [generator] * 1
    if isinstance(generator, list) and len(generator) != batch:
        raise ValueError(f"{len(generator)} generators for a batch of {batch}")
    samples: torch.Tensor | None = low_res
    for si, stage in enumerate(stages):
        if on_stage is not None:
            on_stage(stage, True)
        p = next(stage.model.parameters())
        cond = {k: _batched(v, batch).to(p.device) for k, v in stage.cond.items()}
        previous = None
        if stage.uses_low_res:
            if samples is None:
                raise ValueError(f"stage {stage.name!r} needs a previous stage to upsample")
            previous = samples
            cond["low_res"] = previous.to(p.device, p.dtype)
        den = GaussianDenoiser(
            stage.model, stage.schedule, clip_denoised=stage.clip_denoised, cond=cond
        )
        denoiser = _cancellable(guided(den, stage.guidance), should_cancel)
        shape = (batch, 6, stage.n_points)
        raw = _per_row_noise(generators)
        x_t = start_sample(
            raw(torch.Size(shape)), stage.sigma_max, stage.start, previous, stage.scaling
        ).to(p.device, p.dtype)

        def draw(shape, raw=raw, p=p):
            return raw(shape).to(p.device, p.dtype)

        sigmas = karras_sigmas(stage.steps, stage.sigma_min, stage.sigma_max).to(p.device)
        sampler = sampler_by_name(stage.sampler)
        takes_churn = "s_churn" in inspect.signature(sampler).parameters
        kwargs = {"s_churn": stage.s_churn} if takes_churn else {}
        gen = sampler(denoiser, x_t, sigmas, noise=draw, **kwargs)
        while True:
            with torch.inference_mode():  # left before each yield: the consumer never runs in it
                step = next(gen, None)
                if step is None:
                    break
                out = stage.scaling.unscale(step.denoised[:batch].float()).cpu()
                if previous is not None:
                    out = torch.cat([previous.cpu().float(), out], dim=2)
            samples = out
            yield StageRecord(
                stage.name, si, len(stages), step.index + 1, step.total, step.sigma, out
            )
            if should_cancel is not None and should_cancel() and not step.final:
                raise GenerationCancelled()
        if on_stage is not None:
            on_stage(stage, False)
    if samples is None:
        raise ValueError("no stages to run")
    return samples


def samples_to_arrays(samples: torch.Tensor, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(B, 6, N) data units -> coords (N, 3) float32 and colours (N, 3) in 0..1 (clamp, round)."""
    s = samples[index].detach().cpu().float()
    coords = np.array(s[:3].T.numpy(), dtype=np.float32, copy=True)  # (N, 3), owned
    colors = np.array((s[3:6].clamp(0, 255).round() / 255.0).T.numpy(), dtype=np.float32, copy=True)
    return coords, colors
