"""Turning Point-E's discrete epsilon network into a denoiser D(x, sigma) -> x0, plus guidance."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn

from engine.diffusion.schedules import NoiseSchedule

#: A denoiser maps a noisy model-space batch and per-row sigmas (B,) to an x0 prediction.
Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class GaussianDenoiser:
    """The Gaussian-to-Karras bridge: c_in from the exact sigma, x0 coefficients of integer t."""

    def __init__(
        self,
        model: nn.Module,
        schedule: NoiseSchedule,
        *,
        clip_denoised: bool = True,
        cond: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        self.model = model
        self.schedule = schedule
        self.clip_denoised = clip_denoised
        self.cond = dict(cond or {})

    def with_cond(self, cond: Mapping[str, torch.Tensor]) -> GaussianDenoiser:
        return GaussianDenoiser(
            self.model, self.schedule, clip_denoised=self.clip_denoised, cond=cond
        )

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        t = self.schedule.sigma_to_t(sigma)  # (B,) int64
        c_in = (1.0 / (sigma**2 + 1) ** 0.5).view(-1, *([1] * (x.ndim - 1)))
        x_in = x * c_in  # (B, C, N)
        eps = self.model(x_in, t, **self.cond)[:, : x.shape[1]]
        a, b = self.schedule.eps_to_x0_coefficients(t, x.dtype)
        shape = (-1,) + (1,) * (x.ndim - 1)
        x0 = a.view(shape) * x_in - b.view(shape) * eps.to(x.dtype)
        return x0.clamp(-1, 1) if self.clip_denoised else x0


def zeros_like_cond(cond: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The unconditional branch: every conditioning tensor zeroed (low_res included)."""
    return {k: torch.zeros_like(v) for k, v in cond.items()}


def guided(denoiser: GaussianDenoiser, scale: float) -> Denoiser:
    """Classifier-free guidance around a conditional denoiser.

    The conditioning batch is doubled here and only here ([cond; zeros]); the two halves of the
    already clamped x0 are mixed as uncond + s * (cond - uncond) and not clamped again.
    A scale of 0 or 1 needs no unconditional branch and returns the denoiser itself."""
    if scale in (0.0, 1.0):
        return denoiser
    doubled = denoiser.with_cond(
        {
            k: torch.cat([v, z])
            for (k, v), z in zip(
                denoiser.cond.items(), zeros_like_cond(denoiser.cond).values(), strict=True
            )
        }
    )

    def guided_denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        x0 = doubled(torch.cat([x, x]), torch.cat([sigma, sigma]))
        cond_x0, uncond_x0 = x0.chunk(2)
        return uncond_x0 + scale * (cond_x0 - uncond_x0)

    return guided_denoiser
