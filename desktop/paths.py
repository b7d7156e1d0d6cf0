"""Where the app keeps per-user files (POINTE_STUDIO_HOME overrides the folder)."""

from __future__ import annotations

from pathlib import Path

from engine.userdata import app_home

APP_NAME = "Point-E Studio"
ORG_NAME = "PointE-Studio"


def data_dir() -> Path:
    """The per-user data folder (engine.userdata), created on first use."""
    path = app_home()
    path.mkdir(parents=True, exist_ok=True)
    return path


def history_dir() -> Path:
    return data_dir() / "history"


def screenshots_dir() -> Path:
    path = data_dir() / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pictures_dir() -> Path:
    """Pictures handed to Image → 3D from the picture panel (drawn, replaced or edited)."""
    path = data_dir() / "pictures"
    path.mkdir(parents=True, exist_ok=True)
    return path
