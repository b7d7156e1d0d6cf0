"""How long each speed preset would take for a request, before it starts (engine.stage_clock
times one forward per stage model and device, cached in the data folder)."""

from __future__ import annotations

import logging
from dataclasses import replace

from engine.pipeline import build_stages, check_request, request_route
from engine.requests import GenerationRequest
from engine.routes import PRESETS
from engine.stage_clock import default_times, plans_for
from engine.timing import ForwardTimes

log = logging.getLogger(__name__)


def _blank_picture():
    """A plain white picture: the 3D stages' cost does not depend on what is drawn."""
    from PIL import Image

    from engine.imageprep import prepare_image

    return prepare_image(Image.new("RGB", (256, 256), "white"), remove_background=False)


def estimate_presets(
    request: GenerationRequest, *, store=None, times: ForwardTimes | None = None
) -> dict[str, float]:
    """Seconds each preset would take for this request (loads the models; times them once).

    Raises what loading raises (ModelNotInstalled...); the picture stage of text -> picture
    -> 3D is not counted (its cost depends on the picture model)."""
    request = check_request(request)
    route = request_route(request)
    prepared = _blank_picture() if route.inputs == "image" or route.draws_picture else None
    times = times or default_times()
    out = {}
    for name in PRESETS:
        variant = replace(request, preset=name)
        stages, _ = build_stages(route, variant, store=store, prepared=prepared)
        plans = plans_for(stages, variant, times, measure=True)
        out[name] = sum(p.steps * p.seconds_per_step for p in plans)
    return out


__all__ = ["estimate_presets"]
