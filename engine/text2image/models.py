"""Where text-to-image weights live: catalogue name, local folder or the Hugging Face cache."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine.text2image.catalog import TEXT2IMAGE_DEFAULT

log = logging.getLogger(__name__)

_WEIGHT_SUFFIXES = (".safetensors", ".bin")


def missing_parts(folder: Path) -> list[str]:
    """What a diffusers pipeline folder lacks to load ([] when complete)."""
    index = folder / "model_index.json"
    if not index.is_file():
        return ["model_index.json"]
    try:
        components = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ["model_index.json (unreadable)"]
    missing = []
    for key, value in components.items():
        if key.startswith("_") or not isinstance(value, list) or None in value:
            continue  # metadata, flags, or an optional component left out (safety checker)
        part = folder / key
        if not part.is_dir():
            missing.append(f"{key}/")
        elif (part / "config.json").is_file() and not any(
            p.name.endswith(_WEIGHT_SUFFIXES) for p in part.iterdir()
        ):
            missing.append(f"{key}/ weights")
    return missing


def _store_folder(name: str) -> Path | None:
    """The model store's folder for catalogue name `name`, when it is a text2image entry."""
    try:
        from engine.checkpoints import default_store, get_entry

        if get_entry(name).kind != "text2image":
            return None
        return default_store().model_dir(name)
    except (ValueError, KeyError, OSError):
        return None


def _hf_cache_folder(repo_id: str) -> Path | None:
    """The newest snapshot of `repo_id` in the Hugging Face cache, never touching the network."""
    if repo_id.count("/") != 1:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(repo_id, "model_index.json")
    except Exception:  # a malformed id or a cache we cannot read: not installed
        return None
    return Path(hit).parent if isinstance(hit, str) else None


def resolve_model(model: str) -> Path | None:
    """The local diffusers folder for a catalogue name, repo id or path; None if not found.

    The default repo id also finds the model store's copy, so a download from the Models
    dialog and one made with diffusers both count."""
    path = Path(model).expanduser()
    if path.is_dir():
        return None if missing_parts(path) else path
    candidates: list[Path | None] = []
    if model in (TEXT2IMAGE_DEFAULT["name"], TEXT2IMAGE_DEFAULT["repo_id"]):
        candidates.append(_store_folder(TEXT2IMAGE_DEFAULT["name"]))
    elif "/" not in model:
        candidates.append(_store_folder(model))
    if model == TEXT2IMAGE_DEFAULT["name"]:
        model = TEXT2IMAGE_DEFAULT["repo_id"]
    candidates.append(_hf_cache_folder(model))
    for folder in candidates:
        if folder is not None and folder.is_dir() and not missing_parts(folder):
            return folder
    return None


def is_installed(model: str) -> bool:
    """Whether `model` (catalogue name, repo id or folder) can be loaded without the network."""
    return resolve_model(model) is not None


def catalogue_name(model: str) -> str:
    """The name to offer for download when `model` is missing (the default's catalogue name)."""
    if model in (TEXT2IMAGE_DEFAULT["name"], TEXT2IMAGE_DEFAULT["repo_id"]):
        return TEXT2IMAGE_DEFAULT["name"]
    return model
