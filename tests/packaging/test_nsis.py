"""The Windows installer script compiles with makensis over a stand-in bundle (no Windows)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import installers
import pytest

SCRIPT = installers.NSIS_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture
def makensis() -> str:
    tool = installers.makensis()
    if tool is None:
        pytest.skip("makensis not installed (apt-get install nsis)")
    return tool


def test_nsis_compiles_over_a_stand_in_bundle(
    makensis: str, stand_in_windows: Path, tmp_path: Path
) -> None:
    out = tmp_path / "PointE-Studio-Setup.exe"
    cmd = installers.nsis_command(stand_in_windows, out, version="1.2.3", tool=makensis)
    result = subprocess.run([*cmd[:1], "-WX", *cmd[1:]], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr  # -WX: warnings are errors
    data = out.read_bytes()
    assert data[:2] == b"MZ" and len(data) > 30_000
    assert "1.2.3".encode("utf-16-le") in data  # the version resource


def test_nsis_refuses_without_a_bundle(makensis: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [makensis, "-V1", f"-DOUTFILE={tmp_path / 'x.exe'}", str(installers.NSIS_SCRIPT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert not (tmp_path / "x.exe").exists()


def test_nsis_script_is_per_user_with_shortcuts_and_uninstaller() -> None:
    assert "RequestExecutionLevel user" in SCRIPT
    assert 'InstallDir "$LOCALAPPDATA\\Programs\\${APPNAME}"' in SCRIPT
    assert "HKLM" not in SCRIPT  # nothing that needs administrator rights
    assert '"$SMPROGRAMS\\${APPNAME}.lnk"' in SCRIPT
    assert 'Section /o "Desktop shortcut"' in SCRIPT  # optional, off by default
    assert "WriteUninstaller" in SCRIPT and 'Section "Uninstall"' in SCRIPT
    # an upgrade first drops the old program files; user data lives elsewhere
    install = SCRIPT.split('Section "${APPNAME} (required)"')[1].split("SectionEnd")[0]
    assert install.index('RMDir /r "$INSTDIR\\_internal"') < install.index("File /r")
    assert "pointe-studio-cli.exe" in SCRIPT
