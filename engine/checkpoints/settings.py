"""Where the model store lives and its user-editable settings (mirrors, overrides), as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.errors import CheckpointError
from engine.fileio import atomic_write_text
from engine.userdata import app_home

MIRROR_ENV = "POINTE_MIRROR_URL"  # base URL(s), space or comma separated, tried first
APP_SETTINGS_FILE = "studio.json"  # in the app home: {"models_dir": "..."} moves the store
STORE_SETTINGS_FILE = "settings.json"  # in the store: mirrors and overrides (see StoreSettings)


def read_json(path: Path, default: Any) -> Any:
    """A JSON file's content, `default` when absent; a clear error when it is not valid JSON."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return default
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"{path} is not valid JSON ({exc}); fix or delete it.") from exc


def write_json(path: Path, data: Any) -> None:
    """Atomic write: temporary file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def models_dir() -> Path:
    """The store folder: the one chosen in settings, else <app home>/models."""
    chosen = read_json(app_home() / APP_SETTINGS_FILE, {}).get("models_dir")
    if chosen:
        return Path(chosen).expanduser().resolve()
    return app_home() / "models"


def set_models_dir(path: Path | str | None) -> None:
    """Move the store (for new files; existing ones are not moved). None restores the default."""
    settings_path = app_home() / APP_SETTINGS_FILE
    data = read_json(settings_path, {})
    if path is None:
        data.pop("models_dir", None)
    else:
        data["models_dir"] = str(Path(path).expanduser().resolve())
    write_json(settings_path, data)


def env_mirrors() -> list[str]:
    raw = os.environ.get(MIRROR_ENV, "")
    return [u for u in raw.replace(",", " ").split() if u]


class StoreSettings:
    """The store's settings.json, editable by hand or from the dialog:

    {"mirrors": {"sdf.pt": ["https://my.mirror/point-e/", ...]},  # replaces a file's list
     "extra_mirrors": ["https://lan-cache/"],                     # tried before any file's list
     "model_overrides": {"sdf": {"width": 32}}}                   # reduced/custom architectures
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        data = read_json(self.path, {})
        if not isinstance(data, dict):
            raise CheckpointError(f"{self.path} must hold a JSON object.")
        self.mirrors: dict[str, list[str]] = dict(data.get("mirrors", {}))
        self.extra_mirrors: list[str] = list(data.get("extra_mirrors", []))
        self.model_overrides: dict[str, dict[str, Any]] = dict(data.get("model_overrides", {}))

    def save(self) -> None:
        write_json(
            self.path,
            {
                "mirrors": self.mirrors,
                "extra_mirrors": self.extra_mirrors,
                "model_overrides": self.model_overrides,
            },
        )
