"""Per-channel affine map between data space (xyz ~±0.5, RGB 0..255) and model space (±1)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.models.config import OFFICIAL_CHANNEL_BIASES, OFFICIAL_CHANNEL_SCALES


@dataclass(frozen=True)
class ChannelScaling:
    scales: tuple[float, ...] = OFFICIAL_CHANNEL_SCALES
    biases: tuple[float, ...] = OFFICIAL_CHANNEL_BIASES

    def _vectors(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, len(self.scales)) + (1,) * (x.ndim - 2)
        s = torch.tensor(self.scales, dtype=x.dtype, device=x.device).view(shape)
        b = torch.tensor(self.biases, dtype=x.dtype, device=x.device).view(shape)
        return s, b

    def scale(self, data: torch.Tensor) -> torch.Tensor:
        """(B, C, N) data -> model space."""
        s, b = self._vectors(data)
        return data * s + b

    def unscale(self, model_space: torch.Tensor) -> torch.Tensor:
        """(B, C, N) model space -> data; the scale is cast to the tensor dtype first."""
        s, b = self._vectors(model_space)
        return (model_space - b) / s
