"""One registry of routes and presets (plain data, no torch): window, CLI and pipeline read it."""

from engine.routes.presets import DEFAULT_PRESET, PRESETS, get_preset
from engine.routes.registry import (
    CLIP_MODEL,
    EMBEDDED_MODEL,
    GRID_MODELS,
    ROUTES,
    known_models,
    register_route,
    route_for,
)
from engine.routes.spec import SAMPLER_LABELS, Preset, RouteSpec, StageSpec, StageTuning

__all__ = [
    "CLIP_MODEL",
    "DEFAULT_PRESET",
    "EMBEDDED_MODEL",
    "GRID_MODELS",
    "PRESETS",
    "ROUTES",
    "SAMPLER_LABELS",
    "Preset",
    "RouteSpec",
    "StageSpec",
    "StageTuning",
    "get_preset",
    "known_models",
    "register_route",
    "route_for",
]
