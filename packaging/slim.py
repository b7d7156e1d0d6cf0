"""What the bundle leaves out, and why: used by pointe_studio.spec and reported by build.py.

Every exclusion here is something the app never loads. build.py proves the set with the frozen
app's `--selftest` (window, VTK view, torch, built-in model, PLY round trip) and checks that every
shared library left in the bundle still finds the libraries it links against.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from pathlib import Path

# Python packages and modules the app never imports (PyInstaller would follow optional imports).
PY_EXCLUDES = [
    "triton",  # torch.compile's GPU code generator: engine/__init__ blocks its import (0.9 GB)
    "tkinter",
    "IPython",
    "pytest",
    "_pytest",
    "pytestqt",
    "PyQt5",  # pyvistaqt's qtpy would otherwise find a second Qt binding
    "PyQt6",
    "PySide2",
    "jax",
    "tensorflow",
    "keras",
    "flax",
    "numpy.tests",
    "matplotlib.tests",
    "sphinx",
    "docutils",
]

# Codecs for East-Asian legacy encodings (CJK multibyte tables, 1.2 MB of C modules): the app
# reads and writes UTF-8 and binary files only. Kept on Windows, where a CJK ANSI code page
# (cp932, cp936, ...) can be the locale's default text encoding.
CJK_CODECS = ["_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr"]
CJK_CODECS += ["_codecs_tw", "_multibytecodec"]
CJK_CODECS += [
    f"encodings.{name}"
    for name in [
        "big5",
        "big5hkscs",
        "cp932",
        "cp949",
        "cp950",
        "euc_jis_2004",
        "euc_jisx0213",
        "euc_jp",
        "euc_kr",
        "gb18030",
        "gb2312",
        "gbk",
        "hz",
        "iso2022_jp",
        "iso2022_jp_1",
        "iso2022_jp_2",
        "iso2022_jp_2004",
        "iso2022_jp_3",
        "iso2022_jp_ext",
        "iso2022_kr",
        "johab",
        "shift_jis",
        "shift_jis_2004",
        "shift_jisx0213",
    ]
]

# Qt modules the app never imports (desktop/ uses QtCore, QtGui, QtWidgets and QtOpenGL*).
QT_EXCLUDES = [
    f"PySide6.{m}"
    for m in [
        "QtConcurrent",
        "QtDesigner",
        "QtHelp",
        "QtLabsStyleKit",
        "QtNetwork",
        "QtPrintSupport",
        "QtQml",
        "QtQmlFeatures",
        "QtQuick",
        "QtQuickControls2",
        "QtQuickTest",
        "QtQuickWidgets",
        "QtSql",
        "QtTest",
        "QtUiTools",
        "QtXml",
        "QtDBus",
        "QtSvgWidgets",
    ]
]

# VTK modules the app loads: measured by running the window, a generation, the axes widget and a
# screenshot from source (sys.modules after `--selftest`), plus a few pyvista filters and writers
# use on meshes and the off-screen renderer of `pointe-studio render`. Every other vtkmodules.vtk*
# extension is excluded; the libraries these link against come along by dependency analysis.
VTK_KEEP = set(
    [
        "vtkChartsCore",
        "vtkCommonColor",
        "vtkCommonComputationalGeometry",
        "vtkCommonCore",
        "vtkCommonDataModel",
        "vtkCommonExecutionModel",
        "vtkCommonMath",
        "vtkCommonMisc",
        "vtkCommonSystem",
        "vtkCommonTransforms",
        "vtkFiltersCore",
        "vtkFiltersExtraction",
        "vtkFiltersGeneral",
        "vtkFiltersGeometry",
        "vtkFiltersHybrid",
        "vtkFiltersModeling",
        "vtkFiltersPoints",
        "vtkFiltersPython",
        "vtkFiltersSources",
        "vtkFiltersTexture",
        "vtkIOCore",
        "vtkIOGeometry",
        "vtkIOImage",
        "vtkIOLegacy",
        "vtkIOPLY",
        "vtkIOXML",
        "vtkIOXMLParser",
        "vtkImagingCore",
        "vtkImagingGeneral",
        "vtkImagingMath",
        "vtkImagingSources",
        "vtkInteractionStyle",
        "vtkInteractionWidgets",
        "vtkParallelCore",
        "vtkPythonContext2D",
        "vtkRenderingAnnotation",
        "vtkRenderingContext2D",
        "vtkRenderingContextOpenGL2",
        "vtkRenderingCore",
        "vtkRenderingFreeType",
        "vtkRenderingHyperTreeGrid",
        "vtkRenderingLabel",
        "vtkRenderingMatplotlib",
        "vtkRenderingOpenGL2",
        "vtkRenderingUI",
        "vtkRenderingVolume",
        "vtkRenderingVolumeOpenGL2",
        "vtkViewsContext2D",
        "vtkViewsCore",
        "vtkCommonPython",
    ]
)
VTK_PACKAGE_EXCLUDES = [
    "vtkmodules.all",  # imports every module
    "vtkmodules.test",
    "vtkmodules.tk",
    "vtkmodules.web",
    "vtkmodules.wx",
    "vtkmodules.gtk",
]

# Files (paths inside the bundle, fnmatch patterns) the app never opens; dependency analysis is
# checked afterwards (build.py), so a pattern that removes something still linked fails the build.
DROP_FILES = {
    "triton/*": "Triton: never imported (engine/__init__ blocks it)",
    "torch/lib/libtorch_cuda_linalg.so": "GPU linear algebra (torch loads it on the first GPU "
    "decomposition; the app runs none)",
    "nvidia/cu13/lib/libcusolver.so*": "cuSOLVER: only libtorch_cuda_linalg links it",
    "nvidia/cu13/lib/libcusolverMg.so*": "multi-GPU cuSOLVER: nothing links it",
    "nvidia/cu13/lib/libnvrtc.alt.so*": "alternative NVRTC build: nothing links it",
    "nvidia/cu13/lib/libnvrtc-builtins.alt.so*": "alternative NVRTC build: nothing links it",
    "nvidia/cu13/lib/libnvperf_*": "Nsight performance counters (profiling only)",
    "nvidia/cu13/lib/libpcsamplingutil.so*": "CUPTI PC sampling (profiling only)",
    "nvidia/cu13/lib/libcheckpoint.so*": "CUDA checkpointing: nothing links it",
    "nvidia/cu13/lib/libcufftw.so*": "FFTW interface to cuFFT: nothing links it",
    "nvidia/cu13/lib/libnvblas.so*": "BLAS interposer: nothing links it",
    "nvidia/cu13/lib/libcufile_rdma.so*": "GPUDirect Storage over RDMA: nothing links it",
    "nvidia/cu13/lib/*.a": "static libraries",
    "nvidia/*/include/*": "C headers",
    "nvidia/nvshmem/lib/nvshmem_*": "NVSHMEM bootstrap/transport plugins (multi-GPU only)",
    "nvidia/nvshmem/lib/libnvshmem_device.*": "NVSHMEM device code for kernel linking",
    "PySide6/Qt/translations/*": "Qt's own UI translations (the app is English only)",
    "PySide6/Qt/plugins/qmltooling/*": "QML debugging",
    "PySide6/Qt/plugins/designer/*": "Qt Designer plugins",
    "*/tests/*": "test suites",
    "*/test/*.py": "test suites",
}

# Libraries libtorch links against (so they must exist) whose features the app never uses: the
# bundle gets a small stub exporting the same symbols, each returning an error (see cuda_stubs).
CUDA_STUBS = {
    "libnccl.so.2": ("NCCL: multi-GPU collectives for torch.distributed", 5),  # ncclInvalidUsage
    "libcusparseLt.so.0": ("cuSPARSELt: 2:4 structured-sparse matmul", 10),  # NOT_SUPPORTED
    "libcufft.so.12": ("cuFFT: torch.fft on the GPU", 16),  # CUFFT_NOT_SUPPORTED
    "libcurand.so.10": ("cuRAND: linked by libtorch_cuda, which calls none of it", 201),
}
# Loaded by name at run time (nothing links them), so dependency analysis misses them.
CUDA_EXTRA = ["libnvrtc-builtins.so.*"]  # NVRTC's builtins: GPU kernels compiled at run time


def cuda_extra_binaries() -> list[tuple[str, str]]:
    """(source, destination folder) of CUDA_EXTRA files from the installed nvidia packages."""
    try:
        import nvidia
    except ImportError:
        return []
    found = []
    for base in getattr(nvidia, "__path__", []):
        for pattern in CUDA_EXTRA:
            for path in Path(base).glob(f"*/lib/{pattern}"):
                if drop_reason(f"nvidia/{path.relative_to(base).as_posix()}") is None:
                    found.append((str(path), f"nvidia/{path.parent.relative_to(base).as_posix()}"))
    return found


def vtk_excludes() -> list[str]:
    """Every compiled vtkmodules.vtk* module outside VTK_KEEP, found in the installed package."""
    try:
        import vtkmodules
    except ImportError:
        return []
    folder = Path(vtkmodules.__file__).parent
    names = set()
    for path in folder.iterdir():
        stem = path.name.split(".")[0]
        if stem.startswith("vtk") and path.suffix in (".so", ".pyd") and stem not in VTK_KEEP:
            names.add(f"vtkmodules.{stem}")
    return sorted(names) + VTK_PACKAGE_EXCLUDES


def all_excludes() -> list[str]:
    codecs = [] if sys.platform == "win32" else CJK_CODECS
    return PY_EXCLUDES + QT_EXCLUDES + codecs + vtk_excludes()


def drop_reason(dest: str) -> str | None:
    """Why the file at `dest` (a path inside the bundle) is left out, or None to keep it."""
    dest = dest.replace(os.sep, "/")
    for pattern, reason in DROP_FILES.items():
        if fnmatch.fnmatch(dest, pattern):
            if pattern.startswith("*/test") and _is_needed_test_path(dest):
                continue
            return reason
    return None


def _is_needed_test_path(dest: str) -> bool:
    # torch.testing is imported by torch itself; only folders literally called tests/test go.
    return dest.startswith("torch/testing/")


def filter_toc(toc, dropped: list):
    """A copy of a PyInstaller TOC without the files drop_reason rejects (appended to `dropped`)."""
    kept = []
    for entry in toc:
        dest, src = entry[0], entry[1]
        reason = drop_reason(dest)
        if reason is None:
            kept.append(entry)
            continue
        try:
            size = os.path.getsize(src) if src else 0
        except OSError:
            size = 0
        dropped.append((dest, size, reason))
    return kept


def filter_pure(toc, dropped: list):
    """Python modules without test suites (any package component called `tests`)."""
    kept = []
    for entry in toc:
        if "tests" in entry[0].split("."):
            dropped.append((entry[0], 0, "test suites"))
        else:
            kept.append(entry)
    return kept


def report_dropped(dropped: list, stream=sys.stdout) -> None:
    """Totals per reason: printed during the build so the exclusions stay visible."""
    totals: dict[str, list[int]] = {}
    for _dest, size, reason in dropped:
        entry = totals.setdefault(reason, [0, 0])
        entry[0] += size
        entry[1] += 1
    print("Left out of the bundle:", file=stream)
    for reason, (size, count) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        print(f"  {size / 1e6:8.1f} MB  {count:5d} files  {reason}", file=stream)
