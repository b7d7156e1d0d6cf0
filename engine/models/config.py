"""Frozen model configurations and the registry of the eight official Point-E variants."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# Data space -> model space per channel (x, y, z, R, G, B): xyz*2, RGB*(2/255)-1.
OFFICIAL_CHANNEL_SCALES = (2.0, 2.0, 2.0, 0.007843137255, 0.007843137255, 0.007843137255)
OFFICIAL_CHANNEL_BIASES = (0.0, 0.0, 0.0, -1.0, -1.0, -1.0)

#: Architecture names (the `arch` field) -> what they condition on.
ARCHITECTURES = (
    "PointDiffusionTransformer",  # time only
    "CLIPImagePointDiffusionTransformer",  # one CLIP vector (text or image)
    "CLIPImageGridPointDiffusionTransformer",  # CLIP ViT-L/14 patch grid
    "UpsamplePointDiffusionTransformer",  # low-res cloud, no CLIP
    "CLIPImageGridUpsamplePointDiffusionTransformer",  # low-res cloud + CLIP grid
    "CrossAttentionPointCloudSDFModel",  # point cloud -> signed distance
)


@dataclass(frozen=True, kw_only=True)
class ModelConfig:
    """Everything needed to build one Point-E network; field names follow the official kwargs."""

    arch: str  # one of ARCHITECTURES
    width: int = 512  # transformer width W
    layers: int = 12  # residual blocks in the backbone
    heads: int = 8  # attention heads (head dim = width // heads)
    n_ctx: int = 1024  # points the network denoises (upsampler: new points only)
    input_channels: int = 6  # x, y, z, R, G, B
    output_channels: int = 12  # 6 epsilon channels + 6 learned-range variance channels
    time_token_cond: bool = True  # time embedding as a prepended token (else added to points)
    token_cond: bool = True  # CLIP vector as a prepended token (else added to points)
    # built-in model only (0 in every official config): conditioning phrase vectors (B, P, D)
    # that the points attend to after every block, besides the one vector added to them
    phrase_tokens: int = 0
    cond_drop_prob: float = 0.0  # training-only probability of zeroing the conditioning
    init_scale: float = 0.25  # std multiplier of the backbone initialisation
    clip_dim: int = 768  # CLIP vector size (vector models) or grid channels (grid models)
    clip_grid_tokens: int = 256  # patches in the CLIP grid (16 x 16 for ViT-L/14 at 224 px)
    cond_ctx: int = 1024  # low-res points fed to an upsampler
    channel_scales: tuple[float, ...] = OFFICIAL_CHANNEL_SCALES  # upsampler low_res scaling
    channel_biases: tuple[float, ...] = OFFICIAL_CHANNEL_BIASES
    encoder_layers: int = 8  # SDF model: self-attention blocks over the point cloud
    decoder_layers: int = 4  # SDF model: cross-attention blocks of the queries

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ValueError(
                f"unknown architecture {self.arch!r}; known: {', '.join(ARCHITECTURES)}"
            )
        if not isinstance(self.phrase_tokens, int) or self.phrase_tokens < 0:
            raise ValueError(f"phrase_tokens must be >= 0, got {self.phrase_tokens!r}")
        for name in ("width", "layers", "heads", "n_ctx", "clip_dim", "cond_ctx"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be divisible by heads ({self.heads})")
        if not 0.0 <= self.cond_drop_prob < 1.0:
            raise ValueError(f"cond_drop_prob must be in [0, 1), got {self.cond_drop_prob}")

    @property
    def head_dim(self) -> int:
        return self.width // self.heads


_BASE = dict(width=512, layers=12, heads=8, n_ctx=1024, cond_drop_prob=0.1)
_GRID = "CLIPImageGridPointDiffusionTransformer"
_GRID_BASE = dict(_BASE, clip_dim=1024)

MODEL_CONFIGS: dict[str, ModelConfig] = {
    "base40M-imagevec": ModelConfig(arch="CLIPImagePointDiffusionTransformer", **_BASE),
    "base40M-textvec": ModelConfig(arch="CLIPImagePointDiffusionTransformer", **_BASE),
    "base40M-uncond": ModelConfig(arch="PointDiffusionTransformer", width=512, layers=12, heads=8),
    "base40M": ModelConfig(arch=_GRID, **_GRID_BASE),
    "base300M": ModelConfig(arch=_GRID, **{**_GRID_BASE, "width": 1024, "layers": 24, "heads": 16}),
    "base1B": ModelConfig(arch=_GRID, **{**_GRID_BASE, "width": 2048, "layers": 24, "heads": 32}),
    "upsample": ModelConfig(
        arch="CLIPImageGridUpsamplePointDiffusionTransformer",
        **{**_GRID_BASE, "n_ctx": 3072},
        cond_ctx=1024,
    ),
    "sdf": ModelConfig(
        arch="CrossAttentionPointCloudSDFModel",
        width=256,
        heads=4,
        layers=8,
        n_ctx=4096,
        input_channels=3,
        output_channels=1,
        encoder_layers=8,
        decoder_layers=4,
    ),
}

MODEL_NAMES: tuple[str, ...] = tuple(MODEL_CONFIGS)


def get_config(name: str, **overrides: object) -> ModelConfig:
    """The official config called `name`, with keyword overrides (e.g. a reduced size for tests)."""
    if name not in MODEL_CONFIGS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}")
    fields = {f.name for f in dataclasses.fields(ModelConfig)}
    bad = sorted(set(overrides) - fields)
    if bad:
        raise TypeError(f"unknown config field(s) {bad}; valid fields: {sorted(fields)}")
    return dataclasses.replace(MODEL_CONFIGS[name], **overrides)
