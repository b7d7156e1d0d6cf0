"""Karras-style samplers (Heun, DPM-2, Euler ancestral) as generators of frozen step records."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch

from engine.diffusion.denoiser import Denoiser

SAMPLERS = ("heun", "dpm", "euler_ancestral")
#: Draws standard-normal noise of a shape; replaces the generator when replaying recorded noise.
NoiseFn = Callable[[torch.Size], torch.Tensor]


@dataclass(frozen=True)
class SamplerStep:
    """One yielded step: the state after churn and the denoiser's x0 prediction (model space)."""

    index: int  # 0-based step; == total for the final record
    total: int  # number of steps n
    sigma: float  # sigma_i (0.0 in the final record)
    sigma_hat: float  # sigma after churn (0.0 in the final record)
    x: torch.Tensor  # (B, C, N) sampler state
    denoised: torch.Tensor  # (B, C, N) x0 prediction: what a live preview shows

    @property
    def final(self) -> bool:
        return self.index == self.total


SamplerGen = Generator[SamplerStep, None, torch.Tensor]


def make_noise_fn(generator: torch.Generator | None, like: torch.Tensor) -> NoiseFn:
    def draw(shape: torch.Size) -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=like.dtype, device=like.device)

    return draw


def _to_d(x: torch.Tensor, sigma: torch.Tensor, denoised: torch.Tensor) -> torch.Tensor:
    return (x - denoised) / sigma  # Karras ODE derivative dx/dsigma


def _churn(
    x: torch.Tensor,
    sigma: torch.Tensor,
    n: int,
    s_churn: float,
    s_tmin: float,
    s_tmax: float,
    s_noise: float,
    noise: NoiseFn,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 2 lines 4-6: one draw every step (even unused), raise sigma, add fresh noise."""
    gamma = min(s_churn / n, math.sqrt(2) - 1) if s_tmin <= sigma <= s_tmax else 0.0
    eps = noise(x.shape) * s_noise
    sigma_hat = sigma * (gamma + 1)
    if gamma > 0:
        x = x + eps * (sigma_hat**2 - sigma**2) ** 0.5
    return x, sigma_hat


def sample_heun(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    noise: NoiseFn,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
) -> SamplerGen:
    """Karras et al. (2022) Algorithm 2: Heun's 2nd order method with stochastic churn."""
    n = len(sigmas) - 1
    s_in = x.new_ones([x.shape[0]])
    denoised = x
    for i in range(n):
        x, sigma_hat = _churn(x, sigmas[i], n, s_churn, s_tmin, s_tmax, s_noise, noise)
        denoised = denoiser(x, sigma_hat * s_in)
        d = _to_d(x, sigma_hat, denoised)
        yield SamplerStep(i, n, float(sigmas[i]), float(sigma_hat), x, denoised)
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            x = x + d * dt  # Euler step to sigma = 0
        else:
            x_2 = x + d * dt
            denoised_2 = denoiser(x_2, sigmas[i + 1] * s_in)
            d_2 = _to_d(x_2, sigmas[i + 1], denoised_2)
            x = x + (d + d_2) / 2 * dt
    yield SamplerStep(n, n, 0.0, 0.0, x, denoised)
    return denoised


def sample_dpm(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    noise: NoiseFn,
    s_churn: float = 0.0,
    s_tmin: float = 0.0,
    s_tmax: float = float("inf"),
    s_noise: float = 1.0,
) -> SamplerGen:
    """DPM-Solver-2-like: a midpoint at the mean of sigma^(1/3), two calls every step."""
    n = len(sigmas) - 1
    s_in = x.new_ones([x.shape[0]])
    denoised = x
    for i in range(n):
        x, sigma_hat = _churn(x, sigmas[i], n, s_churn, s_tmin, s_tmax, s_noise, noise)
        denoised = denoiser(x, sigma_hat * s_in)
        d = _to_d(x, sigma_hat, denoised)
        yield SamplerStep(i, n, float(sigmas[i]), float(sigma_hat), x, denoised)
        sigma_mid = ((sigma_hat ** (1 / 3) + sigmas[i + 1] ** (1 / 3)) / 2) ** 3
        x_2 = x + d * (sigma_mid - sigma_hat)
        denoised_2 = denoiser(x_2, sigma_mid * s_in)
        d_2 = _to_d(x_2, sigma_mid, denoised_2)
        x = x + d_2 * (sigmas[i + 1] - sigma_hat)
    yield SamplerStep(n, n, 0.0, 0.0, x, denoised)
    return denoised


def sample_euler_ancestral(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    noise: NoiseFn,
) -> SamplerGen:
    """Euler ancestral: a deterministic step down to sigma_down, then fresh noise of sigma_up."""
    n = len(sigmas) - 1
    s_in = x.new_ones([x.shape[0]])
    for i in range(n):
        denoised = denoiser(x, sigmas[i] * s_in)
        sigma_from, sigma_to = sigmas[i], sigmas[i + 1]
        sigma_up = (sigma_to**2 * (sigma_from**2 - sigma_to**2) / sigma_from**2) ** 0.5
        sigma_down = (sigma_to**2 - sigma_up**2) ** 0.5
        yield SamplerStep(i, n, float(sigmas[i]), float(sigmas[i]), x, denoised)
        x = x + _to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        x = x + noise(x.shape) * sigma_up
    yield SamplerStep(n, n, 0.0, 0.0, x, x)
    return x


def sampler_by_name(name: str) -> Callable[..., SamplerGen]:
    table = {"heun": sample_heun, "dpm": sample_dpm, "euler_ancestral": sample_euler_ancestral}
    if name == "ancestral":
        name = "euler_ancestral"
    if name not in table:
        raise ValueError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")
    return table[name]


def sample(gen: SamplerGen) -> torch.Tensor:
    """Drain a sampler generator and return its result."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
