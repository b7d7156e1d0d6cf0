"""Noise schedules: discrete beta schedules, the sigma <-> t bridge, and Karras sigma ladders."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

SCHEDULES = ("cosine", "linear")


def betas_for(name: str, timesteps: int = 1024) -> np.ndarray:
    """Point-E's beta schedules, computed in float64."""
    if name == "linear":
        scale = 1000 / timesteps
        return np.linspace(scale * 0.0001, scale * 0.02, timesteps, dtype=np.float64)
    if name == "cosine":

        def alpha_bar(s: float) -> float:
            return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

        return np.array(
            [
                min(1 - alpha_bar((i + 1) / timesteps) / alpha_bar(i / timesteps), 0.999)
                for i in range(timesteps)
            ],
            dtype=np.float64,
        )
    raise ValueError(f"unknown noise schedule {name!r}; known: {', '.join(SCHEDULES)}")


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The discrete diffusion's cumulative alphas plus the tables the sampler and trainer need."""

    name: str
    alphas_cumprod: np.ndarray  # (T,) float64, decreasing

    @classmethod
    def from_name(cls, name: str, timesteps: int = 1024) -> NoiseSchedule:
        return cls(name, np.cumprod(1.0 - betas_for(name, timesteps)))

    @property
    def timesteps(self) -> int:
        return len(self.alphas_cumprod)

    @property
    def sqrt_recip_alphas_cumprod(self) -> np.ndarray:
        return np.sqrt(1.0 / self.alphas_cumprod)

    @property
    def sqrt_recipm1_alphas_cumprod(self) -> np.ndarray:
        return np.sqrt(1.0 / self.alphas_cumprod - 1)

    def sigma_to_t_float(self, sigma: torch.Tensor) -> np.ndarray:
        """Continuous index of each sigma by linear interpolation against alphas_cumprod."""
        sig = sigma.detach().to("cpu", torch.float32).numpy()
        alpha = (1.0 / (sig**2 + 1)).astype(np.float32).astype(np.float64)
        # np.interp wants increasing x: walk the table backwards; it clamps at both ends,
        # which is exactly t=0 above alphas_cumprod[0] and t=T-1 at or below the last entry.
        idx = np.arange(self.timesteps, dtype=np.float64)
        return np.interp(alpha, self.alphas_cumprod[::-1], idx[::-1])

    def sigma_to_t(self, sigma: torch.Tensor) -> torch.Tensor:
        """The integer timestep the network sees: interpolated, then truncated (as upstream)."""
        t = self.sigma_to_t_float(sigma).astype(np.int64)
        return torch.from_numpy(t).to(sigma.device)

    def eps_to_x0_coefficients(self, t: torch.Tensor, dtype: torch.dtype = torch.float32):
        """sqrt(1/abar_t) and sqrt(1/abar_t - 1), looked up in float64, cast to `dtype`."""
        idx = t.detach().cpu().numpy()
        a = torch.from_numpy(self.sqrt_recip_alphas_cumprod[idx]).to(t.device, dtype)
        b = torch.from_numpy(self.sqrt_recipm1_alphas_cumprod[idx]).to(t.device, dtype)
        return a, b

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Forward-noise model-space data to integer step t (training)."""
        abar = torch.from_numpy(self.alphas_cumprod).to(x0.device)[t].to(x0.dtype)
        shape = (-1,) + (1,) * (x0.ndim - 1)
        return abar.sqrt().view(shape) * x0 + (1 - abar).sqrt().view(shape) * noise


def karras_sigmas(
    n: int, sigma_min: float, sigma_max: float, rho: float = 7.0, device: str = "cpu"
) -> torch.Tensor:
    """Karras et al. (2022) eq. 5 noise levels in float32, with a final 0 appended (n + 1)."""
    if n < 1:
        raise ValueError(f"steps must be at least 1, got {n}")
    if not 0 < sigma_min < sigma_max:
        raise ValueError(f"need 0 < sigma_min < sigma_max, got {sigma_min}, {sigma_max}")
    ramp = torch.linspace(0, 1, n)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros([1])]).to(device)
