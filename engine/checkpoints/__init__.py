"""Official model files: catalogue, resumable downloads, safe loading, offline import, the store."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from pathlib import Path

from engine.checkpoints.catalog import (
    CLIP_NAME,
    POINTE_NAMES,
    ModelEntry,
    ModelFile,
    all_entries,
    get_entry,
    register_model,
)
from engine.checkpoints.download import DownloadCancelled, DownloadProgress
from engine.checkpoints.settings import models_dir, set_models_dir
from engine.checkpoints.store import ModelStore, VerifyResult
from engine.errors import CheckpointError, ModelNotInstalled

__all__ = [
    "CLIP_NAME",
    "POINTE_NAMES",
    "CheckpointError",
    "DownloadCancelled",
    "DownloadProgress",
    "ModelEntry",
    "ModelFile",
    "ModelNotInstalled",
    "ModelStore",
    "VerifyResult",
    "all_entries",
    "default_store",
    "get_entry",
    "load_official_model",
    "missing_models",
    "models_dir",
    "register_model",
    "set_models_dir",
]


def default_store(root: Path | str | None = None) -> ModelStore:
    """The user's store: `root`, else the folder from settings, $POINTE_STUDIO_HOME/models or
    the platformdirs data folder. Never the working directory."""
    return ModelStore(root if root is not None else models_dir())


def missing_models(names: Iterable[str], store: ModelStore | None = None) -> list[str]:
    """The names (in order, once each) that are not installed; unknown names raise ValueError."""
    store = store or default_store()
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        get_entry(name)
    return [n for n in wanted if not store.is_installed(n)]


def load_official_model(name: str, *, device: str = "cpu", store: ModelStore | None = None):
    """Build the Point-E network `name`, load its installed weights strictly, in eval mode.

    Raises ModelNotInstalled when missing, CheckpointError when the file does not fit."""
    from engine.models import StateDictMismatch, build_model, check_state_dict

    store = store or default_store()
    if get_entry(name).kind != "pointe":
        raise ValueError(f"{name} is not a Point-E model; load it with its own engine")
    state_dict = store.load_state_dict(name)
    overrides = store.overrides_for(name)
    model = build_model(name, device="meta", **overrides)  # no time spent on random init
    try:
        check_state_dict(model, state_dict)
        model.load_state_dict(state_dict, strict=True, assign=True)
    except (StateDictMismatch, RuntimeError) as exc:
        raise CheckpointError(
            f"{store.model_path(name)} does not fit {name}: {exc}. Download it again: "
            f"`python main.py models download {name}`."
        ) from exc
    if any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers())):
        # A buffer the file does not hold (non-persistent): build for real and copy the weights.
        model = build_model(name, device="cpu", **overrides)
        model.load_state_dict(state_dict, strict=True)
    return model.to(device).eval()
