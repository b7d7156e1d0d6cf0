"""One command for installers: the PyInstaller bundle, then this OS's installer.

    python packaging/build.py                 # bundle + installers (Linux: .deb and .tar.gz,
                                              #   Windows: NSIS setup .exe, macOS: .app + .dmg)
    python packaging/build.py --selftest      # ... and run the frozen app's --selftest
    python packaging/build.py --if-stale --formats deb   # reuse a bundle built from this source

Prints the size of every large component of the bundle, what was left out and why, and the time
each step took. Results land in dist/ (git-ignored); PyInstaller's work files in build/.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bundle_check  # noqa: E402
import installers  # noqa: E402
import linux_pkg  # noqa: E402
import sizes  # noqa: E402

SPEC = HERE / "pointe_studio.spec"
BUNDLE_NAME = "PointE-Studio"
APP_NAME = "Point-E Studio.app"
# What a bundle is built from: a change here makes an existing bundle stale.
SOURCES = ["main.py", "pyproject.toml", "engine", "desktop", "cli", "resources"]
SOURCES += [f"packaging/{n}" for n in ("pointe_studio.spec", "slim.py", "cuda_stubs.py")]
SOURCES += ["packaging/bundle_check.py"]
DEFAULT_FORMATS = {"linux": ["deb", "tar.gz"], "win32": ["nsis"], "darwin": ["dmg"]}


def platform_key() -> str:
    return "linux" if sys.platform.startswith("linux") else sys.platform


def project_version() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else "0.0.0"


def source_digest(root: Path = ROOT) -> str:
    """A hash of every source file the bundle is made from (names and contents)."""
    digest = hashlib.sha256()
    for entry in SOURCES:
        base = root / entry
        paths = [base] if base.is_file() else sorted(base.rglob("*")) if base.is_dir() else []
        for path in paths:
            if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    from importlib import metadata  # the installed packages are built in too

    for dist in sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()):
        digest.update(dist.encode())
    return digest.hexdigest()[:20]


def stamp_path(dist: Path) -> Path:
    return dist / f"{BUNDLE_NAME}.stamp"


def bundle_is_fresh(dist: Path) -> bool:
    """True when dist/ holds a complete bundle built from exactly this source."""
    stamp = stamp_path(dist)
    exe = dist / BUNDLE_NAME / ("pointe-studio.exe" if os.name == "nt" else "pointe-studio")
    return exe.is_file() and stamp.is_file() and stamp.read_text().strip() == source_digest()


def executable(dist: Path, *, console: bool = True) -> Path:
    """The frozen app to run for a check (Windows: the console twin, so output is visible)."""
    bundle = dist / BUNDLE_NAME
    if os.name == "nt":
        return bundle / ("pointe-studio-cli.exe" if console else "pointe-studio.exe")
    return bundle / "pointe-studio"


class Steps:
    """Times each step and prints a summary at the end."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.done: list[tuple[str, float, str]] = []

    def run(self, title: str, fn, *args, **kwargs):
        print(f"\n== {title}", flush=True)
        t0 = time.monotonic()
        result = fn(*args, **kwargs)
        seconds = time.monotonic() - t0
        note = ""
        if isinstance(result, Path) and result.is_file():
            note = f"{result.name}: {result.stat().st_size / 1e9:.2f} GB"
        self.done.append((title, seconds, note))
        print(f"   {title}: {seconds / 60:.1f} min {note}", flush=True)
        return result

    def summary(self) -> None:
        print("\n== Summary")
        for title, seconds, note in self.done:
            print(f"  {seconds / 60:6.1f} min  {title:<34} {note}")
        print(f"  {(time.monotonic() - self.start) / 60:6.1f} min  total", flush=True)


def run_pyinstaller(dist: Path, work: Path) -> Path:
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
    cmd += ["--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    stamp_path(dist).unlink(missing_ok=True)
    return dist / BUNDLE_NAME


def post_process(bundle: Path) -> None:
    """Link duplicate libraries, then check every library still finds what it links against."""
    if platform_key() != "linux":  # the .app's layout (and its signature) is PyInstaller's
        return
    saved = bundle_check.dedupe(bundle)
    print(f"   identical library copies turned into links: {saved / 1e6:.0f} MB saved")
    if not shutil.which("readelf"):
        return
    missing = bundle_check.unresolved(bundle, providable=bundle_check.site_package_libs())
    for lib, soname in missing:
        print(f"   MISSING: {lib} needs {soname}")
    if missing:
        raise SystemExit(f"{len(missing)} linked libraries are missing from the bundle")
    print("   every bundled library finds the libraries it links against")


def selftest(dist: Path, timeout: float = 600) -> None:
    cmd = [str(executable(dist)), "--selftest"]
    if platform_key() == "linux" and not os.environ.get("DISPLAY") and shutil.which("xvfb-run"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", *cmd]
    result = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-4000:])
        raise SystemExit(f"the frozen app's --selftest failed (exit {result.returncode})")


def make_installers(formats: list[str], dist: Path, work: Path, steps: Steps) -> list[Path]:
    bundle = dist / BUNDLE_NAME
    version = project_version()
    made = []
    if "deb" in formats:
        arch = linux_pkg.deb_arch()
        stage = work / "deb-root"
        steps.run("stage .deb tree", linux_pkg.stage_deb, bundle, stage, version=version)
        out = dist / f"{linux_pkg.PACKAGE}_{version}_{arch}.deb"
        made.append(steps.run("dpkg-deb -Zzstd", linux_pkg.build_deb, stage, out))
        shutil.rmtree(stage)
    if "tar.gz" in formats:
        arch = os.uname().machine
        out = dist / f"{linux_pkg.PACKAGE}-{version}-linux-{arch}.tar.gz"
        made.append(
            steps.run(
                "tar.gz + install.sh",
                linux_pkg.make_tarball,
                bundle,
                out,
                version=version,
                stage_root=work / "tar-root",
            )
        )
    if "nsis" in formats:
        out = dist / "PointE-Studio-Setup.exe"
        nsis = installers.build_nsis
        made.append(steps.run("NSIS installer", nsis, bundle, out, version=version))
    if "dmg" in formats:
        out = dist / f"PointE-Studio-{version}.dmg"
        made.append(steps.run(".dmg", installers.build_dmg, dist / APP_NAME, out))
    return made


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--work", type=Path, default=ROOT / "build", help="work folder")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--skip-bundle", action="store_true", help="reuse the bundle in --dist")
    group.add_argument(
        "--if-stale", action="store_true", help="rebuild the bundle only if the source changed"
    )
    parser.add_argument(
        "--formats",
        help="comma-separated: deb, tar.gz, nsis, dmg, none (default: this OS's installers)",
    )
    parser.add_argument("--selftest", action="store_true", help="run the frozen --selftest")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()
    formats = DEFAULT_FORMATS.get(platform_key(), [])
    if args.formats:
        formats = [f for f in args.formats.split(",") if f and f != "none"]
    steps = Steps()
    bundle = dist / BUNDLE_NAME
    rebuild = not args.skip_bundle and not (args.if_stale and bundle_is_fresh(dist))
    if rebuild:
        steps.run("PyInstaller bundle", run_pyinstaller, dist, work)
        steps.run("links and library check", post_process, bundle)
        stamp_path(dist).write_text(source_digest() + "\n")
    elif not bundle.is_dir():
        raise SystemExit(f"no bundle at {bundle}: run without --skip-bundle")
    else:
        print(f"reusing {bundle}" + (" (built from this source)" if args.if_stale else ""))
    print()
    total = sizes.report(bundle)
    if args.selftest:
        steps.run("frozen --selftest", selftest, dist)
    made = make_installers(formats, dist, work, steps)
    steps.summary()
    print(f"\nBundle on disk: {total / 1e9:.2f} GB")
    for path in made:
        print(f"Installer: {path} ({path.stat().st_size / 1e9:.2f} GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
