"""Size report of a one-folder bundle: every large component, its biggest files, why it stays."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Why each large component is in the bundle (components are top folders of _internal/).
KEEP_REASONS = {
    "torch": "the ML runtime: libtorch_cpu (CPU) and libtorch_cuda (NVIDIA GPUs)",
    "nvidia/cu13": "CUDA runtime, cuBLAS(Lt), cuFFT, cuSPARSE, cuSOLVER, cuRAND, NVRTC, "
    "nvJitLink, CUPTI, cuFile: linked by libtorch_cuda (or loaded by it on first GPU use)",
    "nvidia/cudnn": "cuDNN: GPU convolutions and attention (CLIP image encoder, the "
    "text->picture route); its engine libraries load on first use",
    "nvidia/nvshmem": "NVSHMEM host library: linked by libtorch_nvshmem (plugins left out)",
    "nvidia/nccl": "stub only (libtorch_cuda links it; multi-GPU collectives are never used)",
    "nvidia/cusparselt": "stub only (libtorch_cuda links it; 2:4 sparsity is never used)",
    "vtkmodules": "the 3D viewport (pyvista/VTK): only the VTK modules the app loads",
    "pymeshlab": "mesh clean-up (hole closing, decimation); ships its own Qt 5 and plugins",
    "imageio_ffmpeg": "the ffmpeg executable that writes MP4 turntables",
    "PySide6": "the Qt 6 GUI (Core, Gui, Widgets, OpenGL) and its platform plugins",
    "scipy": "meshing and point-cloud maths (trimesh, scikit-image)",
    "scipy.libs": "scipy's OpenBLAS",
    "numpy.libs": "numpy's OpenBLAS",
    "transformers": "text encoders of the official and text->picture routes",
    "(top level)": "Python itself, the Python archive and libraries shared by several packages",
    "cv2": "OpenCV (pulled in by a dependency)",
    "torchvision": "image transforms and ops used by open_clip",
    "skimage": "marching cubes for SDF meshing",
    "matplotlib": "colour maps for the viewer (pyvista)",
    "sympy": "needed by torch's shape reasoning at import time",
    "diffusers": "the text->picture route's pipeline code",
    "cuda": "cuda-python bindings imported by torch",
    "PIL": "images (picture panel, screenshots)",
    "pillow.libs": "image codecs for Pillow",
}


def component(rel: Path) -> str:
    """The component a file belongs to: top folder of _internal/ (nvidia/<lib> kept apart)."""
    parts = rel.parts
    if parts and parts[0] in ("_internal", "Contents"):
        parts = parts[1:]
        if parts and parts[0] in ("Frameworks", "Resources", "MacOS"):
            parts = parts[1:]
    if len(parts) <= 1:
        return "(top level)"
    if parts[0] == "nvidia" and len(parts) > 2:
        return f"nvidia/{parts[1]}"
    return parts[0]


def measure(bundle: Path) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Bytes per component, and every file as (bytes, path) largest first; links count 0."""
    totals: dict[str, int] = {}
    files: list[tuple[int, str]] = []
    for dirpath, _dirs, names in os.walk(bundle):
        for name in names:
            path = Path(dirpath) / name
            if path.is_symlink():
                continue
            size = path.stat().st_size
            rel = path.relative_to(bundle)
            key = component(rel)
            totals[key] = totals.get(key, 0) + size
            files.append((size, str(rel)))
    files.sort(reverse=True)
    return totals, files


def disk_usage(bundle: Path) -> int:
    return sum(measure(bundle)[0].values())


def report(bundle: Path, *, min_mb: float = 20.0, files_per_component: int = 4, stream=None) -> int:
    """Print components of at least `min_mb` MB with their largest files; returns the total."""
    stream = stream or sys.stdout
    totals, files = measure(bundle)
    total = sum(totals.values())
    print(f"Bundle {bundle}: {total / 1e9:.2f} GB in {len(files)} files", file=stream)
    small = 0
    for key, size in sorted(totals.items(), key=lambda kv: -kv[1]):
        if size < min_mb * 1e6:
            small += size
            continue
        why = KEEP_REASONS.get(key, "")
        print(f"  {size / 1e6:8.1f} MB  {key:<18} {why}", file=stream)
        biggest = [f for f in files if component(Path(f[1])) == key][:files_per_component]
        for fsize, rel in biggest:
            if fsize >= 5e6:
                print(f"  {'':11}    {fsize / 1e6:7.1f} MB  {rel}", file=stream)
    print(f"  {small / 1e6:8.1f} MB  (components under {min_mb:.0f} MB each)", file=stream)
    return total
