"""One-call Karras sampling of one stage: denoiser, guidance, x_T, sigma ladder and sampler."""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping

import torch
from torch import nn

from engine.diffusion.denoiser import GaussianDenoiser, guided
from engine.diffusion.samplers import (
    CHURN_SAMPLERS,
    SamplerStep,
    make_noise_fn,
    sampler_by_name,
)
from engine.diffusion.schedules import NoiseSchedule, karras_sigmas

log = logging.getLogger(__name__)


def karras_sample(
    model: nn.Module,
    schedule: NoiseSchedule,
    shape: tuple[int, ...],
    *,
    steps: int,
    sigma_min: float,
    sigma_max: float,
    s_churn: float = 0.0,
    guidance_scale: float = 0.0,
    sampler: str = "heun",
    cond: Mapping[str, torch.Tensor] | None = None,
    x_T: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    clip_denoised: bool = True,
) -> Generator[SamplerStep, None, torch.Tensor]:
    """Sample one stage in model space; yields every step record (`.x0` is the prediction)
    and returns the final x0 (B, C, N).

    Random draws follow the reference order, all on the CPU from `generator`: x_T first
    (unless given), then the samplers' own draws, so a seeded generator replays Point-E's
    PointCloudSampler on any device. s_churn only reaches samplers in CHURN_SAMPLERS.
    The sampler's work runs under torch.inference_mode, which is left at every yield so
    the consumer's code never runs inside it."""
    sampler_fn = sampler_by_name(sampler)  # raises ValueError for an unknown name
    if len(shape) != 3:
        raise ValueError(f"shape must be (B, C, N), got {tuple(shape)}")
    if s_churn < 0:
        raise ValueError(f"s_churn must be >= 0, got {s_churn}")
    param = next(model.parameters())
    device, dtype = param.device, param.dtype
    sigmas = karras_sigmas(steps, sigma_min, sigma_max).to(device)  # (steps + 1,)
    if x_T is None:
        x_T = torch.randn(shape, generator=generator, dtype=torch.float32) * sigma_max
    elif tuple(x_T.shape) != tuple(shape):
        raise ValueError(f"x_T must have shape {tuple(shape)}, got {tuple(x_T.shape)}")
    x = x_T.to(device, dtype)  # (B, C, N)
    cond = {k: v.to(device) for k, v in (cond or {}).items()}
    denoiser = guided(
        GaussianDenoiser(model, schedule, clip_denoised=clip_denoised, cond=cond),
        guidance_scale,
    )
    draw_cpu = make_noise_fn(generator, torch.empty(0))

    def noise(noise_shape: torch.Size) -> torch.Tensor:
        return draw_cpu(noise_shape).to(device, dtype)

    kwargs = {}
    if sampler in CHURN_SAMPLERS:
        kwargs["s_churn"] = s_churn
    elif s_churn:
        log.debug("sampler %s has no churn; s_churn=%s ignored", sampler, s_churn)
    gen = sampler_fn(denoiser, x, sigmas, noise=noise, **kwargs)
    while True:
        with torch.inference_mode():  # entered and left around each step, never across a yield
            try:
                step = next(gen)
            except StopIteration as stop:
                return stop.value
        yield step
