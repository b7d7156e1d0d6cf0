"""Stages for OpenAI's checkpoints: CLIP conditioning, base model, upsampler (official settings)."""

from __future__ import annotations

import logging
from functools import lru_cache

import torch

from engine.diffusion import NoiseSchedule
from engine.errors import ModelNotInstalled
from engine.requests import GenerationRequest
from engine.stages import Stage

log = logging.getLogger(__name__)

GRID_MODELS = ("base40M", "base300M", "base1B")


def required_models(request: GenerationRequest) -> list[str]:
    """Every catalogue entry the request needs, in download order."""
    from engine.checkpoints import CLIP_NAME

    names = [request.model]
    if request.model != "base40M-uncond":
        names.insert(0, CLIP_NAME)
    if request.upsample:
        names.append("upsample")
    return names


@lru_cache(maxsize=4)
def _cached_model(name: str, device: str, root: str):
    from engine.checkpoints import default_store, load_official_model

    return load_official_model(name, device=device, store=default_store(root))


@lru_cache(maxsize=1)
def _cached_clip(device: str, root: str):
    from engine.checkpoints import CLIP_NAME, default_store
    from engine.models.clip import clip_options, load_clip, register_model_config

    store = default_store(root)
    model_name, config = clip_options(store.overrides_for(CLIP_NAME))
    register_model_config(config)
    return load_clip(store.model_path(CLIP_NAME), device=device, model_name=model_name)


def _prepared_image(request: GenerationRequest, image=None):
    from engine.imageprep import load_image, prepare_for_pointe

    source = image if image is not None else load_image(request.image)
    return prepare_for_pointe(
        source, remove_background=bool(request.extra.get("remove_background", True))
    )


def official_stages(
    request: GenerationRequest, *, store=None, image=None
) -> tuple[list[Stage], list[str]]:
    """Load the installed official models the request needs and condition them."""
    from engine.checkpoints import default_store, missing_models
    from engine.pipeline import (
        IMAGE_BASE,
        IMAGE_UPSAMPLE,
        TEXT_BASE,
        TEXT_UPSAMPLE,
        _stage,
    )

    store = store or default_store()
    missing = missing_models(required_models(request), store)
    if missing:
        raise ModelNotInstalled(missing)
    root = str(store.root)
    device = request.device
    base = _cached_model(request.model, device, root)
    notices: list[str] = []
    cond: dict[str, torch.Tensor] = {}
    grid = None
    image_mode = request.model in (*GRID_MODELS, "base40M-imagevec")
    if request.model != "base40M-uncond":
        clip = _cached_clip(device, root)
        with torch.no_grad():
            if request.model == "base40M-textvec":
                cond["embeddings"] = clip.embed_text([request.prompt]).float().cpu()
            elif request.model == "base40M-imagevec":
                cond["embeddings"] = (
                    clip.embed_images([_prepared_image(request, image)]).float().cpu()
                )
            else:
                grid = clip.embed_images_grid([_prepared_image(request, image)]).float().cpu()
                cond["embeddings"] = grid
    base_defaults = IMAGE_BASE if image_mode else TEXT_BASE
    stages = [
        _stage(
            base_defaults,
            request,
            first=True,
            name="base",
            model=base,
            schedule=NoiseSchedule.from_name("cosine"),
            n_points=base.config.n_ctx,
            cond=cond,
        ),
    ]
    if request.upsample:
        up = _cached_model("upsample", device, root)
        up_cond = {"embeddings": grid} if grid is not None else {}
        up_defaults = IMAGE_UPSAMPLE if grid is not None else TEXT_UPSAMPLE
        stages.append(
            _stage(
                up_defaults,
                request,
                first=False,
                name="upsample",
                model=up,
                schedule=NoiseSchedule.from_name("linear"),
                n_points=up.config.n_ctx,
                cond=up_cond,
                uses_low_res=True,
            )
        )
    return stages, notices
