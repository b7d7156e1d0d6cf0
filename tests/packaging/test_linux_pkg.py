"""The .deb staging tree and the per-user .tar.gz install script, over a stand-in bundle (fast)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import linux_pkg
import pytest

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb not installed")


def control_fields(text: str) -> dict[str, str]:
    fields, key = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


def test_deb_staging_tree_layout(stand_in: Path, tmp_path: Path) -> None:
    stage = linux_pkg.stage_deb(stand_in, tmp_path / "stage", version="1.2.3", arch="amd64")
    app = stage / "opt/pointe-studio"
    assert (app / "pointe-studio").is_file() and os.access(app / "pointe-studio", os.X_OK)
    assert (app / "_internal/torch/lib/libtorch_cpu.so").is_file()
    launcher = stage / "usr/bin/pointe-studio"
    assert launcher.is_symlink() and os.readlink(launcher) == "/opt/pointe-studio/pointe-studio"
    for path in linux_pkg.DEB_FILES:
        assert (stage / path.lstrip("/")).is_symlink() or (stage / path.lstrip("/")).is_file()
    entry = (stage / "usr/share/applications/pointe-studio.desktop").read_text()
    assert "Exec=pointe-studio\n" in entry and "Icon=pointe-studio\n" in entry
    assert "TryExec=/usr/bin/pointe-studio\n" in entry and "@" not in entry
    png = stage / "usr/share/icons/hicolor/256x256/apps/pointe-studio.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fields = control_fields((stage / "DEBIAN/control").read_text())
    assert fields["Package"] == "pointe-studio" and fields["Version"] == "1.2.3"
    assert fields["Architecture"] == "amd64"
    assert "libxcb-cursor0" in fields["Depends"] and fields["Depends"].startswith("libc6 (>= ")
    assert int(fields["Installed-Size"]) > 0
    for script in ("postinst", "postrm"):
        path = stage / "DEBIAN" / script
        assert path.stat().st_mode & 0o777 == 0o755
        assert path.read_text().startswith("#!/bin/sh\nset -e\n")
    assert not any(p.name.startswith(".") for p in stage.rglob("*"))


def test_deb_staging_hard_links_the_bundle(stand_in: Path, tmp_path: Path) -> None:
    stage = linux_pkg.stage_deb(stand_in, tmp_path / "stage", version="1.0", arch="amd64")
    lib = "_internal/torch/lib/libtorch_cpu.so"
    assert (stage / "opt/pointe-studio" / lib).stat().st_ino == (stand_in / lib).stat().st_ino


@needs_dpkg
def test_deb_builds_with_zstd_and_lists_its_files(stand_in: Path, tmp_path: Path) -> None:
    stage = linux_pkg.stage_deb(stand_in, tmp_path / "stage", version="1.0", arch="amd64")
    deb = linux_pkg.build_deb(stage, tmp_path / "out" / "pointe-studio_1.0_amd64.deb")
    members = subprocess.run(["ar", "t", str(deb)], capture_output=True, text=True).stdout
    assert "data.tar.zst" in members.split()
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True)
    assert listing.returncode == 0
    assert "root/root" in listing.stdout  # --root-owner-group
    for path in ["/opt/pointe-studio/pointe-studio", *linux_pkg.DEB_FILES]:
        assert f".{path}" in listing.stdout
    info = subprocess.run(["dpkg-deb", "-f", str(deb), "Package"], capture_output=True, text=True)
    assert info.stdout.strip() == "pointe-studio"


def test_desktop_entry_is_valid(stand_in: Path, tmp_path: Path) -> None:
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate not installed (apt install desktop-file-utils)")
    stage = linux_pkg.stage_deb(stand_in, tmp_path / "stage", version="1.0", arch="amd64")
    entry = stage / "usr/share/applications/pointe-studio.desktop"
    result = subprocess.run([validate, str(entry)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="tar")
        top = {m.name.split("/")[0] for m in tar.getmembers()}
    assert len(top) == 1, top
    return into / top.pop()


def test_tarball_install_script_installs_upgrades_and_uninstalls(
    stand_in: Path, tmp_path: Path
) -> None:
    archive = linux_pkg.make_tarball(
        stand_in, tmp_path / "pointe-studio-1.0-linux-x86_64.tar.gz", version="1.0",
        stage_root=tmp_path / "stage",
    )  # fmt: skip
    unpacked = _unpack(archive, tmp_path / "unpacked")
    assert (unpacked / "app/pointe-studio").is_file() and (unpacked / "install.sh").is_file()
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    local = home / ".local"
    installed = [
        local / "opt/pointe-studio/pointe-studio",
        local / "bin/pointe-studio",
        local / "share/applications/pointe-studio.desktop",
        local / "share/icons/hicolor/256x256/apps/pointe-studio.png",
        local / "share/icons/hicolor/scalable/apps/pointe-studio.svg",
    ]
    for _round in ("install", "upgrade"):
        run = subprocess.run(["sh", str(unpacked / "install.sh")], env=env, capture_output=True)
        assert run.returncode == 0, run.stderr
        assert all(p.exists() for p in installed), [p for p in installed if not p.exists()]
        assert not (local / "opt/pointe-studio.new").exists()
    entry = (local / "share/applications/pointe-studio.desktop").read_text()
    assert f'Exec="{local}/opt/pointe-studio/pointe-studio"' in entry
    check = subprocess.run(
        [str(local / "bin/pointe-studio"), "--selftest"], env=env, capture_output=True, text=True
    )
    assert check.returncode == 0 and check.stdout.startswith("SELFTEST OK")

    run = subprocess.run(["sh", str(unpacked / "install.sh"), "--uninstall"], env=env)
    assert run.returncode == 0
    assert not any(p.exists() or p.is_symlink() for p in installed)
    assert not (local / "opt/pointe-studio").exists()


def test_tarball_install_script_honours_prefix(stand_in: Path, tmp_path: Path) -> None:
    archive = linux_pkg.make_tarball(
        stand_in, tmp_path / "p-1.0.tar.gz", version="1.0", stage_root=tmp_path / "stage"
    )
    unpacked = _unpack(archive, tmp_path / "unpacked")
    prefix = tmp_path / "elsewhere"
    env = {"HOME": str(tmp_path / "nohome"), "PATH": os.environ["PATH"], "PREFIX": str(prefix)}
    assert subprocess.run(["sh", str(unpacked / "install.sh")], env=env).returncode == 0
    assert (prefix / "bin/pointe-studio").is_symlink()
    assert not (tmp_path / "nohome").exists()
    bad = subprocess.run(["sh", str(unpacked / "install.sh"), "--bogus"], env=env)
    assert bad.returncode == 2
