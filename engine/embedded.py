"""The embedded default model: loads the shipped safetensors + JSON from resources/models."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.errors import CheckpointError
from engine.userdata import resources_dir

log = logging.getLogger(__name__)

RESOURCE_DIR = resources_dir() / "models"
WEIGHTS_FILE = "embedded.safetensors"
CONFIG_FILE = "embedded.json"
UPSAMPLER_WEIGHTS = "upsampler.safetensors"
UPSAMPLER_CONFIG = "upsampler.json"


@dataclass(frozen=True, kw_only=True)
class EmbeddedDefaults:
    """Sampling settings the shipped model was tuned for (<= 10 s per cloud on a 2-core CPU)."""

    steps: int = 24  # Karras sigma levels (Heun: 2 * steps - 1 network calls)
    # classifier-free guidance scale (batch doubled inside `guided`); above ~2 this small model
    # over-sharpens: cones flatten into pyramids (bench/quality.py)
    guidance: float = 1.5
    sigma_min: float = 1e-3
    sigma_max: float = 20.0  # lower than the official 120: above ~20 its x0 guesses are noise
    s_churn: float = 0.0  # Heun churn; 0 = deterministic given the initial noise
    n_points: int = 1024  # points per cloud
    sampler: str = "heun"  # engine.diffusion.sampler_by_name
    schedule: str = "cosine"  # the discrete noise schedule the model was trained with


@dataclass(frozen=True, eq=False)
class EmbeddedModel:
    """The transformer (eval mode), its text encoder and the sampling defaults."""

    model: nn.Module  # CLIPImagePointDiffusionTransformer, conditioned on encoder vectors
    encoder: nn.Module  # engine.models.text_encoder.TextEncoder: encode(), analyse()
    defaults: EmbeddedDefaults
    config: dict  # the JSON config as shipped (sizes, vocabulary, training notes)


def read_config(folder: Path, name: str = CONFIG_FILE) -> dict:
    path = folder / name
    if not path.is_file():
        raise CheckpointError(f"The built-in model is missing ({path}); reinstall the app.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"The built-in model's config {path} is unreadable: {exc}") from exc


def read_weights(
    folder: Path, file: str, prefixes: tuple[str, ...], what: str
) -> dict[str, dict[str, torch.Tensor]]:
    """folder/file's tensors split by key prefix ("model.x" -> parts["model"]["x"]), read with
    safetensors only (never pickle); a missing, unreadable or foreign file is a CheckpointError
    naming `what` ("built-in model", "built-in upsampler")."""
    from safetensors.torch import load_file

    path = folder / file
    if not path.is_file():
        raise CheckpointError(f"The {what}'s weights are missing ({path}).")
    try:
        tensors = load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own error type for bad headers
        raise CheckpointError(f"The {what}'s weights {path} are unreadable: {exc}") from exc
    parts: dict[str, dict[str, torch.Tensor]] = {p: {} for p in prefixes}
    for key, value in tensors.items():
        prefix, _, rest = key.partition(".")
        if prefix not in parts:
            raise CheckpointError(f"unexpected tensor {key!r} in {path}")
        parts[prefix][rest] = value
    return parts


def text_conditioning(encoder: nn.Module, model: nn.Module, prompts: list[str]) -> dict:
    """The conditioning tensors `model` takes for `prompts`: {"embeddings": (B, D)}, plus
    {"phrases": (B, P, D)} for a model with phrase attention. The one place that decides it,
    so training, the app and the benches condition alike."""
    if not getattr(model.config, "phrase_tokens", 0):
        return {"embeddings": encoder.encode(list(prompts))}
    vectors, phrases = encoder.encode_with_phrases(list(prompts))
    return {"embeddings": vectors, "phrases": phrases}


def build_from_config(config: dict) -> tuple[nn.Module, nn.Module]:
    """Both networks with random weights, shaped as the config says."""
    from engine.models import build_model
    from engine.models.text_encoder import TextEncoder, TextEncoderConfig

    m = config["model"]
    model = build_model(
        m["name"],
        width=m["width"],
        layers=m["layers"],
        heads=m["heads"],
        n_ctx=m["n_ctx"],
        clip_dim=m["clip_dim"],
        token_cond=bool(m.get("token_cond", True)),
        phrase_tokens=int(m.get("phrase_tokens", 0)),
    )
    e = config["encoder"]
    enc = TextEncoder(
        TextEncoderConfig(
            vocab=tuple(e["vocab"]),
            width=e["width"],
            layers=e["layers"],
            heads=e["heads"],
            out_dim=e["out_dim"],
            mode=e.get("mode", "transformer"),
        )
    )
    return model, enc


def load_from(folder: Path, device: str = "cpu") -> EmbeddedModel:
    """Load without caching (tests, bench of a fresh export)."""

    from engine.models import StateDictMismatch, load_state_dict_strict

    config = read_config(folder)
    parts = read_weights(folder, WEIGHTS_FILE, ("model", "encoder"), "built-in model")
    try:
        model, enc = build_from_config(config)
        load_state_dict_strict(model, parts["model"])
        enc.load_state_dict(parts["encoder"], strict=True)
    except (KeyError, TypeError, ValueError, RuntimeError, StateDictMismatch) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"The built-in model in {folder} is damaged: {exc}") from exc
    fields = EmbeddedDefaults.__dataclass_fields__
    defaults = EmbeddedDefaults(
        **{k: v for k, v in config.get("defaults", {}).items() if k in fields}
    )
    model.to(device).eval().requires_grad_(False)
    enc.to(device).eval().requires_grad_(False)
    log.info("embedded model loaded from %s", folder)
    return EmbeddedModel(model=model, encoder=enc, defaults=defaults, config=config)


def load_upsampler_from(folder: Path, device: str = "cpu") -> nn.Module:
    """The built-in upsampler (Point-E's UpsamplePointDiffusionTransformer, shrunk) in eval
    mode, from folder/upsampler.safetensors + upsampler.json (safetensors: no pickle)."""

    from engine.models import StateDictMismatch, build_model, load_state_dict_strict
    from engine.models.config import ModelConfig

    config = read_config(folder, UPSAMPLER_CONFIG)
    parts = read_weights(folder, UPSAMPLER_WEIGHTS, ("model",), "built-in upsampler")
    try:
        m = config["model"]
        model = build_model(
            ModelConfig(
                arch=m["arch"],
                width=m["width"],
                layers=m["layers"],
                heads=m["heads"],
                n_ctx=m["n_points"],
                cond_ctx=m["low_res"],
            )
        )
        if model.__class__.__name__ != "UpsamplePointDiffusionTransformer":
            raise ValueError(f"{m['arch']} is not an upsampler")
        load_state_dict_strict(model, parts["model"])
    except (KeyError, TypeError, ValueError, RuntimeError, StateDictMismatch) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"The built-in upsampler in {folder} is damaged: {exc}") from exc
    log.info("built-in upsampler loaded from %s", folder)
    return model.to(device).eval().requires_grad_(False)


@functools.lru_cache(maxsize=4)
def load_upsampler(device: str = "cpu") -> nn.Module:
    """The shipped upsampler from resources/models, loaded once per device."""
    return load_upsampler_from(RESOURCE_DIR, str(device))


@functools.lru_cache(maxsize=4)
def load_embedded(device: str = "cpu") -> EmbeddedModel:
    """The shipped model from resources/models, loaded once per device."""
    return load_from(RESOURCE_DIR, str(device))


def generate(
    emb: EmbeddedModel,
    prompts: list[str],
    *,
    seed: int = 0,
    steps: int | None = None,
    guidance: float | None = None,
    n_points: int | None = None,
    sigma_max: float | None = None,
    sampler: str | None = None,
) -> torch.Tensor:
    """Sample one cloud per prompt at the shipped defaults -> (B, 6, N) in data space
    (xyz about +-0.5, RGB 0..255). For benches and tests; the app goes through engine.pipeline."""
    from engine.diffusion import NoiseSchedule, sample
    from engine.stages import Stage, sample_stages

    d = emb.defaults
    n = n_points or d.n_points
    with torch.no_grad():
        cond = text_conditioning(emb.encoder, emb.model, list(prompts))
    stage = Stage(
        name="base",
        model=emb.model,
        schedule=NoiseSchedule.from_name(d.schedule),
        n_points=n,
        cond=cond,
        guidance=d.guidance if guidance is None else guidance,
        steps=steps or d.steps,
        sigma_min=d.sigma_min,
        sigma_max=sigma_max or d.sigma_max,
        s_churn=d.s_churn,
        sampler=sampler or d.sampler,
    )
    config = emb.model.config
    emb.model.config = dataclasses.replace(config, n_ctx=n)  # a set model: any N works
    try:
        gen = torch.Generator().manual_seed(seed)
        return sample(sample_stages([stage], batch=len(prompts), generator=gen))
    finally:
        emb.model.config = config


def upsample(
    upsampler: nn.Module,
    low_res: torch.Tensor,
    *,
    seed: int = 0,
    steps: int | None = None,
    sampler: str | None = None,
    folder: Path = RESOURCE_DIR,
) -> torch.Tensor:
    """The built-in upsampler on base clouds (B, 6, 1024) -> (B, 6, 4096) in data space, the
    base points first, at the shipped defaults (folder/upsampler.json). For benches and
    tests; the app goes through engine.pipeline."""
    from engine.diffusion import NoiseSchedule, sample
    from engine.stages import Stage, sample_stages

    d = read_config(folder, UPSAMPLER_CONFIG).get("defaults", {})
    stage = Stage(
        name="upsample",
        model=upsampler,
        schedule=NoiseSchedule.from_name(d.get("schedule", "cosine")),
        n_points=upsampler.config.n_ctx,
        guidance=float(d.get("guidance", 0.0)),
        steps=steps or int(d.get("steps", 12)),
        sigma_min=float(d.get("sigma_min", 1e-3)),
        sigma_max=float(d.get("sigma_max", 20.0)),
        s_churn=float(d.get("s_churn", 0.0)),
        sampler=sampler or d.get("sampler", "heun"),
        uses_low_res=True,
        start=d.get("start", "noise"),
    )
    gen = torch.Generator().manual_seed(seed)
    return sample(sample_stages([stage], batch=low_res.shape[0], generator=gen, low_res=low_res))
