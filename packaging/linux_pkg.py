"""Linux installers from the one-folder bundle: a .deb (dpkg-deb) and a per-user .tar.gz.

The .deb puts the app under /opt/pointe-studio, a launcher link at /usr/bin/pointe-studio, and a
menu entry and icons under /usr/share; `dpkg -r` removes all of it. The .tar.gz holds the same
folder with install.sh, which installs into ~/.local for distributions without dpkg.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PACKAGE = "pointe-studio"
PREFIX = "/opt/pointe-studio"
ICON_PNG = ROOT / "resources" / "icons" / "app.png"
ICON_SVG = ROOT / "resources" / "icons" / "app.svg"
DESKTOP_TEMPLATE = HERE / "linux" / "pointe-studio.desktop.in"
INSTALL_SH = HERE / "linux" / "install.sh"

# Libraries Qt's xcb platform plugin and VTK's OpenGL need that a minimal system may lack.
DEPENDS = [
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-randr0",
]
RECOMMENDS = ["libgl1-mesa-dri"]  # software OpenGL where there is no GPU driver

# The files the .deb installs outside /opt (tests check that dpkg -r removes them).
DEB_FILES = [
    "/usr/bin/pointe-studio",
    "/usr/share/applications/pointe-studio.desktop",
    "/usr/share/icons/hicolor/256x256/apps/pointe-studio.png",
    "/usr/share/icons/hicolor/scalable/apps/pointe-studio.svg",
    "/usr/share/doc/pointe-studio/copyright",
]

_REFRESH = """\
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
"""


def deb_arch() -> str:
    if shutil.which("dpkg"):
        out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def glibc_version() -> str:
    name, version = platform.libc_ver()
    return version if name == "glibc" and version else "2.31"


def copy_tree(src: Path, dst: Path) -> None:
    """Copy a folder, hard-linking files where possible (same file system: no extra space)."""

    def link_or_copy(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, symlinks=True, copy_function=link_or_copy)


def desktop_entry(exec_cmd: str, tryexec: str) -> str:
    text = DESKTOP_TEMPLATE.read_text(encoding="utf-8")
    return text.replace("@EXEC@", exec_cmd).replace("@TRYEXEC@", tryexec)


def _tree_kib(folder: Path) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(dirpath) / name
            total += 0 if path.is_symlink() else path.stat().st_size
    return (total + 1023) // 1024


def control_text(version: str, arch: str, installed_kib: int) -> str:
    fields = {
        "Package": PACKAGE,
        "Version": version,
        "Section": "graphics",
        "Priority": "optional",
        "Architecture": arch,
        "Maintainer": "Point-E Studio developers <pointe-studio@users.noreply.github.com>",
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join([f"libc6 (>= {glibc_version()})", *DEPENDS]),
        "Recommends": ", ".join(RECOMMENDS),
        "Homepage": "https://github.com/pointe-studio/pointe-studio",
        "Description": "text or picture to coloured 3D point cloud and printable mesh\n"
        " Point-E Studio runs OpenAI's Point-E and a small built-in model locally: type a\n"
        " prompt, watch the point cloud form, export PLY/GLB or a printable mesh.\n"
        " Self-contained: Python, torch (with CUDA) and Qt are inside /opt/pointe-studio.",
    }
    return "".join(f"{key}: {value}\n" for key, value in fields.items())


def stage_deb(bundle: Path, stage: Path, *, version: str, arch: str | None = None) -> Path:
    """Lay out the package tree (DEBIAN/ + files) in `stage`; the bundle is hard-linked in."""
    if stage.exists():
        shutil.rmtree(stage)
    app = stage / PREFIX.lstrip("/")
    app.parent.mkdir(parents=True)
    copy_tree(bundle, app)
    for folder in ("usr/bin", "usr/share/applications", "usr/share/doc/pointe-studio"):
        (stage / folder).mkdir(parents=True, exist_ok=True)
    (stage / "usr/bin/pointe-studio").symlink_to(f"{PREFIX}/pointe-studio")
    entry = stage / "usr/share/applications/pointe-studio.desktop"
    entry.write_text(desktop_entry("pointe-studio", "/usr/bin/pointe-studio"), encoding="utf-8")
    for size_dir, src, ext in (("256x256", ICON_PNG, "png"), ("scalable", ICON_SVG, "svg")):
        dest = stage / f"usr/share/icons/hicolor/{size_dir}/apps/pointe-studio.{ext}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    (stage / "usr/share/doc/pointe-studio/copyright").write_text(
        "Point-E Studio: MIT licence. Bundled third-party libraries keep their own licences\n"
        "(see the dist-info folders under /opt/pointe-studio/_internal).\n",
        encoding="utf-8",
    )
    for path in stage.rglob("*"):  # hard links share modes with the bundle: touch only odd ones
        if not path.is_symlink():
            mode = 0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644
            if path.stat().st_mode & 0o7777 != mode:
                path.chmod(mode)
    debian = stage / "DEBIAN"
    debian.mkdir(mode=0o755)
    installed = _tree_kib(stage)
    (debian / "control").write_text(control_text(version, arch or deb_arch(), installed))
    for script in ("postinst", "postrm"):
        path = debian / script
        path.write_text("#!/bin/sh\nset -e\n" + _REFRESH, encoding="utf-8")
        path.chmod(0o755)
    return stage


def build_deb(stage: Path, out: Path, *, level: int = 3) -> Path:
    """dpkg-deb with zstd (level 3 packs CUDA libraries to about a third, in minutes on 2 cores)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["dpkg-deb", "--root-owner-group", "-Zzstd", f"-z{level}"]
    cmd += [f"--threads-max={os.cpu_count() or 1}", "--build", str(stage), str(out)]
    subprocess.run(cmd, check=True)
    return out


def make_tarball(bundle: Path, out: Path, *, version: str, stage_root: Path) -> Path:
    """pointe-studio-<version>-linux-<arch>.tar.gz: app/, install.sh, the menu entry, icons."""
    top = out.name.removesuffix(".tar.gz")
    stage = stage_root / top
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    copy_tree(bundle, stage / "app")
    shutil.copy2(INSTALL_SH, stage / "install.sh")
    (stage / "install.sh").chmod(0o755)
    shutil.copyfile(DESKTOP_TEMPLATE, stage / "pointe-studio.desktop.in")
    (stage / "icons").mkdir()
    shutil.copyfile(ICON_PNG, stage / "icons" / "pointe-studio.png")
    shutil.copyfile(ICON_SVG, stage / "icons" / "pointe-studio.svg")
    (stage / "README.txt").write_text(
        f"Point-E Studio {version}\n\n"
        "Install for your user (no root needed):  ./install.sh\n"
        "Remove again:                            ./install.sh --uninstall\n"
        "Or run it in place:                      ./app/pointe-studio\n",
        encoding="utf-8",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    compressor = ["--use-compress-program=pigz"] if shutil.which("pigz") else ["-z"]
    cmd = ["tar", "--owner=0", "--group=0", "--numeric-owner", *compressor]
    subprocess.run([*cmd, "-cf", str(out), "-C", str(stage_root), top], check=True)
    shutil.rmtree(stage)
    return out
