"""Multi-stage point sampling (base -> upsampler) as one generator of per-step records."""

from __future__ import annotations

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
    scaling: ChannelScaling = field(default_factory=ChannelScaling)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"steps must be at least 1, got {self.steps}")
        if self.n_points < 1:
            raise ValueError(f"n_points must be at least 1, got {self.n_points}")


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


def sample_stages(
    stages: list[Stage],
    *,
    batch: int = 1,
    generator: torch.Generator | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[StageRecord, None, torch.Tensor]:
    """Run the stages in order; yields every step of every stage; returns (B, 6, N) data.

    Random draws come from `generator` in the reference order (x_T, then one per step), so a
    generator seeded like torch.manual_seed reproduces the official PointCloudSampler."""
    samples: torch.Tensor | None = None
    for si, stage in enumerate(stages):
        p = next(stage.model.parameters())
        cond = {k: v.to(p.device) for k, v in stage.cond.items()}
        low_res = None
        if stage.uses_low_res:
            if samples is None:
                raise ValueError(f"stage {stage.name!r} needs a previous stage to upsample")
            low_res = samples
            cond["low_res"] = low_res.to(p.device, p.dtype)
        den = GaussianDenoiser(
            stage.model, stage.schedule, clip_denoised=stage.clip_denoised, cond=cond
        )
        denoiser = _cancellable(guided(den, stage.guidance), should_cancel)
        shape = (batch, 6, stage.n_points)
        x_t = torch.randn(shape, generator=generator, dtype=torch.float32) * stage.sigma_max
        x_t = x_t.to(p.device, p.dtype)
        sigmas = karras_sigmas(stage.steps, stage.sigma_min, stage.sigma_max).to(p.device)
        kwargs = (
            {} if stage.sampler in ("euler_ancestral", "ancestral") else {"s_churn": stage.s_churn}
        )
        noise = make_noise_fn(generator, torch.empty(0))

        def draw(shape, noise=noise, p=p):
            return noise(shape).to(p.device, p.dtype)

        gen = sampler_by_name(stage.sampler)(denoiser, x_t, sigmas, noise=draw, **kwargs)
        with torch.no_grad():
            for step in gen:
                out = stage.scaling.unscale(step.denoised[:batch].float()).cpu()
                if low_res is not None:
                    out = torch.cat([low_res.cpu().float(), out], dim=2)
                samples = out
                yield StageRecord(
                    stage.name, si, len(stages), step.index + 1, step.total, step.sigma, out
                )
                if should_cancel is not None and should_cancel() and not step.final:
                    raise GenerationCancelled()
    if samples is None:
        raise ValueError("no stages to run")
    return samples


def samples_to_arrays(samples: torch.Tensor, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(B, 6, N) data units -> coords (N, 3) float32 and colours (N, 3) in 0..1 (clamp, round)."""
    s = samples[index].detach().cpu().float()
    coords = s[:3].T.contiguous().numpy()
    colors = (s[3:6].clamp(0, 255).round() / 255.0).T.contiguous().numpy()
    return coords.astype(np.float32), colors.astype(np.float32)
