"""Where the app keeps per-user files (POINTE_STUDIO_HOME overrides the folder)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "Point-E Studio"
ORG_NAME = "PointE-Studio"
HOME_ENV = "POINTE_STUDIO_HOME"


def data_dir() -> Path:
    """The per-user data folder; tests and portable installs point POINTE_STUDIO_HOME elsewhere."""
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir("pointe-studio", appauthor=False))
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
