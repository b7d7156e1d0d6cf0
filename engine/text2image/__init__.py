"""Text -> picture stage (diffusers) for the text -> picture -> 3D route; default SD-Turbo."""

from __future__ import annotations

import importlib
from typing import Any

# Names are resolved on first use so that reading the model catalogue (which imports
# engine.text2image.catalog) does not import torch.
_EXPORTS = {
    "DEFAULT_NAME": "catalog",
    "TEXT2IMAGE_DEFAULT": "catalog",
    "DEFAULT_NEGATIVE_PROMPT": "generator",
    "DEFAULT_PROMPT_TEMPLATE": "generator",
    "ImageStep": "generator",
    "TextToImage": "generator",
    "TextToImageSettings": "generator",
    "build_prompt": "generator",
    "is_installed": "models",
    "missing_parts": "models",
    "resolve_model": "models",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"engine.text2image.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'engine.text2image' has no attribute {name!r}")
