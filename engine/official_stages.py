"""Stages for OpenAI's checkpoints: CLIP conditioning, base model, upsampler (official settings)."""

from __future__ import annotations

import logging
from functools import lru_cache

import torch

from engine.errors import ModelNotInstalled
from engine.requests import GenerationRequest
from engine.routes import CLIP_MODEL, RouteSpec
from engine.stages import Stage, build_stage, build_upsample_stage

log = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _cached_model(name: str, device: str, root: str):
    from engine.checkpoints import default_store, load_official_model

    return load_official_model(name, device=device, store=default_store(root))


@lru_cache(maxsize=1)
def _cached_clip(device: str, root: str):
    from engine.checkpoints import default_store
    from engine.models.clip import clip_options, load_clip, register_model_config

    store = default_store(root)
    model_name, config = clip_options(store.overrides_for(CLIP_MODEL))
    register_model_config(config)
    return load_clip(store.model_path(CLIP_MODEL), device=device, model_name=model_name)


def _empty_gpu_cache() -> None:
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _condition(route: RouteSpec, request: GenerationRequest, clip, prepared) -> torch.Tensor:
    """The route's CLIP conditioning for the base stage: text vector, picture vector or grid."""
    with torch.no_grad():
        if route.conditioning == "clip-text":
            return clip.embed_text([request.prompt]).float().cpu()
        if prepared is None:
            raise ValueError(f"route {route.name} needs a prepared picture")
        if route.conditioning == "clip-image-vector":
            return clip.embed_images([prepared.image]).float().cpu()
        return clip.embed_images_grid([prepared.image]).float().cpu()


def official_stages(
    route: RouteSpec, request: GenerationRequest, *, store=None, prepared=None
) -> tuple[list[Stage], list[str]]:
    """Load the installed official models the route needs and condition them.

    `prepared` (engine.imageprep.PreparedImage) is the picture the 3D stages see."""
    from engine.checkpoints import default_store, missing_models

    store = store or default_store()
    missing = missing_models(route.required_models(request.model, upsample=request.upsample), store)
    if missing:
        raise ModelNotInstalled(missing)
    root, device = str(store.root), request.device
    base = _cached_model(request.model, device, root)
    cond: dict[str, torch.Tensor] = {}
    if route.conditioning:
        clip = _cached_clip(device, root)
        clip.model.to(device)  # back from the CPU if a low-VRAM run parked it there
        cond["embeddings"] = _condition(route, request, clip, prepared)
        if request.low_vram and device != "cpu":
            clip.model.to("cpu")  # its 1.7 GB leave the GPU before the point models run
            _empty_gpu_cache()
    stages = [
        build_stage(
            route.stage("base"),
            request,
            route=route.name,
            model=base,
            n_points=base.config.n_ctx,
            cond=cond,
        )
    ]
    up_spec = route.stage("upsample")
    if request.upsample and up_spec is not None:
        up = _cached_model(route.upsampler, device, root)
        stages.append(
            build_upsample_stage(
                up_spec,
                request,
                route=route.name,
                model=up,
                cond=cond if up_spec.conditioned else {},
            )
        )
    return stages, []
