"""Text -> picture with any diffusers text-to-image pipeline, as a cancellable step generator."""

from __future__ import annotations

import inspect
import logging
import queue
import threading
import time
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from engine.errors import (
    EMPTY_PROMPT_MESSAGE,
    GenerationCancelled,
    ModelNotInstalled,
    StudioError,
    UserInputError,
)
from engine.text2image.catalog import (
    DEFAULT_NEGATIVE_PROMPT,
    DEFAULT_PROMPT_TEMPLATE,
    TEXT2IMAGE_DEFAULT,
)
from engine.text2image.models import catalogue_name, missing_parts, resolve_model

log = logging.getLogger(__name__)

#: Steps and guidance for models other than the default, when the caller gives none.
GENERIC_STEPS = 25
GENERIC_GUIDANCE = 7.5


@dataclass(frozen=True, kw_only=True)
class TextToImageSettings:
    """How pictures are made; visible and editable in the app."""

    model: str = TEXT2IMAGE_DEFAULT["name"]  # catalogue name, diffusers repo id or local folder
    prompt_template: str = DEFAULT_PROMPT_TEMPLATE  # "{prompt}" is replaced by the user's text
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT  # only used when guidance > 1
    steps: int | None = None  # None: the model's recommendation (2 for SD-Turbo)
    guidance: float | None = None  # None: the model's recommendation (0 for SD-Turbo)
    size: int | None = None  # square side in pixels (multiple of 8); None: the model's native
    device: str = "cpu"  # "cpu", "cuda", "mps"
    precision: str = "auto"  # "auto" (float16 on GPUs), "float32" or "float16"


@dataclass(frozen=True, kw_only=True)
class ImageStep:
    """Progress of the picture stage (the 3D stages yield engine.requests.PipelineStep)."""

    stage: str = "image"
    phase: str  # "load" (reading weights), "denoise" (one step done)
    step: int  # denoising steps done (0 while loading)
    total_steps: int
    elapsed_s: float  # since generate() started


def build_prompt(prompt: str, template: str) -> str:
    """The text the model sees; the template must contain {prompt}."""
    prompt = " ".join((prompt or "").split())
    if not prompt:
        raise UserInputError(EMPTY_PROMPT_MESSAGE)
    if "{prompt}" not in template:
        raise UserInputError("The prompt template must contain {prompt} where your text goes.")
    return template.replace("{prompt}", prompt)


class _Stop(Exception):
    """Raised inside the diffusers loop to end it between two denoising steps."""


class TextToImage:
    """One loaded text-to-image model; `generate` yields ImageStep records, returns the picture."""

    def __init__(self, settings: TextToImageSettings | None = None, **overrides: Any) -> None:
        settings = replace(settings or TextToImageSettings(), **overrides)
        self.settings = check_settings(settings)
        self._pipe: Any = None
        self._lock = threading.Lock()  # one generation at a time per loaded model

    # -- defaults -------------------------------------------------------------------------------
    @property
    def is_default_model(self) -> bool:
        return catalogue_name(self.settings.model) == TEXT2IMAGE_DEFAULT["name"]

    @property
    def steps(self) -> int:
        default = TEXT2IMAGE_DEFAULT["steps"] if self.is_default_model else GENERIC_STEPS
        return self.settings.steps or default

    @property
    def guidance(self) -> float:
        if self.settings.guidance is not None:
            return self.settings.guidance
        return TEXT2IMAGE_DEFAULT["guidance"] if self.is_default_model else GENERIC_GUIDANCE

    @property
    def uses_negative_prompt(self) -> bool:
        """Diffusers ignores the negative prompt without classifier-free guidance (scale <= 1)."""
        return self.guidance > 1.0

    def is_installed(self) -> bool:
        return resolve_model(self.settings.model) is not None

    # -- loading --------------------------------------------------------------------------------
    def pipeline(self) -> Any:
        """The diffusers pipeline, loaded once from local files only."""
        if self._pipe is None:
            self._pipe = _load_pipeline(self.settings)
        return self._pipe

    # -- generation -----------------------------------------------------------------------------
    def generate(
        self,
        prompt: str,
        *,
        seed: int = 0,
        steps: int | None = None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> Generator[ImageStep, None, Image.Image]:
        """Yield progress between denoising steps; cancel by `should_cancel()` or close().

        Cancellation raises GenerationCancelled before the next model call."""
        text = build_prompt(prompt, self.settings.prompt_template)
        total = steps if steps is not None else self.steps
        if not isinstance(total, int) or not 1 <= total <= 200:
            raise UserInputError(f"Picture steps must be between 1 and 200, got {total}.")
        if not isinstance(seed, int) or seed < 0:
            raise UserInputError(f"The seed must be a whole number ≥ 0, got {seed!r}.")
        cancelled = should_cancel or (lambda: False)
        start = time.perf_counter()
        yield ImageStep(phase="load", step=0, total_steps=total, elapsed_s=0.0)
        pipe = self.pipeline()
        if cancelled():
            raise GenerationCancelled()
        size = self.settings.size or _native_size(pipe)
        kwargs: dict[str, Any] = {
            "prompt": text,
            "num_inference_steps": total,
            "guidance_scale": self.guidance,
            "height": size,
            "width": size,
            "generator": torch.Generator("cpu").manual_seed(seed),  # same picture on any device
        }
        if self.uses_negative_prompt and self.settings.negative_prompt.strip():
            kwargs["negative_prompt"] = self.settings.negative_prompt
        log.info("text->image %s: %r, %d steps, seed %d", self.settings.model, text, total, seed)
        if not self._lock.acquire(blocking=False):
            raise StudioError("A picture is already being made with this model; wait or cancel.")
        try:
            return (yield from _run_stepwise(pipe, kwargs, total, cancelled, start))
        finally:
            self._lock.release()


def check_settings(settings: TextToImageSettings) -> TextToImageSettings:
    """Validate before any heavy work, naming the setting and its value."""
    s = settings
    if not isinstance(s.model, str) or not s.model.strip():
        raise UserInputError("Choose a text-to-image model (a name, repo id or folder).")
    if "{prompt}" not in s.prompt_template:
        raise UserInputError("The prompt template must contain {prompt} where your text goes.")
    if s.steps is not None and not 1 <= s.steps <= 200:
        raise UserInputError(f"Picture steps must be between 1 and 200, got {s.steps}.")
    if s.guidance is not None and not 0.0 <= s.guidance <= 30.0:
        raise UserInputError(f"Picture guidance must be between 0 and 30, got {s.guidance}.")
    if s.size is not None and (s.size % 8 or not 64 <= s.size <= 2048):
        raise UserInputError(f"Picture size must be a multiple of 8 in 64…2048, got {s.size}.")
    if s.precision not in ("auto", "float32", "float16"):
        raise UserInputError(f"Unknown precision {s.precision!r}: use auto, float32 or float16.")
    if s.device.split(":")[0] not in ("cpu", "cuda", "mps"):
        raise UserInputError(f"Unknown device {s.device!r}: use cpu, cuda or mps.")
    return s


def _native_size(pipe: Any) -> int:
    unet = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    sample = getattr(getattr(unet, "config", None), "sample_size", None)
    factor = getattr(pipe, "vae_scale_factor", 8)
    return int(sample * factor) if isinstance(sample, int) else 512


def _load_pipeline(settings: TextToImageSettings) -> Any:
    folder = resolve_model(settings.model)
    if folder is None:
        local = Path(settings.model).expanduser()
        if local.is_dir():
            raise UserInputError(
                f"{local} is not a complete diffusers model; missing: "
                + ", ".join(missing_parts(local))
                + "."
            )
        raise ModelNotInstalled([catalogue_name(settings.model)])
    from diffusers import AutoPipelineForText2Image

    device = torch.device(settings.device)
    half = settings.precision == "float16" or (
        settings.precision == "auto" and device.type != "cpu"
    )
    dtype = torch.float16 if half else torch.float32
    variant = TEXT2IMAGE_DEFAULT["variant"] if _has_variant(folder) else None
    try:
        with warnings.catch_warnings():
            # newer diffusers renamed torch_dtype to dtype; the old name works in every version
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            pipe = AutoPipelineForText2Image.from_pretrained(
                str(folder), torch_dtype=dtype, variant=variant, local_files_only=True
            )
    except Exception as exc:  # diffusers raises many types for a broken or foreign folder
        raise StudioError(
            f"Could not load the text-to-image model in {folder}: {exc}. Re-download it in "
            "Models, or choose another model."
        ) from exc
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def _has_variant(folder: Path) -> bool:
    return any(folder.glob(f"*/*.{TEXT2IMAGE_DEFAULT['variant']}.safetensors"))


def _run_stepwise(
    pipe: Any,
    kwargs: dict[str, Any],
    total: int,
    cancelled: Callable[[], bool],
    start: float,
) -> Generator[ImageStep, None, Image.Image]:
    """Run the blocking diffusers call in a helper thread, in lockstep with this generator.

    The pipeline stops after each step until the consumer asks for the next record, so the
    model runs only while the consumer iterates, and a cancel lands between two steps."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    resume = threading.Event()
    stop = threading.Event()

    def on_step_end(_pipe: Any, index: int, _timestep: Any, tensors: dict) -> dict:
        events.put(("step", index + 1))
        resume.wait()
        resume.clear()
        if stop.is_set():
            raise _Stop
        return tensors

    if "callback_on_step_end" in inspect.signature(pipe.__call__).parameters:
        kwargs = {**kwargs, "callback_on_step_end": on_step_end}
    else:
        log.warning("%s has no step callback: no progress or cancel until it ends", type(pipe))

    def work() -> None:
        try:
            events.put(("done", pipe(**kwargs).images[0]))
        except _Stop:
            events.put(("stopped", None))
        except BaseException as exc:  # handed to the consumer's thread
            events.put(("error", exc))

    thread = threading.Thread(target=work, name="text2image", daemon=True)
    thread.start()
    try:
        while True:
            kind, payload = events.get()
            if kind == "step":
                if not cancelled():
                    yield ImageStep(
                        phase="denoise",
                        step=payload,
                        total_steps=total,
                        elapsed_s=time.perf_counter() - start,
                    )
                if cancelled():
                    stop.set()
                resume.set()
            elif kind == "done":
                return payload
            elif kind == "stopped":
                raise GenerationCancelled()
            else:
                if isinstance(payload, StudioError):
                    raise payload
                raise StudioError(f"Making the picture failed: {payload}") from payload
    finally:
        if thread.is_alive():  # closed early (consumer gone, or an error above)
            stop.set()
            resume.set()
            thread.join()
