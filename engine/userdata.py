"""The per-user data folder and the app's own resources folder, for engine, CLI and window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Folder name under the platform's data directory (platformdirs).
APP_DIR_NAME = "pointe-studio"
#: Points the data folder elsewhere (tests, portable installs).
HOME_ENV = "POINTE_STUDIO_HOME"


def app_home() -> Path:
    """The per-user data folder (platformdirs), or $POINTE_STUDIO_HOME. Never the cwd."""
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def resources_dir() -> Path:
    """resources/ of the checkout, or of the PyInstaller bundle when frozen."""
    if getattr(sys, "frozen", False):
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"
