"""The stage of the small text-to-3D model shipped with the app (no download needed)."""

from __future__ import annotations

import torch

from engine.diffusion import NoiseSchedule
from engine.errors import UserInputError
from engine.requests import GenerationRequest
from engine.stages import Stage


def _get(defaults, key: str, fallback):
    if isinstance(defaults, dict):
        return defaults.get(key, fallback)
    return getattr(defaults, key, fallback)


def embedded_stages(request: GenerationRequest) -> tuple[list[Stage], list[str]]:
    """Encode the prompt with the embedded text encoder; unknown words become a notice."""
    from engine.embedded import load_embedded
    from engine.pipeline import StageDefaults, _stage

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
        notices.append("Ignored words the built-in model does not know: " + ", ".join(unknown))
    with torch.no_grad():
        cond = {"embeddings": emb.encoder.encode([request.prompt]).float().cpu()}
    d = emb.defaults
    defaults = StageDefaults(
        guidance=float(_get(d, "guidance", 3.0)),
        steps=int(_get(d, "steps", 32)),
        sigma_min=float(_get(d, "sigma_min", 1e-3)),
        sigma_max=float(_get(d, "sigma_max", 120.0)),
        s_churn=float(_get(d, "s_churn", 0.0)),
    )
    n_points = int(_get(d, "n_points", 1024))
    model = emb.model
    if getattr(model, "config", None) is not None and model.config.n_ctx != n_points:
        raise UserInputError("The built-in model's files are inconsistent; reinstall the app.")
    stage = _stage(
        defaults,
        request,
        first=True,
        name="base",
        model=model,
        schedule=NoiseSchedule.from_name(str(_get(d, "schedule", "cosine"))),
        n_points=n_points,
        cond=cond,
    )
    return [stage], notices
