"""What the app asks of the engine (GenerationRequest) and what it hears back (PipelineStep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Model name that selects the small text-to-3D model shipped inside the app.
EMBEDDED_MODEL = "embedded"


@dataclass(frozen=True, kw_only=True)
class GenerationRequest:
    """One generation, as collected by the window or the CLI. Validated by the pipeline."""

    prompt: str = ""  # text prompt (text modes)
    image: Path | None = None  # conditioning picture (image mode, or the text->image result)
    model: str = EMBEDDED_MODEL  # base model: "embedded", "base40M-textvec", "base40M", ...
    upsample: bool = True  # run the 1,024 -> 4,096 point upsampler stage when available
    seed: int = 0  # seeds every random draw of the run
    steps: int | None = None  # Karras steps per stage; None = the model's default
    guidance: float | None = None  # base-stage classifier-free guidance; None = default
    sampler: str = "heun"  # "heun", "dpm" or "euler_ancestral"
    device: str = "cpu"  # "cpu", "cuda", "mps"
    precision: str = "float32"  # "float32" or "float16" (GPU only)
    # stage-specific knobs: via_image (bool), image_model, prompt_template, negative_prompt,
    # image_steps, remove_background (bool)
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PipelineStep:
    """One denoising step of one stage, with a detached preview of the current x0 prediction."""

    stage: str  # "base", "upsample", "image"...
    stage_index: int  # 0-based index of the stage
    n_stages: int  # how many stages this run has
    step: int  # 1-based step inside the stage
    total_steps: int  # steps in this stage (records per stage = total_steps + 1 incl. final)
    sigma: float  # noise level of this step (0 for the final record)
    coords: np.ndarray  # (N, 3) float32, data space (low-res points first in the upsample stage)
    colors: np.ndarray  # (N, 3) float32 in [0, 1]
    final: bool = False  # True for the last record of the stage
    notices: tuple[str, ...] = ()  # things the user should know (ignored words...), first step
    image: object | None = None  # the picture the 3D stages will see (PIL), once it exists
