"""What the bundle leaves out, the CUDA stubs, and the post-build library check (fast)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import bundle_check
import cuda_stubs
import pytest
import slim

needs_cc = pytest.mark.skipif(not cuda_stubs.can_build(), reason="needs cc, nm and readelf")


@pytest.mark.parametrize(
    ("dest", "dropped"),
    [
        ("triton/backends/nvidia/lib/libcuda_utils.so", True),
        ("nvidia/cu13/lib/libcusolverMg.so.12", True),
        ("nvidia/cu13/lib/libnvrtc.alt.so.13", True),
        ("nvidia/nvshmem/lib/libnvshmem_device.bc", True),
        ("PySide6/Qt/translations/qtbase_de.qm", True),
        ("scipy/io/tests/data/array.mat", True),
        ("nvidia/cu13/lib/libcublasLt.so.13", False),
        ("nvidia/cu13/lib/libnvrtc.so.13", False),
        ("nvidia/cudnn/lib/libcudnn_cnn.so.9", False),
        ("nvidia/nvshmem/lib/libnvshmem_host.so.3", False),
        ("torch/testing/_comparison.py", False),  # torch imports torch.testing itself
        ("torch/lib/libtorch_cuda.so", False),
        ("PySide6/Qt/plugins/platforms/libqxcb.so", False),
    ],
)
def test_drop_reason(dest: str, dropped: bool) -> None:
    assert (slim.drop_reason(dest) is not None) is dropped


def test_filter_toc_and_pure_record_what_they_drop(tmp_path: Path) -> None:
    big = tmp_path / "big.so"
    big.write_bytes(b"x" * 1000)
    dropped: list = []
    toc = [("triton/big.so", str(big), "BINARY"), ("torch/lib/libc10.so", str(big), "BINARY")]
    assert slim.filter_toc(toc, dropped) == [toc[1]]
    pure = [("numpy.tests.test_x", "a", "PYMODULE"), ("numpy.linalg", "b", "PYMODULE")]
    assert slim.filter_pure(pure, dropped) == [pure[1]]
    assert dropped[0] == ("triton/big.so", 1000, slim.DROP_FILES["triton/*"])
    assert dropped[1][0] == "numpy.tests.test_x"


def test_excludes_keep_what_the_app_imports() -> None:
    excludes = set(slim.all_excludes())
    assert "triton" in excludes and "PySide6.QtNetwork" in excludes
    for needed in ("PySide6.QtCore", "PySide6.QtOpenGLWidgets", "vtkmodules.vtkRenderingOpenGL2"):
        assert needed not in excludes
    assert not excludes & {f"vtkmodules.{m}" for m in slim.VTK_KEEP}


def test_vtk_keep_covers_what_pyvista_loads_on_import() -> None:
    """pyvista imports these when the viewer module loads; excluding one breaks the window."""
    code = (
        "import sys, pyvista, pyvistaqt\n"
        "print(' '.join(m.split('.')[1] for m in sys.modules if m.startswith('vtkmodules.vtk')))"
    )
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = set(out.stdout.split())
    assert loaded, "no VTK module loaded?"
    assert loaded <= slim.VTK_KEEP, sorted(loaded - slim.VTK_KEEP)


def _cc(src: str, out: Path, *args: str) -> None:
    c = out.with_suffix(".c")
    c.write_text(src)
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(out), str(c), *args], check=True)


@needs_cc
def test_cuda_stub_exports_what_the_consumer_imports(tmp_path: Path) -> None:
    real = tmp_path / "libfake.so.2"
    src = "int fakeInit(void){return 0;} int fakeUnused(void){return 0;}"
    src += ' const char *fakeGetErrorString(int e){return "real";}'
    _cc(src, real, "-Wl,-soname,libfake.so.2")
    consumer = tmp_path / "libconsumer.so"
    _cc("int fakeInit(void); const char *fakeGetErrorString(int);"
        " int use(void){ return fakeInit() + (fakeGetErrorString(0) != 0); }",
        consumer, f"-L{tmp_path}", "-l:libfake.so.2")  # fmt: skip
    stub = cuda_stubs.build_stub(real, [consumer], "libfake.so.2", "a test", 7, tmp_path / "w")
    exported = subprocess.run(["nm", "-D", "--defined-only", str(stub)], capture_output=True,
                              text=True).stdout  # fmt: skip
    names = {line.split()[-1] for line in exported.splitlines()}
    assert {"fakeInit", "fakeGetErrorString"} <= names
    assert "fakeUnused" not in names
    assert "libfake.so.2" in subprocess.run(["readelf", "-d", str(stub)], capture_output=True,
                                            text=True).stdout  # fmt: skip
    source = (tmp_path / "w" / "libfake.so.2.c").read_text()
    assert "int fakeInit(void) { return 7; }" in source
    assert "const char *fakeGetErrorString(void) { return message; }" in source


@needs_cc
def test_apply_stubs_swaps_the_source_of_the_toc_entry(tmp_path: Path) -> None:
    real = tmp_path / "libfake.so.2"
    _cc("int fakeInit(void){return 0;}", real, "-Wl,-soname,libfake.so.2")
    consumer = tmp_path / "libconsumer.so"
    _cc("int fakeInit(void); int use(void){return fakeInit();}", consumer, f"-L{tmp_path}",
        "-l:libfake.so.2")  # fmt: skip
    toc = [("nvidia/fake/lib/libfake.so.2", str(real), "BINARY"),
           ("torch/lib/libconsumer.so", str(consumer), "BINARY")]  # fmt: skip
    log: list = []
    out = cuda_stubs.apply_stubs(toc, {"libfake.so.2": ("fake", 3)}, tmp_path / "w", log)
    assert out[0][0] == toc[0][0] and out[0][1] == str(tmp_path / "w" / "libfake.so.2")
    assert out[1] == toc[1]
    assert log[0][0] == "nvidia/fake/lib/libfake.so.2" and "stub" in log[0][2]


@needs_cc
def test_unresolved_finds_a_library_left_out(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    lib_dir = bundle / "_internal" / "pkg"
    lib_dir.mkdir(parents=True)
    _cc("int f(void){return 1;}", lib_dir / "libdep.so", "-Wl,-soname,libdep.so")
    _cc("int f(void); int g(void){return f();}", lib_dir / "libuser.so", f"-L{lib_dir}",
        "-l:libdep.so", "-Wl,-rpath,$ORIGIN")  # fmt: skip
    assert bundle_check.unresolved(bundle, system=set()) == []
    (lib_dir / "libdep.so").unlink()
    assert bundle_check.unresolved(bundle, system=set()) == [
        ("_internal/pkg/libuser.so", "libdep.so")
    ]
    assert bundle_check.unresolved(bundle, system={"libdep.so"}) == []


def test_dedupe_links_identical_copies_in_one_folder(tmp_path: Path) -> None:
    folder = tmp_path / "lib"
    folder.mkdir()
    payload = b"\x7fELF" + b"x" * 2_000_000
    for name in ("libembree4.so", "libembree4.so.4"):
        (folder / name).write_bytes(payload)
    (folder / "libother.so").write_bytes(b"\x7fELF" + b"y" * 2_000_000)
    (folder / "libother.so.1").write_bytes(b"\x7fELF" + b"z" * 2_000_000)  # same size, differs
    saved = bundle_check.dedupe(tmp_path)
    assert saved == len(payload)
    assert (folder / "libembree4.so").is_symlink()
    assert (folder / "libembree4.so").resolve() == (folder / "libembree4.so.4")
    assert not (folder / "libembree4.so.4").is_symlink()
    assert not (folder / "libother.so").is_symlink()
    assert not (folder / "libother.so.1").is_symlink()
    assert (folder / "libembree4.so").read_bytes() == payload


def test_cjk_codecs_go_except_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slim.sys, "platform", "linux")
    assert {"_codecs_jp", "encodings.shift_jis"} <= set(slim.all_excludes())
    assert "encodings.utf_8" not in slim.all_excludes()
    monkeypatch.setattr(slim.sys, "platform", "win32")
    assert "encodings.cp932" not in slim.all_excludes()
