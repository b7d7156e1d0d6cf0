"""A model store with tiny random base40M, upsample and CLIP installed the normal way (tests)."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from engine.checkpoints import CLIP_NAME, ModelStore, default_store
from engine.models import build_model
from tests.engine.tiny_models import tiny_clip_config, tiny_clip_name, tiny_open_clip

CLIP_WIDTH = 32
BASE = {"width": 32, "layers": 1, "heads": 2, "n_ctx": 64, "clip_dim": CLIP_WIDTH}
UP = {**BASE, "n_ctx": 192, "cond_ctx": 64}


def _save_random(name: str, overrides: dict, path: Path, seed: int) -> None:
    torch.manual_seed(seed)
    model = build_model(name, **overrides)
    torch.nn.init.normal_(model.output_proj.weight, std=0.3)
    torch.save(model.state_dict(), path)


def build_tiny_store(root: Path, src: Path) -> ModelStore:
    """Write settings.json (reduced architectures) then install the three files into `root`."""
    from safetensors.torch import save_file

    root.mkdir(parents=True, exist_ok=True)
    name = tiny_clip_name(width=CLIP_WIDTH)
    config_path = src / f"{name}.json"
    config_path.write_text(json.dumps(tiny_clip_config(width=CLIP_WIDTH)))
    overrides = {
        "base40M": BASE,
        "upsample": UP,
        CLIP_NAME: {"model_name": name, "model_config": str(config_path)},
    }
    (root / "settings.json").write_text(json.dumps({"model_overrides": overrides}))
    store = default_store(root)
    _save_random("base40M", BASE, src / "base_40m.pt", 1)
    _save_random("upsample", UP, src / "upsample_40m.pt", 2)
    clip = tiny_open_clip(seed=3, width=CLIP_WIDTH)
    save_file(
        {k: v.contiguous() for k, v in clip.state_dict().items()},
        src / "open_clip_model.safetensors",
    )
    store.install_file("base40M", src / "base_40m.pt", origin="test")
    store.install_file("upsample", src / "upsample_40m.pt", origin="test")
    store.install_file(CLIP_NAME, src / "open_clip_model.safetensors", origin="test")
    return store
