"""What the app asks of the engine (GenerationRequest) and what it hears back (PipelineStep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.routes import DEFAULT_PRESET, EMBEDDED_MODEL

__all__ = ["EMBEDDED_MODEL", "GenerationRequest", "PictureOptions", "PipelineStep"]


@dataclass(frozen=True, kw_only=True)
class PictureOptions:
    """Text → picture → 3D: how the picture is drawn; None keeps the picture model's default."""

    model: str | None = None  # catalogue name, diffusers repo id or pipeline folder
    prompt_template: str | None = None  # must contain {prompt}
    negative_prompt: str | None = None  # only used by models run with guidance above 1
    steps: int | None = None  # picture denoising steps


@dataclass(frozen=True, kw_only=True)
class GenerationRequest:
    """One generation, as collected by the window or the CLI. Validated by the pipeline."""

    prompt: str = ""  # text prompt (text routes, and the picture's text)
    image: Path | None = None  # conditioning picture (picture routes)
    model: str = EMBEDDED_MODEL  # base model: "embedded", "base40M-textvec", "base40M", ...
    upsample: bool = True  # run the 1,024 -> 4,096 point upsampler stage when the route has one
    seed: int = 0  # seeds every random draw of the run
    preset: str = DEFAULT_PRESET  # "fast", "balanced", "official" (engine.routes.PRESETS)
    steps: int | None = None  # Karras steps for every stage; None = the preset's
    guidance: float | None = None  # base-stage classifier-free guidance; None = the preset's
    sampler: str | None = None  # every stage's sampler; None = the preset's
    device: str = "cpu"  # "cpu", "cuda", "mps"
    precision: str = "float32"  # "float32" or "float16" (GPU only)
    picture: PictureOptions | None = None  # set: draw a picture from the prompt first
    remove_background: bool = True  # picture routes: replace a plain background by white
    low_vram: bool = False  # GPU: CLIP and each stage's model sit on the GPU only while used
    variations: int = 1  # base stage at batch N, seeds seed .. seed + N - 1
    #: (N, 6) xyz + rgb 0..1 of a base cloud (e.g. edited): skip the base stage and upsample it
    base_cloud: np.ndarray | None = field(default=None, compare=False)


@dataclass(frozen=True, kw_only=True)
class PipelineStep:
    """One denoising step of one stage. Owns detached numpy copies: safe to hand to a thread."""

    stage: str  # "base", "upsample", "image"...
    stage_index: int  # 0-based index of the stage
    n_stages: int  # how many stages this run has
    step: int  # 1-based step inside the stage
    total_steps: int  # steps in this stage (records per stage = total_steps + 1 incl. final)
    sigma: float  # noise level of this step (0 for the final record)
    coords: np.ndarray  # (N, 3) float32, data space (low-res points first in the upsample stage)
    colors: np.ndarray  # (N, 3) float32 in [0, 1]
    elapsed: float = 0.0  # seconds since the run started
    seconds_left: float | None = None  # calibrated estimate (engine.estimate); None = unknown
    final: bool = False  # True for the last record of the stage
    notices: tuple[str, ...] = ()  # things the user should know (ignored words...), first step
    image: object | None = None  # the drawn picture (PIL), on the picture stage's last step
    prepared: object | None = None  # engine.imageprep.PreparedImage the 3D stages will see
    variations: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # (coords, colors) per seed
