"""The route registry's data types: routes, their stages and the speed presets (no torch)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Samplers by name, with the label the window shows (engine.diffusion implements each).
SAMPLER_LABELS: dict[str, str] = {
    "heun": "Heun (official)",
    "dpmpp_2m": "DPM-Solver++(2M) (fast)",
    "euler": "Euler",
    "dpm": "DPM-Solver-2",
    "euler_ancestral": "Euler ancestral",
}


#: Models inside the app (resources/models): never downloaded, so never "required".
SHIPPED_MODELS = frozenset({"embedded", "embedded-upsampler"})


@dataclass(frozen=True, kw_only=True)
class StageSpec:
    """One diffusion stage of a route, with the official notebooks' settings as defaults."""

    role: str  # "base" (makes the first points) or "upsample" (adds points to the base)
    schedule: str = "cosine"  # discrete noise schedule the network was trained with
    guidance: float = 3.0  # classifier-free guidance scale; 0 or 1 = none
    steps: int = 64  # Karras sigma levels
    sigma_min: float = 1e-3
    sigma_max: float = 120.0
    s_churn: float = 0.0  # Heun churn (stochasticity); 0 = deterministic from x_T
    sampler: str = "heun"  # a key of SAMPLER_LABELS
    conditioned: bool = True  # whether this stage sees the route's conditioning
    # where sampling starts: "noise" (pure noise at sigma_max, Point-E's way) or "low_res"
    # (an upsampler only: each new point a copy of a low-res point, plus noise at sigma_max)
    start: str = "noise"


@dataclass(frozen=True, kw_only=True)
class RouteSpec:
    """A way from the user's input to a point cloud: models, conditioning and stages, as data."""

    name: str  # registry key
    label: str  # user-facing name
    description: str  # one or two sentences for the window and `--help`
    inputs: str  # "text", "image" or "none"
    conditioning: str  # "builtin-text", "clip-text", "clip-image-vector", "clip-image-grid", ""
    base_models: tuple[str, ...]  # base models this route runs (first = default)
    needs: tuple[str, ...] = ()  # other catalogue entries needed, in download order
    upsampler: str | None = None  # catalogue name of the 1,024 -> 4,096 stage, if any
    stages: tuple[StageSpec, ...] = ()  # base first, then the upsampler's stage
    builder: str = ""  # "module:function" that loads the models and builds the engine's Stages
    draws_picture: bool = False  # text -> picture first (the text-to-image model), then 3D

    def stage(self, role: str) -> StageSpec | None:
        return next((s for s in self.stages if s.role == role), None)

    def required_models(
        self, model: str | None = None, *, upsample: bool = True, picture_model: str | None = None
    ) -> list[str]:
        """Every model a run needs, in download order (picture model, CLIP, base, upsampler)."""
        names = [picture_model] if self.draws_picture and picture_model else []
        names += list(self.needs)
        names.append(model or self.base_models[0])
        if upsample and self.upsampler:
            names.append(self.upsampler)
        return [n for n in names if n not in SHIPPED_MODELS]


@dataclass(frozen=True, kw_only=True)
class StageTuning:
    """A preset's changes to one stage; None keeps the route's (official) value."""

    steps: int | None = None
    sampler: str | None = None
    s_churn: float | None = None
    guidance: float | None = None


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A speed/quality trade-off: per route (or "*" for any) and stage role, what changes."""

    name: str  # "fast", "balanced", "official"
    label: str
    description: str
    tuning: Mapping[str, Mapping[str, StageTuning]] = field(default_factory=dict)

    def for_stage(self, route: str, role: str) -> StageTuning:
        per_route = self.tuning.get(route) or self.tuning.get("*") or {}
        return per_route.get(role, StageTuning())
