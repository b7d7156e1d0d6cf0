"""From a GenerationRequest to a PointCloud: a Run asks the route registry, builds the stages
and streams every step."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace

import numpy as np
import torch

from engine.errors import EMPTY_PROMPT_MESSAGE, ModelNotInstalled, UserInputError
from engine.generators import drain
from engine.pointcloud import PointCloud
from engine.requests import GenerationRequest, PipelineStep
from engine.routes import PRESETS, SAMPLER_LABELS, RouteSpec, route_for
from engine.stage_clock import StageClock
from engine.stages import Stage, StageRecord, sample_stages, samples_to_arrays

log = logging.getLogger(__name__)

#: Prompts are cut here before any tokenizer sees them (CLIP itself keeps 77 tokens).
MAX_PROMPT_CHARS = 1000
MAX_VARIATIONS = 9
_NO_POINTS = np.zeros((0, 3), dtype=np.float32)


def check_request(request: GenerationRequest) -> GenerationRequest:
    """Validate before any heavy work; returns the request with a tidied prompt."""
    route = request_route(request)
    prompt = " ".join((request.prompt or "").split())
    if route.inputs == "text" and not prompt:
        raise UserInputError(EMPTY_PROMPT_MESSAGE)
    if len(prompt) > MAX_PROMPT_CHARS:
        log.warning("prompt of %d characters cut to %d", len(prompt), MAX_PROMPT_CHARS)
        prompt = prompt[:MAX_PROMPT_CHARS]
    if route.inputs == "image" and request.image is None:
        raise UserInputError(f"{request.model} turns a picture into 3D: choose a picture first.")
    if request.steps is not None and not 1 <= request.steps <= 1000:
        raise UserInputError(f"Steps must be between 1 and 1000, got {request.steps}.")
    if request.guidance is not None and not 0 <= request.guidance <= 50:
        raise UserInputError(f"Guidance must be between 0 and 50, got {request.guidance}.")
    if request.sampler is not None and request.sampler not in SAMPLER_LABELS:
        raise UserInputError(
            f"Unknown sampler {request.sampler!r}: use {', '.join(SAMPLER_LABELS)}."
        )
    if request.preset not in PRESETS:
        raise UserInputError(f"Unknown preset {request.preset!r}: use {', '.join(PRESETS)}.")
    if request.precision not in ("float32", "float16"):
        raise UserInputError(f"Unknown precision {request.precision!r}: use float32 or float16.")
    if not 1 <= request.variations <= MAX_VARIATIONS:
        raise UserInputError(
            f"Variations must be between 1 and {MAX_VARIATIONS}, got {request.variations}."
        )
    if request.base_cloud is not None:
        _check_base_cloud(request, route)
    _check_device(request.device)
    return replace(request, prompt=prompt)


def _check_base_cloud(request: GenerationRequest, route: RouteSpec) -> None:
    if route.upsampler is None or route.stage("upsample") is None:
        raise UserInputError(f"{route.label} has no upsampler: there is nothing to re-upsample.")
    cloud = np.asarray(request.base_cloud)
    if cloud.ndim != 2 or cloud.shape[1] != 6 or len(cloud) < 2:
        raise UserInputError(
            "The base cloud to upsample needs at least 2 points (x, y, z, r, g, b)."
        )
    if not np.isfinite(cloud).all():
        raise UserInputError("The base cloud to upsample has broken (NaN) points.")
    if request.variations != 1:
        raise UserInputError("Re-upsampling takes one cloud, not variations.")


def request_route(request: GenerationRequest) -> RouteSpec:
    """The registry's route for this request (a picture is drawn first when `picture` is set)."""
    try:
        return route_for(request.model, draws_picture=request.picture is not None)
    except ValueError as exc:
        raise UserInputError(str(exc)) from exc


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


def _dtype(request: GenerationRequest) -> torch.dtype:
    gpu = request.device != "cpu"
    return torch.float16 if request.precision == "float16" and gpu else torch.float32


def build_stages(
    route: RouteSpec, request: GenerationRequest, *, store=None, prepared=None
) -> tuple[list[Stage], list[str]]:
    """Load what the route needs and build its stages; returns (stages, notices for the user)."""
    module, _, name = route.builder.partition(":")
    builder = getattr(importlib.import_module(module), name)
    return builder(route, request, store=store, prepared=prepared)


class Run:
    """One generation. Iterate it for a PipelineStep per denoising step; afterwards `result`
    holds the PointCloud. `cancel()` (any thread) stops it before the next model call.

    Raises GenerationCancelled once cancelled, UserInputError / ModelNotInstalled /
    CheckpointError with a message for the user."""

    def __init__(
        self,
        request: GenerationRequest,
        *,
        store=None,
        should_cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.request = check_request(request)
        self.route = request_route(self.request)
        typed = len(" ".join((request.prompt or "").split()))
        self.notices: list[str] = []  # shown with the first step
        if typed > len(self.request.prompt):
            self.notices.append(
                f"Your prompt has {typed:,} characters; only the first {MAX_PROMPT_CHARS:,} were "
                f"used (it now ends “…{self.request.prompt[-40:]}”)."
            )
        self.result: PointCloud | None = None
        self.picture = None  # the drawn picture (PIL), text -> picture -> 3D only
        self.prepared = None  # engine.imageprep.PreparedImage the 3D stages used
        self._store = store
        self._cancel = threading.Event()
        self._external_cancel = should_cancel
        self._steps: Generator[PipelineStep, None, PointCloud] | None = None
        self._started = time.monotonic()

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        external = self._external_cancel
        return self._cancel.is_set() or (external is not None and bool(external()))

    def __iter__(self) -> Iterator[PipelineStep]:
        if self._steps is None:
            self._steps = self._generate()
        return self._steps

    def wait(self) -> PointCloud:
        """Run to the end without looking at the steps; returns the result."""
        drain(iter(self))
        assert self.result is not None
        return self.result

    def close(self) -> None:
        """Stop a half-consumed run and release its generator."""
        if self._steps is not None:
            self._steps.close()

    def _generate(self) -> Generator[PipelineStep, None, PointCloud]:
        request, route = self.request, self.route
        self._started = time.monotonic()
        offset = 0
        if route.draws_picture:
            yield from self._draw_picture()
            offset = 1
        elif route.inputs == "image":
            self.prepared = _prepare(request.image, request.remove_background)
        build_request = (
            replace(request, upsample=True) if request.base_cloud is not None else request
        )
        stages, notices = build_stages(
            route, build_request, store=self._store, prepared=self.prepared
        )
        notices = [*self.notices, *notices]
        low_res = None
        if request.base_cloud is not None:  # re-upsample: the base stage is already done
            base = next(s for s in stages if s.name == "base")
            stages = [s for s in stages if s.name != "base"]
            low_res, note = _base_samples(request.base_cloud, base.n_points)
            notices = [*notices, *([note] if note else [])]
        dtype = _dtype(request)
        park = request.low_vram and request.device != "cpu"

        def on_stage(stage: Stage, starting: bool) -> None:
            """Low VRAM: a stage's model is on the GPU only while that stage runs."""
            stage.model.to(device=request.device if starting else "cpu", dtype=dtype)
            if not starting and torch.cuda.is_available():
                torch.cuda.empty_cache()

        if not park:
            for stage in stages:
                stage.model.to(device=request.device, dtype=dtype)
        generators = [
            torch.Generator().manual_seed((int(request.seed) + i) % (2**63))
            for i in range(request.variations)
        ]
        records = sample_stages(
            stages,
            batch=request.variations,
            generator=generators,
            should_cancel=self.cancelled,
            low_res=low_res,
            on_stage=on_stage if park else None,
        )
        first = True
        samples: torch.Tensor
        clock = StageClock(stages, request)

        def consume() -> Generator[StageRecord, None, None]:
            nonlocal samples
            samples = yield from records

        for rec in consume():
            left = clock.seconds_left(rec)
            yield self._step(rec, offset, notices if first else (), left)
            first = False
        coords, colors = samples_to_arrays(samples)
        self.result = PointCloud(coords, colors, self._meta(stages))
        return self.result

    def _draw_picture(self) -> Generator[PipelineStep, None, None]:
        from engine.via_image import draw_picture

        request = self.request
        picture = yield from draw_picture(
            self.route, request, store=self._store, should_cancel=self.cancelled
        )
        self.picture = picture
        self.prepared = _prepare(picture, request.remove_background)
        yield PipelineStep(
            stage="image",
            stage_index=0,
            n_stages=3 if request.upsample else 2,
            step=1,
            total_steps=1,
            sigma=0.0,
            coords=_NO_POINTS,
            colors=_NO_POINTS,
            elapsed=time.monotonic() - self._started,
            final=True,
            image=picture.copy(),
            prepared=self.prepared,
        )

    def _step(self, rec: StageRecord, offset: int, notices, left: float | None) -> PipelineStep:
        coords, colors = samples_to_arrays(rec.samples)
        rows = rec.samples.shape[0]
        variations = (
            tuple(samples_to_arrays(rec.samples, i) for i in range(rows)) if rows > 1 else ()
        )
        return PipelineStep(
            stage=rec.stage,
            stage_index=rec.stage_index + offset,
            n_stages=rec.n_stages + offset,
            step=min(rec.step, rec.total_steps),
            total_steps=rec.total_steps,
            sigma=rec.sigma,
            coords=coords,
            colors=colors,
            elapsed=time.monotonic() - self._started,
            final=rec.final,
            notices=tuple(notices),
            variations=variations,
            seconds_left=left,
        )

    def _meta(self, stages: list[Stage]) -> dict:
        request = self.request
        meta = {
            "prompt": request.prompt,
            "seed": request.seed,
            "model": request.model,
            "route": self.route.name,
            "preset": request.preset,
            "steps": [s.steps for s in stages],
            "guidance": [s.guidance for s in stages],
            "sampler": [s.sampler for s in stages],
            "device": request.device,
            "seconds": round(time.monotonic() - self._started, 2),
        }
        if request.image is not None:
            meta["image"] = str(request.image)
        return meta


def _base_samples(cloud: np.ndarray, n: int) -> tuple[torch.Tensor, str]:
    """(1, 6, n) data units for the upsampler from an (M, 6) cloud; M != n is resampled."""
    from engine.edit import farthest_point_resample

    cloud = np.asarray(cloud, dtype=np.float32)
    coords, colors = cloud[:, :3], cloud[:, 3:6]
    note = ""
    if len(cloud) != n:
        coords, colors, _ = farthest_point_resample(coords, colors, n)
        how = "filled up" if len(cloud) < n else "thinned out"
        note = (
            f"The edited cloud has {len(cloud):,} points; the upsampler needs exactly {n:,}, "
            f"so it was {how} to {n:,} by farthest-point resampling."
        )
    data = np.concatenate([coords, np.asarray(colors, np.float32) * 255.0], axis=1)  # (n, 6)
    return torch.from_numpy(np.ascontiguousarray(data.T))[None].float(), note


def _prepare(source, remove_background: bool):
    """The picture as the 3D stages see it (a file path or a PIL image)."""
    from engine.imageprep import load_image, prepare_image

    image = source if hasattr(source, "size") and hasattr(source, "mode") else load_image(source)
    return prepare_image(image, remove_background=remove_background)


def run(
    request: GenerationRequest,
    *,
    should_cancel: Callable[[], bool] | None = None,
    store=None,
) -> Run:
    """A Run for the request: iterate it for steps, then read `.result`."""
    return Run(request, store=store, should_cancel=should_cancel)


def generate(request: GenerationRequest, **kw) -> PointCloud:
    """Run to the end without previews (CLI, scripts, benchmarks)."""
    return run(request, **kw).wait()


__all__ = [
    "MAX_PROMPT_CHARS",
    "ModelNotInstalled",
    "Run",
    "build_stages",
    "check_request",
    "generate",
    "request_route",
    "run",
]
