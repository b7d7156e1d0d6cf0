"""Generation worker: a QObject living on a QThread that drains one engine generator."""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from engine.requests import GenerationRequest, PipelineStep

log = logging.getLogger(__name__)

RunFn = Callable[..., Generator[PipelineStep, None, object]]


@dataclass(frozen=True)
class StepPayload:
    """What crosses to the GUI thread: detached numpy copies, never tensors or engine objects."""

    stage: str
    stage_index: int
    n_stages: int
    step: int
    total_steps: int
    sigma: float
    coords: np.ndarray  # (N, 3) float32, owned by this payload
    colors: np.ndarray  # (N, 3) float32 in 0..1, owned by this payload
    final: bool
    elapsed: float  # seconds since the run started
    notices: tuple[str, ...] = ()  # things the user should know (ignored words...)
    image: object | None = None  # PIL copy of the drawn picture (last step of the image stage)
    prepared: object | None = None  # engine.imageprep.PreparedImage: what the 3D model sees

    @classmethod
    def from_step(
        cls, step: PipelineStep, elapsed: float, *, remove_background: bool = True
    ) -> StepPayload:
        return cls(
            stage=step.stage,
            stage_index=step.stage_index,
            n_stages=step.n_stages,
            step=step.step,
            total_steps=step.total_steps,
            sigma=float(step.sigma),
            coords=np.array(step.coords, dtype=np.float32, copy=True),
            colors=np.array(step.colors, dtype=np.float32, copy=True),
            final=bool(step.final),
            elapsed=elapsed,
            notices=tuple(getattr(step, "notices", ()) or ()),
            **picture_fields(getattr(step, "image", None), remove_background),
        )


def picture_fields(image: object | None, remove_background: bool) -> dict:
    """A private copy of the picture and its preparation, computed here on the worker thread."""
    if image is None:
        return {}
    from engine.imageprep import prepare_image

    picture = image.copy()
    try:
        prepared = prepare_image(picture, remove_background=remove_background)
    except Exception:  # the preview is a courtesy; the 3D stage reports real problems
        log.warning("could not prepare the picture for the preview", exc_info=True)
        prepared = None
    return {"image": picture, "prepared": prepared}


def default_run_fn() -> RunFn:
    """engine.pipeline.run, imported here (in the worker thread) so torch stays off start-up."""
    from engine.pipeline import run

    return run


def limit_torch_threads() -> None:
    """Leave one core to the GUI thread so the preview keeps rendering during a generation."""
    try:
        import torch
    except ImportError:
        return
    cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores - 1))


def _is_picture(value: object) -> bool:
    from PIL import Image

    return isinstance(value, Image.Image)


class GenerationWorker(QObject):
    """Runs one request; every signal carries the generation id so late payloads can be dropped.

    A request with extra["picture_only"] stops once the picture is drawn and succeeds with the
    picture (PIL) instead of a point cloud: the 3D stages never start."""

    step = Signal(int, object)  # gen_id, StepPayload
    succeeded = Signal(int, object, float)  # gen_id, PointCloud, seconds
    failed = Signal(int, object, str)  # gen_id, exception, formatted traceback
    cancelled = Signal(int)  # gen_id
    done = Signal(int)  # gen_id; always the last signal, whatever happened

    def __init__(
        self, gen_id: int, request: GenerationRequest, run_fn: RunFn | None = None
    ) -> None:
        super().__init__()
        self.gen_id = gen_id
        self.request = request
        self._run_fn = run_fn
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Thread-safe: the flag is read between steps (and by the engine between model calls)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @Slot()
    def run(self) -> None:
        from engine.errors import GenerationCancelled

        start = time.perf_counter()
        gen = None
        try:
            limit_torch_threads()
            run_fn = self._run_fn or default_run_fn()
            gen = run_fn(self.request, should_cancel=self._cancel.is_set)
            extra = self.request.extra or {}
            picture_only = bool(extra.get("picture_only"))
            remove_background = bool(extra.get("remove_background", True))
            while True:
                if self._cancel.is_set():
                    raise GenerationCancelled()
                try:
                    record = next(gen)
                except StopIteration as stop:
                    result = stop.value
                    break
                payload = StepPayload.from_step(
                    record, time.perf_counter() - start, remove_background=remove_background
                )
                self.step.emit(self.gen_id, payload)
                if picture_only and payload.image is not None:
                    result = payload.image  # gen.close() below: the 3D stages never start
                    break
            if picture_only and not _is_picture(result):
                raise RuntimeError("Only Text → Image → 3D draws a picture; nothing to show.")
            if self._cancel.is_set():
                raise GenerationCancelled()
            self.succeeded.emit(self.gen_id, result, time.perf_counter() - start)
        except GenerationCancelled:
            log.info("generation %d cancelled", self.gen_id)
            self.cancelled.emit(self.gen_id)
        except Exception as exc:
            self.failed.emit(self.gen_id, exc, traceback.format_exc())
        finally:
            if gen is not None:
                try:
                    gen.close()
                except Exception:
                    log.exception("closing the generator failed")
            self.done.emit(self.gen_id)
