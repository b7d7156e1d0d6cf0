"""Post-build checks and fixes of a Linux bundle: linked libraries resolve, duplicates link.

`unresolved()` reads every ELF file's needed libraries (readelf) and looks for each one the way
the loader of the frozen app would: its RPATH/RUNPATH, its own folder, the bundle's top folder
(PyInstaller's bootloader puts it on LD_LIBRARY_PATH) and the system's libraries. A library
that a left-out file provided shows up here, so an over-eager exclusion fails the build before
any self-test runs. `dedupe()` turns identical copies of a library in one folder (wheels store
libfoo.so, libfoo.so.4 and libfoo.so.4.1 as three files) into symbolic links.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

# Provided by the GPU driver, never bundled: only a machine with an NVIDIA driver has them.
DRIVER_LIBS = {"libcuda.so.1", "libnvidia-ml.so.1"}


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _dynamic(path: Path) -> tuple[list[str], list[str]]:
    """(needed sonames, rpath entries) of an ELF file."""
    text = subprocess.run(
        ["readelf", "-d", str(path)], capture_output=True, text=True, check=False
    ).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", text)
    rpaths: list[str] = []
    for found in re.findall(r"\((?:RPATH|RUNPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]", text):
        rpaths += [p for p in found.split(":") if p]
    return needed, rpaths


def system_libs() -> set[str]:
    """Sonames the system's loader cache knows (ldconfig -p)."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    try:
        text = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return set()
    return {line.split()[0] for line in text.splitlines()[1:] if line.strip()}


def site_package_libs() -> set[str]:
    """File names under the build's site-packages: what a bundle could have carried."""
    import site

    names: set[str] = set()
    for base in {*site.getsitepackages(), site.getusersitepackages()}:
        for _dirpath, _dirs, files in os.walk(base):
            names.update(f for f in files if ".so" in f or f.endswith((".dylib", ".dll")))
    return names


def unresolved(
    bundle: Path, system: set[str] | None = None, providable: set[str] | None = None
) -> list[tuple[str, str]]:
    """(library, needed soname) pairs that nothing in the bundle or the system provides.

    With `providable` (see site_package_libs), only sonames a Python package could have
    provided count: a left-out file. Optional Qt plugins for Wayland or GTK sessions link system
    libraries this machine may lack, which is not the bundle's business."""
    system = system_libs() if system is None else system
    top = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    elves = [
        Path(d) / n
        for d, _s, names in os.walk(bundle)
        for n in names
        if not (Path(d) / n).is_symlink() and is_elf(Path(d) / n)
    ]
    present = {p.name for p in elves} | {
        Path(d, n).name for d, _s, names in os.walk(bundle) for n in names
    }
    missing = []
    for lib in elves:
        needed, rpaths = _dynamic(lib)
        for soname in needed:
            if soname in DRIVER_LIBS or soname in system:
                continue
            places = [lib.parent, top]
            places += [Path(r.replace("$ORIGIN", str(lib.parent))) for r in rpaths]
            if any((place / soname).exists() for place in places):
                continue
            if soname not in present and (providable is None or soname in providable):
                missing.append((str(lib.relative_to(bundle)), soname))
    return missing


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dedupe(bundle: Path, *, min_bytes: int = 1_000_000) -> int:
    """Replace identical same-folder copies of a library (libX.so[.N...]) by relative symlinks.

    The copy with the longest (most versioned) name stays a file. Returns the bytes saved."""
    saved = 0
    for dirpath, _dirs, names in os.walk(bundle):
        groups: dict[tuple[str, int], list[Path]] = {}
        for name in names:
            path = Path(dirpath) / name
            if ".so" not in name or path.is_symlink():
                continue
            size = path.stat().st_size
            if size < min_bytes:
                continue
            groups.setdefault((name.split(".so")[0], size), []).append(path)
        for paths in groups.values():
            if len(paths) < 2:
                continue
            by_hash: dict[str, list[Path]] = {}
            for path in paths:
                by_hash.setdefault(_digest(path), []).append(path)
            for same in by_hash.values():
                same.sort(key=lambda p: (len(p.name), p.name))
                keep = same[-1]
                for dup in same[:-1]:
                    saved += dup.stat().st_size
                    dup.unlink()
                    dup.symlink_to(keep.name)
    return saved
