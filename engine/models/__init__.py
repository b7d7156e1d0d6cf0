"""Point-E networks by name: `build_model("base40M-textvec")`, with strict state-dict checks."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from engine.models.config import MODEL_CONFIGS, MODEL_NAMES, ModelConfig, get_config
from engine.models.sdf import CrossAttentionPointCloudSDFModel
from engine.models.transformer import (
    CLIPImageGridPointDiffusionTransformer,
    CLIPImageGridUpsamplePointDiffusionTransformer,
    CLIPImagePointDiffusionTransformer,
    PointDiffusionTransformer,
    UpsamplePointDiffusionTransformer,
)

__all__ = [
    "MODEL_CONFIGS",
    "MODEL_NAMES",
    "ModelConfig",
    "StateDictMismatch",
    "build_model",
    "check_state_dict",
    "describe_mismatch",
    "expected_shapes",
    "get_config",
]

_CLASSES: dict[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (
        PointDiffusionTransformer,
        CLIPImagePointDiffusionTransformer,
        CLIPImageGridPointDiffusionTransformer,
        UpsamplePointDiffusionTransformer,
        CLIPImageGridUpsamplePointDiffusionTransformer,
        CrossAttentionPointCloudSDFModel,
    )
}


class StateDictMismatch(ValueError):
    """A state dict does not fit the model: names the first few offending keys."""


def build_model(
    name_or_config: str | ModelConfig,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **overrides: object,
) -> nn.Module:
    """Build a network by official name (with overrides) or from a config, in eval mode.

    device="meta" builds without allocating memory (for key/shape checks of the 1B model)."""
    if isinstance(name_or_config, ModelConfig):
        config = get_config_from(name_or_config, **overrides)
    else:
        config = get_config(name_or_config, **overrides)
    with torch.device(device):
        model = _CLASSES[config.arch](config)
    return model.to(dtype=dtype).eval()


def get_config_from(config: ModelConfig, **overrides: object) -> ModelConfig:
    import dataclasses

    return dataclasses.replace(config, **overrides) if overrides else config


def expected_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def describe_mismatch(want: Mapping[str, tuple], have: Mapping[str, tuple]) -> str:
    """'' when the two key->shape layouts agree, else the first few missing/extra/mis-shaped."""
    missing = [k for k in want if k not in have]
    extra = [k for k in have if k not in want]
    shaped = [
        f"{k} {list(have[k])} (expected {list(want[k])})"
        for k in want
        if k in have and tuple(have[k]) != tuple(want[k])
    ]
    parts = []
    for label, items in (("missing", missing), ("unexpected", extra), ("wrong shape", shaped)):
        if items:
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            parts.append(f"{len(items)} {label}: {', '.join(items[:3])}{more}")
    return "; ".join(parts)


def check_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Raise StateDictMismatch naming missing, unexpected and mis-shaped keys (first few each)."""
    problem = describe_mismatch(
        expected_shapes(model), {k: tuple(v.shape) for k, v in state_dict.items()}
    )
    if problem:
        raise StateDictMismatch("state dict does not fit the model: " + problem)


def load_state_dict_strict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Check structure with a readable message first, then load with strict=True."""
    check_state_dict(model, state_dict)
    model.load_state_dict(state_dict, strict=True)
    return model


_GRID_ARCHS = (
    "CLIPImageGridPointDiffusionTransformer",
    "CLIPImageGridUpsamplePointDiffusionTransformer",
)


def config_from_official_kwargs(kwargs: Mapping[str, object]) -> ModelConfig:
    """Translate the reference code's constructor kwargs (with `name` = class) to a ModelConfig."""
    kw = dict(kwargs)
    arch = str(kw.pop("name"))
    for ignored in ("device", "dtype", "clip_name", "cache_dir", "frozen_clip"):
        kw.pop(ignored, None)
    if arch == "CrossAttentionPointCloudSDFModel":
        enc, dec = kw.pop("encoder_heads", 4), kw.pop("decoder_heads", 4)
        if enc != dec:
            raise ValueError(f"different encoder/decoder heads ({enc}/{dec}) are not supported")
        kw.update(heads=enc, input_channels=3, output_channels=1)
    if "channel_scales" in kw:
        kw["channel_scales"] = tuple(float(v) for v in kw["channel_scales"])  # type: ignore[union-attr]
        kw["channel_biases"] = tuple(float(v) for v in kw["channel_biases"])  # type: ignore[union-attr]
    if arch in _GRID_ARCHS:
        kw.setdefault("clip_dim", 1024)
    return ModelConfig(arch=arch, **kw)  # type: ignore[arg-type]
