"""`build(name, **overrides)`: a Point-E network with the official key layout, for scripts."""

from __future__ import annotations

import torch
from torch import nn

from engine.models import build_model


def build(
    name: str,
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    **overrides: object,
) -> nn.Module:
    """The network called `name` ("base40M-textvec", "upsample", "sdf", ...) in eval mode.

    Its state_dict keys match the official checkpoints, so `load_state_dict` takes OpenAI's
    files. The SDF model's heads may also be given under their official names
    `encoder_heads`/`decoder_heads` (they must be equal: the network has one head count)."""
    enc, dec = overrides.pop("encoder_heads", None), overrides.pop("decoder_heads", None)
    if enc is not None or dec is not None:
        if name != "sdf":
            raise TypeError(f"encoder_heads/decoder_heads apply to the sdf model, not {name!r}")
        if enc is not None and dec is not None and enc != dec:
            raise ValueError(f"encoder_heads ({enc}) and decoder_heads ({dec}) must be equal")
        overrides["heads"] = enc if enc is not None else dec
    return build_model(name, device=device, dtype=dtype, **overrides)
