"""One-command set-up: make .venv, install the pinned stack once, then run the app or the tests.

python3 packaging/bootstrap.py run    # set up if needed, open Point-E Studio
python3 packaging/bootstrap.py test   # set up if needed, run the whole test suite
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
# torch and torchvision move together: open_clip imports only beside the matching pair.
TORCH_PAIR = ["torch==2.14.1", "torchvision==0.29.1"]
APT_PACKAGES = [
    "xvfb",
    "xauth",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-cursor0",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-randr0",
    "libxkbcommon-x11-0",
    "libgl1-mesa-dri",
    "libegl1",
]


def venv_python() -> Path:
    sub = "Scripts/python.exe" if os.name == "nt" else "bin/python"
    return VENV / sub


def _stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(" ".join(TORCH_PAIR).encode())
    return digest.hexdigest()[:16]


def ensure_venv() -> Path:
    py = venv_python()
    stamp = VENV / f".installed-{_stamp()}"
    if stamp.exists():
        return py
    if sys.version_info < (3, 10):  # noqa: UP036  (this script runs on any system Python)
        sys.exit("Point-E Studio needs Python 3.10 or newer.")
    if not py.exists():
        print("Creating .venv …", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    print("Installing Point-E Studio and its dependencies (first run only) …", flush=True)
    pip = [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.check_call([*pip, *TORCH_PAIR])
    subprocess.check_call([*pip, "-e", f"{ROOT}[dev]", *TORCH_PAIR])
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    return py


def ensure_display_packages() -> None:
    """GUI tests need Xvfb and the xcb libraries on Linux; install them when we can (root)."""
    if platform.system() != "Linux" or shutil.which("Xvfb"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.check_call(["apt-get", "update", "-qq"], env=env)
        subprocess.check_call(["apt-get", "install", "-y", "-qq", *APT_PACKAGES], env=env)
    else:
        print("GUI tests need Xvfb: sudo apt-get install " + " ".join(APT_PACKAGES))


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    if what not in ("run", "test", "setup"):
        print(__doc__)
        return 2
    py = ensure_venv()
    os.chdir(ROOT)
    if what == "setup":
        return 0
    if what == "run":
        return subprocess.call([str(py), "main.py", *argv[1:]])
    ensure_display_packages()
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.call([str(py), "-m", "pytest", *argv[1:]], env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
