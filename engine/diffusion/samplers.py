"""Karras-style samplers (Heun, DPM-2, Euler, DPM++(2M), Euler ancestral) as step generators."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch

from engine.diffusion.denoiser import Denoiser

SAMPLERS = ("heun", "dpm", "euler_ancestral", "euler", "dpmpp_2m")
#: Samplers that take Karras' churn arguments (s_churn, s_tmin, s_tmax, s_noise).
CHURN_SAMPLERS = frozenset({"heun", "dpm", "euler"})
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

    @property
    def x0(self) -> torch.Tensor:
        """The x0 prediction under the name every consumer reads (model space)."""
        return self.denoised


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


def sample_euler(
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
    """Karras et al. (2022) Algorithm 2 without the Heun correction: one call per step.

    With s_churn = 0 this is Algorithm 1's Euler method (the same as DDIM in this
    parameterisation); churn works as in Heun, one draw per step."""
    n = len(sigmas) - 1
    s_in = x.new_ones([x.shape[0]])
    denoised = x
    for i in range(n):
        x, sigma_hat = _churn(x, sigmas[i], n, s_churn, s_tmin, s_tmax, s_noise, noise)
        denoised = denoiser(x, sigma_hat * s_in)
        d = _to_d(x, sigma_hat, denoised)
        yield SamplerStep(i, n, float(sigmas[i]), float(sigma_hat), x, denoised)
        x = x + d * (sigmas[i + 1] - sigma_hat)
    yield SamplerStep(n, n, 0.0, 0.0, x, denoised)
    return denoised


def sample_dpmpp_2m(
    denoiser: Denoiser,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    *,
    noise: NoiseFn,
) -> SamplerGen:
    """DPM-Solver++(2M) (Lu et al. 2022, Algorithm 2): multistep 2nd order, one call per step.

    In lambda = -log(sigma) the data-prediction ODE is solved exactly for a constant x0;
    from the second step on, the previous x0 extrapolates it linearly (the 2M correction).
    The first step and the final one (to sigma = 0) are first order. `noise` is unused: the
    solver is deterministic, it takes the argument for a uniform signature."""
    n = len(sigmas) - 1
    s_in = x.new_ones([x.shape[0]])
    denoised = x
    old_denoised: torch.Tensor | None = None
    h_last: torch.Tensor | None = None
    for i in range(n):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = denoiser(x, sigma * s_in)
        yield SamplerStep(i, n, float(sigma), float(sigma), x, denoised)
        if sigma_next == 0:
            x = denoised  # the exact solution of the last interval for a constant x0
            break
        h = torch.log(sigma) - torch.log(sigma_next)  # lambda_{i+1} - lambda_i > 0
        if old_denoised is None or h_last is None:
            d_hat = denoised  # first order (DPM-Solver++(1) = DDIM)
        else:
            r = h_last / h
            d_hat = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
        x = (sigma_next / sigma) * x - torch.expm1(-h) * d_hat
        old_denoised, h_last = denoised, h
    yield SamplerStep(n, n, 0.0, 0.0, x, denoised)
    return denoised


_TABLE: dict[str, Callable[..., SamplerGen]] = {
    "heun": sample_heun,
    "dpm": sample_dpm,
    "euler_ancestral": sample_euler_ancestral,
    "euler": sample_euler,
    "dpmpp_2m": sample_dpmpp_2m,
}


def _canonical(name: str) -> str:
    name = "euler_ancestral" if name == "ancestral" else name
    if name not in _TABLE:
        raise ValueError(f"unknown sampler {name!r}; known: {', '.join(SAMPLERS)}")
    return name


def sampler_by_name(name: str) -> Callable[..., SamplerGen]:
    return _TABLE[_canonical(name)]


def model_evaluations(sampler: str, steps: int) -> int:
    """Denoiser calls for `steps` steps: what a run costs, for time estimates and presets.

    Heun's last step is Euler (2n - 1); DPM-2 takes its midpoint on every step (2n)."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    name = _canonical(sampler)
    if name == "heun":
        return 2 * steps - 1
    if name == "dpm":
        return 2 * steps
    return steps


def sample(gen: SamplerGen) -> torch.Tensor:
    """Drain a sampler generator and return its result."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
