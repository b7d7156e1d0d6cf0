"""Text -> picture, the first stage of the text -> image -> 3D route (diffusers)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from functools import lru_cache

import numpy as np

from engine.errors import ModelNotInstalled
from engine.generators import mapped
from engine.requests import GenerationRequest, PipelineStep
from engine.routes import RouteSpec

_EMPTY = np.zeros((0, 3), dtype=np.float32)


@lru_cache(maxsize=1)
def _text_to_image(settings):
    from engine.text2image import TextToImage

    return TextToImage(settings)  # keeps its pipeline loaded between runs


def picture_settings(request: GenerationRequest):
    """The text-to-image settings a request asks for (model, template, negative prompt...)."""
    from engine.text2image import TextToImageSettings

    kw: dict = {"device": request.device}
    options = request.picture
    if options is not None:
        for name in ("model", "prompt_template", "negative_prompt", "steps"):
            value = getattr(options, name)
            if value is not None and value != "":
                kw[name] = value
    return TextToImageSettings(**kw)


def draw_picture(
    route: RouteSpec,
    request: GenerationRequest,
    *,
    store=None,
    should_cancel: Callable[[], bool] | None = None,
) -> Generator[PipelineStep, None, object]:
    """Yield 'image' progress steps and return the picture (PIL).

    Everything the whole route needs is checked first, so a missing 3D model is reported
    before minutes are spent drawing a picture."""
    from engine.checkpoints import default_store, missing_models
    from engine.text2image.models import catalogue_name

    t2i = _text_to_image(picture_settings(request))
    missing = [] if t2i.is_installed() else [catalogue_name(t2i.settings.model)]
    needed = route.required_models(request.model, upsample=request.upsample)
    missing += missing_models(needed, store or default_store())
    if missing:
        raise ModelNotInstalled(missing)
    n_stages = 3 if request.upsample else 2
    gen = t2i.generate(
        request.prompt, seed=int(request.seed) % (2**31), should_cancel=should_cancel
    )

    def as_step(step) -> PipelineStep:
        return PipelineStep(
            stage="image",
            stage_index=0,
            n_stages=n_stages,
            step=step.step,
            total_steps=step.total_steps,
            sigma=0.0,
            coords=_EMPTY,
            colors=_EMPTY,
        )

    return (yield from mapped(gen, as_step))
