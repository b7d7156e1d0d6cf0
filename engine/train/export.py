"""Export a training checkpoint's EMA weights as the shipped safetensors file + JSON config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import save_file

from engine.fileio import atomic_path, atomic_write_text
from engine.train.captions import HELD_OUT
from engine.train.trainer import (
    MODEL_NAME,
    SCHEDULE,
    UPSAMPLE_FACTOR,
    UPSAMPLER_ARCH,
    TrainConfig,
    as_tuples,
    load_checkpoint,
)

WEIGHTS_FILE = "embedded.safetensors"
CONFIG_FILE = "embedded.json"
UPSAMPLER_WEIGHTS = "upsampler.safetensors"
UPSAMPLER_CONFIG = "upsampler.json"
FORMAT_VERSION = 1

# Sampling defaults of the shipped model (chosen with bench/embedded_speed.py and quality.py)
DEFAULTS = {
    "sampler": "heun",
    "schedule": "cosine",
    "steps": 24,
    "guidance": 1.5,
    "sigma_min": 1e-3,
    "sigma_max": 20.0,
    "s_churn": 0.0,
    "n_points": 1024,
}


# Sampling defaults of the built-in upsampler (unguided: it sees only the low-res cloud). It
# starts from three copies of each low-res point at sigma 0.2, the noise range it was trained
# on last (recipe.UPSAMPLER_RECIPE phase 4); 6 Heun steps scored as well as 12 (probe, 8
# prompts: Chamfer 0.1946 vs 0.1944, base 0.2221, its start with no network 0.2442).
UPSAMPLER_DEFAULTS = {
    "sampler": "heun",
    "schedule": "cosine",
    "steps": 6,
    "guidance": 0.0,
    "sigma_min": 1e-3,
    "sigma_max": 0.2,
    "s_churn": 0.0,
    "start": "low_res",
}


def upsampler_json(ckpt: dict, defaults: dict | None = None) -> dict:
    """What engine.embedded needs to rebuild the upsampler: sizes, point counts, defaults."""
    cfg = TrainConfig(**{k: as_tuples(v) for k, v in ckpt["config"].items()})
    return {
        "format": FORMAT_VERSION,
        "model": {
            "arch": UPSAMPLER_ARCH,
            "width": cfg.width,
            "layers": cfg.layers,
            "heads": cfg.heads,
            "low_res": 1024,
            "n_points": 1024 * (UPSAMPLE_FACTOR - 1),
        },
        "diffusion": {"schedule": SCHEDULE, "timesteps": 1024, "parameterization": "epsilon"},
        "defaults": dict(defaults or UPSAMPLER_DEFAULTS),
        "training": {
            "steps": int(ckpt["step"]),
            "minutes": round(float(ckpt["seconds"]) / 60, 1),
            "seed": cfg.seed,
            "ema": cfg.ema,
            "variance_channels": "channels 6-11 untrained (exactly zero)",
        },
    }


def config_json(ckpt: dict, defaults: dict | None = None) -> dict:
    """The JSON that lets engine.embedded rebuild both networks without running any code."""
    cfg = TrainConfig(**{k: as_tuples(v) for k, v in ckpt["config"].items()})
    return {
        "format": FORMAT_VERSION,
        "model": {
            "name": MODEL_NAME,
            "width": cfg.width,
            "layers": cfg.layers,
            "heads": cfg.heads,
            "n_ctx": 1024,
            "clip_dim": cfg.cond_dim,
            "token_cond": cfg.token_cond,
            "phrase_tokens": cfg.phrase_tokens,
        },
        "encoder": {
            "vocab": list(ckpt["vocab"]),
            "width": cfg.enc_width,
            "layers": cfg.enc_layers,
            "heads": max(1, cfg.enc_width // 16),
            "out_dim": cfg.cond_dim,
            "mode": cfg.enc_mode,
        },
        "diffusion": {"schedule": SCHEDULE, "timesteps": 1024, "parameterization": "epsilon"},
        "defaults": dict(defaults or DEFAULTS),
        "training": {
            "steps": int(ckpt["step"]),
            "minutes": round(float(ckpt["seconds"]) / 60, 1),
            "seed": cfg.seed,
            "ema": cfg.ema,
            "held_out": sorted(f"{c} {k}" for k, c in HELD_OUT),
            "variance_channels": "channels 6-11 untrained (exactly zero)",
        },
    }


def export_checkpoint(ckpt_path: Path, out_dir: Path, defaults: dict | None = None) -> list[Path]:
    """Write out_dir/embedded.safetensors (EMA weights, keys `model.*`/`encoder.*`) and
    out_dir/embedded.json, each atomically; an upsampler checkpoint writes
    upsampler.safetensors (keys `model.*`) and upsampler.json. Returns the two paths."""
    ckpt = load_checkpoint(ckpt_path)
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in ckpt["ema"].items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    if ckpt["config"].get("kind") == "upsampler":
        weights, config = out_dir / UPSAMPLER_WEIGHTS, out_dir / UPSAMPLER_CONFIG
        meta = upsampler_json(ckpt, defaults)
    else:
        weights, config = out_dir / WEIGHTS_FILE, out_dir / CONFIG_FILE
        meta = config_json(ckpt, defaults)
    with atomic_path(weights) as tmp:
        save_file(tensors, str(tmp), metadata={"format": str(FORMAT_VERSION)})
        os.chmod(tmp, 0o644)
    atomic_write_text(config, json.dumps(meta, indent=1) + "\n")
    return [weights, config]
