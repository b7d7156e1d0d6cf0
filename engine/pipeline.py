"""From a GenerationRequest to a PointCloud: picks models, builds the stages, streams steps."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import torch

from engine.diffusion import NoiseSchedule
from engine.errors import ModelNotInstalled, UserInputError
from engine.pointcloud import PointCloud
from engine.requests import EMBEDDED_MODEL, GenerationRequest, PipelineStep
from engine.stages import Stage, StageRecord, sample_stages, samples_to_arrays

log = logging.getLogger(__name__)

#: Prompts are cut here before any tokenizer sees them (CLIP itself keeps 77 tokens).
MAX_PROMPT_CHARS = 1000
#: Test/diagnostic model: tiny, randomly initialised, real sampling; needs no weights.
TINY_RANDOM_MODEL = "tiny-random"

TEXT_MODELS = ("base40M-textvec",)
IMAGE_MODELS = ("base40M", "base300M", "base1B", "base40M-imagevec")
UNCOND_MODELS = ("base40M-uncond",)


@dataclass(frozen=True, kw_only=True)
class StageDefaults:
    """The official notebooks' settings for one stage."""

    guidance: float
    steps: int = 64
    sigma_min: float = 1e-3
    sigma_max: float = 120.0
    s_churn: float = 0.0


# text2pointcloud: guided base (3.0, churn 3), unconditioned and unguided upsampler
TEXT_BASE = StageDefaults(guidance=3.0, s_churn=3.0)
TEXT_UPSAMPLE = StageDefaults(guidance=0.0, sigma_max=160.0)
# image2pointcloud: both stages see the image and are guided
IMAGE_BASE = StageDefaults(guidance=3.0, s_churn=3.0)
IMAGE_UPSAMPLE = StageDefaults(guidance=3.0, sigma_max=160.0)


def check_request(request: GenerationRequest) -> GenerationRequest:
    """Validate before any heavy work; returns the request with a tidied prompt."""
    from dataclasses import replace

    known = (EMBEDDED_MODEL, TINY_RANDOM_MODEL, *TEXT_MODELS, *IMAGE_MODELS, *UNCOND_MODELS)
    if request.model not in known:
        raise UserInputError(f"Unknown model {request.model!r}. Known models: {', '.join(known)}.")
    prompt = " ".join((request.prompt or "").split())
    text_models = (EMBEDDED_MODEL, TINY_RANDOM_MODEL, *TEXT_MODELS)
    needs_text = request.model in text_models or bool(request.extra.get("via_image"))
    if needs_text and not prompt:
        raise UserInputError("Type a prompt first, for example “a red cube”.")
    if len(prompt) > MAX_PROMPT_CHARS:
        log.warning("prompt of %d characters cut to %d", len(prompt), MAX_PROMPT_CHARS)
        prompt = prompt[:MAX_PROMPT_CHARS]
    via_image = bool(request.extra.get("via_image"))
    if via_image and request.model not in IMAGE_MODELS:
        raise UserInputError(
            f"Text → image → 3D needs a picture model ({', '.join(IMAGE_MODELS)}),"
            f" not {request.model}."
        )
    if request.model in IMAGE_MODELS and request.image is None and not via_image:
        raise UserInputError(f"{request.model} turns a picture into 3D: choose a picture first.")
    if request.steps is not None and not 1 <= request.steps <= 1000:
        raise UserInputError(f"Steps must be between 1 and 1000, got {request.steps}.")
    if request.guidance is not None and not 0 <= request.guidance <= 50:
        raise UserInputError(f"Guidance must be between 0 and 50, got {request.guidance}.")
    if request.sampler not in ("heun", "dpm", "euler_ancestral"):
        raise UserInputError(
            f"Unknown sampler {request.sampler!r}: use heun, dpm or euler_ancestral."
        )
    if request.precision not in ("float32", "float16"):
        raise UserInputError(f"Unknown precision {request.precision!r}: use float32 or float16.")
    _check_device(request.device)
    return replace(request, prompt=prompt)


def _check_device(device: str) -> None:
    if device == "cpu":
        return
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserInputError("CUDA was chosen but no NVIDIA GPU is available; use CPU.")
        return
    if device == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise UserInputError("Apple GPU (MPS) was chosen but is not available; use CPU.")
        return
    raise UserInputError(f"Unknown device {device!r}: use cpu, cuda or mps.")


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        devices.append("mps")
    return devices


def _dtype(request: GenerationRequest) -> torch.dtype:
    return (
        torch.float16
        if request.precision == "float16" and request.device != "cpu"
        else (torch.float32)
    )


def _stage(defaults: StageDefaults, request: GenerationRequest, *, first: bool, **kw) -> Stage:
    """A Stage with the official defaults, overridden by the request where it says so."""
    guidance = defaults.guidance
    if first and request.guidance is not None:
        guidance = request.guidance
    return Stage(
        guidance=guidance,
        steps=request.steps or defaults.steps,
        sigma_min=defaults.sigma_min,
        sigma_max=defaults.sigma_max,
        s_churn=defaults.s_churn,
        sampler=request.sampler,
        **kw,
    )


def plan_stages(
    request: GenerationRequest, *, store=None, image=None
) -> tuple[list[Stage], list[str]]:
    """Load what the request needs and build its stages; returns (stages, notices for the user).

    `image` (PIL) replaces request.image, e.g. the picture the text-to-image stage just drew."""
    if request.model == EMBEDDED_MODEL:
        from engine.embedded_stage import embedded_stages

        return embedded_stages(request)
    if request.model == TINY_RANDOM_MODEL:
        return _tiny_random_stages(request), []
    from engine.official_stages import official_stages

    return official_stages(request, store=store, image=image)


def _tiny_random_stages(request: GenerationRequest) -> list[Stage]:
    """Two tiny untrained networks (1,024 + 3,072 points): exercises every path in seconds."""
    from engine.models import build_model

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        base = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=256)
        up = build_model(
            "upsample",
            width=32,
            layers=1,
            heads=2,
            n_ctx=768,
            cond_ctx=256,
            clip_dim=16,
            clip_grid_tokens=4,
        )
        for m in (base, up):
            torch.nn.init.normal_(m.output_proj.weight, std=0.3)
        emb = torch.nn.functional.normalize(torch.randn(1, 768), dim=-1)
    stages = [
        _stage(
            TEXT_BASE,
            request,
            first=True,
            name="base",
            model=base,
            schedule=NoiseSchedule.from_name("cosine"),
            n_points=256,
            cond={"embeddings": emb},
        ),
    ]
    if request.upsample:
        stages.append(
            _stage(
                TEXT_UPSAMPLE,
                request,
                first=False,
                name="upsample",
                model=up,
                schedule=NoiseSchedule.from_name("linear"),
                n_points=768,
                uses_low_res=True,
            )
        )
    return stages


def run(
    request: GenerationRequest,
    *,
    should_cancel: Callable[[], bool] | None = None,
    store=None,
) -> Generator[PipelineStep, None, PointCloud]:
    """Generate a coloured point cloud, yielding a detached preview of every denoising step.

    Raises GenerationCancelled between two model calls once should_cancel() is true,
    UserInputError / ModelNotInstalled / CheckpointError with a message for the user."""
    request = check_request(request)
    started = time.monotonic()
    image = None
    if request.extra.get("via_image"):
        from engine.via_image import draw_picture

        image = yield from draw_picture(request, store=store, should_cancel=should_cancel)
    stages, notices = plan_stages(request, store=store, image=image)
    dtype = _dtype(request)
    for stage in stages:
        stage.model.to(device=request.device, dtype=dtype)
    generator = torch.Generator().manual_seed(int(request.seed) % (2**63))
    records = sample_stages(stages, generator=generator, should_cancel=should_cancel)
    first = True
    offset = 1 if image is not None else 0  # the picture stage came first
    while True:
        try:
            rec: StageRecord = next(records)
        except StopIteration as stop:
            samples = stop.value
            break
        coords, colors = samples_to_arrays(rec.samples)
        yield PipelineStep(
            stage=rec.stage,
            stage_index=rec.stage_index + offset,
            n_stages=rec.n_stages + offset,
            step=min(rec.step, rec.total_steps),
            total_steps=rec.total_steps,
            sigma=rec.sigma,
            coords=coords,
            colors=colors,
            final=rec.final,
            notices=tuple(notices) if first else (),
        )
        first = False
    coords, colors = samples_to_arrays(samples)
    meta = {
        "prompt": request.prompt,
        "seed": request.seed,
        "model": request.model,
        "steps": [s.steps for s in stages],
        "guidance": [s.guidance for s in stages],
        "sampler": request.sampler,
        "device": request.device,
        "seconds": round(time.monotonic() - started, 2),
    }
    if request.image is not None:
        meta["image"] = str(request.image)
    return PointCloud(coords, colors, meta)


def generate(request: GenerationRequest, **kw) -> PointCloud:
    """Run to the end without previews (CLI, benchmarks)."""
    gen = run(request, **kw)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


__all__ = [
    "MAX_PROMPT_CHARS",
    "TINY_RANDOM_MODEL",
    "ModelNotInstalled",
    "available_devices",
    "check_request",
    "generate",
    "plan_stages",
    "run",
]
