"""engine.devices: device detection and its warnings, with simulated GPUs (no GPU needed)."""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine import devices
from engine.devices import DeviceReport, Host, best_device, detect_devices, find_nvidia_gpu

ROOT = Path(__file__).resolve().parents[2]
LINUX = Host(system="Linux", machine="x86_64", cpu_threads=16)
RTX = "NVIDIA GeForce RTX 3060"


def fake_torch(
    *,
    cuda: str | None = None,
    cuda_ok: bool = False,
    mps: bool = False,
    gpu: str = RTX,
    memory: int = 12 * 2**30,
    cuda_warning: str | None = None,
):
    """A stand-in for the torch module with only what detect_devices asks."""

    def is_available() -> bool:
        if cuda_warning:
            warnings.warn(cuda_warning, UserWarning, stacklevel=2)
        return cuda_ok

    return SimpleNamespace(
        __version__="2.14.1+" + (f"cu{cuda.replace('.', '')}" if cuda else "cpu"),
        version=SimpleNamespace(cuda=cuda),
        cuda=SimpleNamespace(
            is_available=is_available,
            get_device_name=lambda i: gpu,
            get_device_properties=lambda i: SimpleNamespace(total_memory=memory),
        ),
        backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps)),
        mps=SimpleNamespace(recommended_max_memory=lambda: 16 * 2**30),
        get_num_threads=lambda: 16,
    )


def test_plain_cpu_machine_has_no_warning():
    report = detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(), host=LINUX)
    assert report.device == "cpu" and best_device(report) == "cpu"
    assert report.name == "CPU (16 threads)" and report.label == "CPU"
    assert report.build == "CPU-only build" and report.torch_version == "2.14.1+cpu"
    assert report.memory is None and report.warning is None and report.devices == ("cpu",)


def test_cuda_torch_without_gpu_is_quiet():
    """The Linux packages ship CUDA torch; on a machine without a GPU nothing is wrong."""
    report = detect_devices(
        probe_nvidia=lambda: None, torch_module=fake_torch(cuda="13.0"), host=LINUX
    )
    assert report.device == "cpu" and report.warning is None and report.build == "CUDA 13.0"


def test_nvidia_present_cpu_torch_source_checkout_warns_with_pip_command():
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=fake_torch(), host=LINUX)
    assert report.device == "cpu" and report.gpu_found == RTX
    warning = report.warning
    assert warning is not None
    assert warning.startswith(
        f"Point-E Studio found an NVIDIA GPU ({RTX}) but is running on the CPU, about 20× slower."
    )
    assert "CPU-only build" in warning and "Fix:" in warning
    command = ".venv/bin/python -m pip install torch==2.14.1+cu130 torchvision==0.29.1+cu130"
    assert command in warning and "--index-url https://download.pytorch.org/whl/cu130" in warning
    assert report.fix_command is not None and report.fix_command.startswith(command)
    assert report.fix_command in warning


def test_nvidia_present_cpu_torch_installed_app_says_get_gpu_build():
    app = Host(system="Windows", machine="AMD64", frozen=True)
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=fake_torch(), host=app)
    assert report.warning is not None
    assert "Fix: install the GPU (CUDA) build of Point-E Studio" in report.warning
    assert "NVIDIA driver from https://www.nvidia.com/drivers" in report.warning
    assert "pip" not in report.warning and report.fix_command is None


def test_windows_source_checkout_gets_windows_paths():
    host = Host(system="Windows", machine="AMD64")
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=fake_torch(), host=host)
    assert r".venv\Scripts\python -m pip install torch==2.14.1+cu130" in (report.warning or "")


def test_cuda_build_with_old_driver_says_update_driver():
    torch = fake_torch(cuda="13.0", cuda_warning="The NVIDIA driver on your system is too old")
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=torch, host=LINUX)
    assert report.device == "cpu" and report.build == "CUDA 13.0"
    assert "The NVIDIA driver is too old for this PyTorch (CUDA 13.0)" in (report.warning or "")
    assert "(version 580 or newer) from https://www.nvidia.com/drivers" in (report.warning or "")


def test_hidden_by_cuda_visible_devices():
    host = Host(system="Linux", machine="x86_64", cuda_visible_devices="")
    torch = fake_torch(cuda="13.0")
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=torch, host=host)
    assert "remove the CUDA_VISIBLE_DEVICES environment variable" in (report.warning or "")


def test_working_cuda_reports_name_and_memory():
    torch = fake_torch(cuda="13.0", cuda_ok=True)
    report = detect_devices(probe_nvidia=lambda: RTX, torch_module=torch, host=LINUX)
    assert report.device == "cuda" and best_device(report) == "cuda"
    assert report.devices == ("cpu", "cuda")
    assert report.name == "NVIDIA GeForce RTX 3060, 12 GB"
    assert report.label == "NVIDIA GeForce RTX 3060 · 12 GB"
    assert report.memory == 12 * 2**30 and report.build == "CUDA 13.0"
    assert report.warning is None


def test_apple_silicon_with_mps():
    host = Host(system="Darwin", machine="arm64", mac_version="14.5")
    report = detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(mps=True), host=host)
    assert report.device == "mps" and report.name == "Apple GPU (MPS)" and report.warning is None
    assert report.label == "Apple GPU (MPS)" and best_device(report) == "mps"


def test_apple_silicon_without_mps_warns():
    host = Host(system="Darwin", machine="arm64", mac_version="12.1")
    report = detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(), host=host)
    assert report.device == "cpu"
    assert "Apple-silicon Mac" in (report.warning or "")
    assert "Fix: update macOS" in (report.warning or "") and "12.3" in (report.warning or "")
    rosetta = Host(system="Darwin", machine="x86_64", rosetta=True, frozen=True)
    report = detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(), host=rosetta)
    assert "Fix: install the Apple-silicon (arm64) build" in (report.warning or "")
    intel = Host(system="Darwin", machine="x86_64")
    assert (
        detect_devices(probe_nvidia=lambda: None, torch_module=fake_torch(), host=intel).warning
        is None
    )


def test_broken_probes_never_raise():
    def boom():
        raise RuntimeError("probe exploded")

    broken = SimpleNamespace(__version__="2.14.1", get_num_threads=boom)  # no .cuda at all
    report = detect_devices(probe_nvidia=boom, torch_module=broken, host=LINUX)
    assert report.device == "cpu" and report.name == "CPU (16 threads)"


def _fake_nvidia_smi(folder: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    script = folder / "nvidia-smi"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.skipif(sys.platform == "win32", reason="shell-script stand-in for nvidia-smi")
def test_nvidia_smi_output_is_parsed(tmp_path, monkeypatch):
    _fake_nvidia_smi(tmp_path, f'echo "GPU 0: {RTX} (UUID: GPU-1234)"', monkeypatch)
    none = tmp_path / "absent"
    assert find_nvidia_gpu(procfs=none, sysfs=none) == RTX


@pytest.mark.skipif(sys.platform == "win32", reason="shell-script stand-in for nvidia-smi")
def test_hanging_or_failing_nvidia_smi_never_raises(tmp_path, monkeypatch):
    none = tmp_path / "absent"
    _fake_nvidia_smi(tmp_path, "exec sleep 30", monkeypatch)
    start = time.monotonic()
    assert find_nvidia_gpu(timeout=0.5, procfs=none, sysfs=none) is None
    assert time.monotonic() - start < 5
    _fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9", monkeypatch)
    assert find_nvidia_gpu(procfs=none, sysfs=none) is None
    _fake_nvidia_smi(tmp_path, "echo garbage", monkeypatch)
    assert find_nvidia_gpu(procfs=none, sysfs=none) is None


def test_linux_driver_files_and_pci_bus(tmp_path, monkeypatch):
    monkeypatch.setattr(devices.shutil, "which", lambda name: None)  # no nvidia-smi
    proc = tmp_path / "proc"
    (proc / "gpus" / "0000:01:00.0").mkdir(parents=True)
    (proc / "gpus" / "0000:01:00.0" / "information").write_text(f"Model: \t {RTX}\nIRQ: 1\n")
    assert find_nvidia_gpu(procfs=proc, sysfs=tmp_path / "none") == RTX
    sysfs = tmp_path / "pci"
    for dev, vendor, cls in (("a", "0x8086", "0x030000"), ("b", "0x10de", "0x040300")):
        (sysfs / dev).mkdir(parents=True)
        (sysfs / dev / "vendor").write_text(vendor)
        (sysfs / dev / "class").write_text(cls)
    assert find_nvidia_gpu(procfs=tmp_path / "none", sysfs=sysfs) is None  # audio, not a GPU
    (sysfs / "c").mkdir()
    (sysfs / "c" / "vendor").write_text("0x10de\n")
    (sysfs / "c" / "class").write_text("0x030000\n")
    assert find_nvidia_gpu(procfs=tmp_path / "none", sysfs=sysfs) == devices.UNNAMED_NVIDIA
    report = detect_devices(
        probe_nvidia=lambda: devices.UNNAMED_NVIDIA, torch_module=fake_torch(), host=LINUX
    )
    assert (report.warning or "").startswith("Point-E Studio found an NVIDIA GPU but is running")


def test_real_machine_report_is_consistent():
    report = detect_devices()
    assert isinstance(report, DeviceReport) and report.device == best_device(report)
    assert report.device in report.devices and report.torch_version


def test_gpu_command_matches_readme_and_bootstrap():
    """The fix we print must be the README's GPU section and the pins bootstrap installs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert devices.CUDA_INDEX_URL in readme
    bootstrap = (ROOT / "packaging" / "bootstrap.py").read_text(encoding="utf-8")
    for pin in devices.TORCH_PAIR:
        assert f'"{pin}"' in bootstrap and pin in readme
