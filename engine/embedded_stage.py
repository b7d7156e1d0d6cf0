"""The built-in route's stage: the small text-to-3D model shipped with the app (no download)."""

from __future__ import annotations

import torch

from engine.errors import UserInputError
from engine.requests import GenerationRequest
from engine.routes import RouteSpec
from engine.stages import Stage, build_stage, build_upsample_stage


def builtin_stages(
    route: RouteSpec, request: GenerationRequest, *, store=None, prepared=None
) -> tuple[list[Stage], list[str]]:
    """Encode the prompt with the built-in text encoder; unknown words become a notice."""
    from engine.embedded import load_embedded, text_conditioning

    emb = load_embedded(device=request.device)
    known, unknown = emb.encoder.analyse(request.prompt)
    if not known:
        emb.encoder.encode([request.prompt])  # raises a UserInputError listing known words
        raise UserInputError(
            "The built-in model knows none of these words. It understands simple shapes, "
            "colours and a few objects, e.g. “a red cube”, “a tall blue cylinder”, "
            "“a brown table”. Install an official model for anything else."
        )
    notices = []
    if unknown:
        words = list(dict.fromkeys(unknown))  # each ignored word once, in prompt order
        notices.append("Ignored words the built-in model does not know: " + ", ".join(words))
    limit = emb.encoder.config.max_words
    if len(known) > limit:
        used, dropped = known[:limit], list(dict.fromkeys(known[limit:]))
        notices.append(
            f"The built-in model reads {limit} words at most. It used: “{' '.join(used)}”; "
            f"it left out: {', '.join(dropped)}."
        )
    with torch.no_grad():
        cond = text_conditioning(emb.encoder, emb.model, [request.prompt])
        cond = {k: v.float().cpu() for k, v in cond.items()}
    spec = route.stages[0]
    n_points = emb.defaults.n_points
    if getattr(emb.model, "config", None) is not None and emb.model.config.n_ctx != n_points:
        raise UserInputError("The built-in model's files are inconsistent; reinstall the app.")
    stages = [
        build_stage(spec, request, route=route.name, model=emb.model, n_points=n_points, cond=cond)
    ]
    up_spec = route.stage("upsample")
    if request.upsample and route.upsampler and up_spec is not None:
        from engine.embedded import load_upsampler

        up = load_upsampler(device=request.device)
        stages.append(build_upsample_stage(up_spec, request, route=route.name, model=up))
    return stages, notices
