"""Text -> picture stage (diffusers) for the text -> picture -> 3D route; default SD-Turbo."""

from __future__ import annotations

from engine.text2image.catalog import DEFAULT_NAME, TEXT2IMAGE_DEFAULT
from engine.text2image.generator import (
    DEFAULT_NEGATIVE_PROMPT,
    DEFAULT_PROMPT_TEMPLATE,
    ImageStep,
    TextToImage,
    TextToImageSettings,
    build_prompt,
)
from engine.text2image.models import is_installed, missing_parts, resolve_model

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_NEGATIVE_PROMPT",
    "DEFAULT_PROMPT_TEMPLATE",
    "TEXT2IMAGE_DEFAULT",
    "ImageStep",
    "TextToImage",
    "TextToImageSettings",
    "build_prompt",
    "is_installed",
    "missing_parts",
    "resolve_model",
]
