"""Windows (NSIS) and macOS (.dmg) installers from the bundle; Linux's are in linux_pkg.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NSIS_SCRIPT = HERE / "windows" / "installer.nsi"
DMG_SCRIPT = HERE / "macos" / "make_dmg.sh"
ICO = ROOT / "resources" / "icons" / "app.ico"


def makensis() -> str | None:
    """makensis on PATH, or in NSIS's default Windows folders."""
    found = shutil.which("makensis")
    if found:
        return found
    for folder in (r"C:\Program Files (x86)\NSIS", r"C:\Program Files\NSIS"):
        candidate = Path(folder) / "makensis.exe"
        if candidate.is_file():
            return str(candidate)
    return None


def nsis_command(bundle: Path, out: Path, *, version: str, tool: str = "makensis") -> list[str]:
    """The makensis command line (defines are passed with `-D`, which works on every OS)."""
    cmd = [tool, "-V2", f"-DVERSION={version}", f"-DBUNDLE={bundle}", f"-DOUTFILE={out}"]
    if ICO.is_file():
        cmd.append(f"-DICON={ICO}")
    return [*cmd, str(NSIS_SCRIPT)]


def build_nsis(bundle: Path, out: Path, *, version: str) -> Path:
    tool = makensis()
    if tool is None:
        raise RuntimeError("makensis not found: install NSIS (choco/apt install nsis)")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(nsis_command(bundle, out, version=version, tool=tool), check=True)
    return out


def build_dmg(app: Path, out: Path) -> Path:
    """The .dmg from the .app (macOS only: hdiutil)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sh", str(DMG_SCRIPT), str(app), str(out)], check=True)
    return out
