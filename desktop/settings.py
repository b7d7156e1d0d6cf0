"""Persistent preferences (QSettings): generation knobs, viewer look, prompts, layout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from desktop.availability import DEFAULT_IMAGE_MODEL
from desktop.paths import APP_NAME, ORG_NAME
from engine.text2image.catalog import DEFAULT_NEGATIVE_PROMPT
from engine.userdata import HOME_ENV

MAX_PROMPT_HISTORY = 30

# key -> default; the default's type is the type a value is read back as
DEFAULTS: dict[str, Any] = {
    "generation/mode": "text",
    "generation/model": "embedded",
    "generation/seed": 0,
    "generation/steps": 0,  # 0 = the model's default
    "generation/preset": "official",
    "generation/guidance_override": -1.0,  # < 0 = the model's tuned guidance
    "generation/upsample": True,
    "generation/sampler": "",  # "" = the preset's sampler
    "generation/device": "cpu",
    "generation/precision": "float32",
    "generation/low_vram": False,
    "picture/model": DEFAULT_IMAGE_MODEL,  # text-to-image model: name, repo id or folder
    "picture/template": "",  # "" = the engine's default template
    "picture/negative": DEFAULT_NEGATIVE_PROMPT,
    "picture/steps": 0,  # 0 = the model's default
    "picture/remove_background": True,
    "picture/review_first": False,  # Generate stops after the picture
    "view/point_size": 5,
    "view/color_mode": "rgb",
    "view/single_color": "#4c9be8",
    "view/edl": False,
    "view/background": "dark",
    "view/grid": True,
    "view/axes": True,
}


def open_qsettings(path: Path | None = None) -> QSettings:
    """An ini file under POINTE_STUDIO_HOME (tests, portable use) or the platform's native store."""
    if path is None and os.environ.get(HOME_ENV):
        path = Path(os.environ[HOME_ENV]) / "settings.ini"
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORG_NAME, APP_NAME)


def _coerce(value: Any, default: Any) -> Any:
    """Ini files give strings back; turn them into the default's type, or the default if garbled."""
    if value is None:
        return default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                return value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, str):
            return str(value)
    except (TypeError, ValueError):
        return default
    return value


class Settings:
    """Typed access to the app's QSettings, with defaults for every known key."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else open_qsettings()

    def get(self, key: str) -> Any:
        default = DEFAULTS[key]
        return _coerce(self.q.value(key, default), default)

    def set(self, key: str, value: Any) -> None:
        if key not in DEFAULTS:
            raise KeyError(f"unknown setting {key!r}")
        self.q.setValue(key, value)

    def prompt_history(self) -> list[str]:
        value = self.q.value("generation/prompt_history", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if str(v).strip()][:MAX_PROMPT_HISTORY]

    def remember_prompt(self, prompt: str) -> list[str]:
        """Move the prompt to the front of the history (deduplicated, capped)."""
        prompt = prompt.strip()
        history = [p for p in self.prompt_history() if p != prompt]
        if prompt:
            history.insert(0, prompt)
        history = history[:MAX_PROMPT_HISTORY]
        self.q.setValue("generation/prompt_history", history)
        return history

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        geometry = self.q.value("window/geometry")
        state = self.q.value("window/state")
        ok = lambda v: v if isinstance(v, QByteArray) and not v.isEmpty() else None  # noqa: E731
        return ok(geometry), ok(state)

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.q.setValue("window/geometry", geometry)
        self.q.setValue("window/state", state)

    def sync(self) -> None:
        self.q.sync()
