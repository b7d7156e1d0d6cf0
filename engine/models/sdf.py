"""Point-E's SDF model: encode a point cloud once, then query signed distances anywhere."""

from __future__ import annotations

import torch
from torch import nn

from engine.models.config import ModelConfig
from engine.models.layers import CrossResidualBlock, Transformer
from engine.models.transformer import check_shape


class _Decoder(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.resblocks = nn.ModuleList(
            CrossResidualBlock(config.width, config.heads, config.init_scale)
            for _ in range(config.decoder_layers)
        )


class CrossAttentionPointCloudSDFModel(nn.Module):
    """Self-attention encoder over the cloud (no norms, no positions), cross-attention decoder."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        w = config.width
        self.encoder_input_proj = nn.Linear(3, w)
        self.encoder = Transformer(w, config.encoder_layers, config.heads, config.init_scale)
        self.decoder_input_proj = nn.Linear(3, w)
        self.decoder = _Decoder(config)
        self.ln_post = nn.LayerNorm(w)
        self.output_proj = nn.Linear(w, 1)

    def encode_point_clouds(self, point_clouds: torch.Tensor) -> torch.Tensor:
        """(B, 3, N) xyz -> latents (B, N, W); done once per mesh."""
        check_shape("point_clouds", point_clouds, (None, 3, None))
        h = self.encoder_input_proj(point_clouds.permute(0, 2, 1).to(self.ln_post.weight.dtype))
        return self.encoder(h)

    def predict_sdf(self, x: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
        """(B, 3, M) query points + latents -> (B, M) signed distances (positive inside)."""
        check_shape("x", x, (encoded.shape[0], 3, None))
        h = self.decoder_input_proj(x.permute(0, 2, 1).to(self.ln_post.weight.dtype))
        for block in self.decoder.resblocks:
            h = block(h, encoded)
        return self.output_proj(self.ln_post(h))[..., 0]

    def forward(self, x: torch.Tensor, point_clouds: torch.Tensor) -> torch.Tensor:
        return self.predict_sdf(x, self.encode_point_clouds(point_clouds))
