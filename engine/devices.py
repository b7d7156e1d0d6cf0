"""Which device generation runs on, and a plain-words fix when a GPU sits unused."""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: The GPU wheels of the README's "GPU builds" section (torch and torchvision move as a pair).
TORCH_PAIR = ("torch==2.14.1", "torchvision==0.29.1")
CUDA_INDEX_URL = "https://download.pytorch.org/whl/cu130"
DRIVER_URL = "https://www.nvidia.com/drivers"
#: Oldest NVIDIA driver each CUDA major version runs on (NVIDIA's CUDA release notes).
MIN_DRIVER = {11: "450", 12: "525", 13: "580"}
#: How much slower the CPU is than a mid-range GPU for the official models (a rough, honest guess).
CPU_SLOWDOWN = "about 20× slower"

NVIDIA_PCI_VENDOR = "0x10de"
PROC_NVIDIA = Path("/proc/driver/nvidia")
SYS_PCI_DEVICES = Path("/sys/bus/pci/devices")
#: Said when the driver or PCI bus shows an NVIDIA GPU but not its model name.
UNNAMED_NVIDIA = "NVIDIA GPU"


@dataclass(frozen=True, kw_only=True)
class Host:
    """The machine apart from torch: the facts a warning depends on (tests pass their own)."""

    system: str  # platform.system(): "Linux", "Windows", "Darwin"
    machine: str  # platform.machine(): "x86_64", "AMD64", "arm64"
    mac_version: str = ""  # platform.mac_ver()[0], "" elsewhere
    rosetta: bool = False  # an Intel (x86_64) Python translated by Rosetta on Apple silicon
    frozen: bool = False  # the installed app (PyInstaller bundle), not a source checkout
    cpu_threads: int = 1  # logical CPUs
    cuda_visible_devices: str | None = None  # $CUDA_VISIBLE_DEVICES, which can hide every GPU

    @property
    def apple_silicon(self) -> bool:
        return self.system == "Darwin" and (self.machine == "arm64" or self.rosetta)


@dataclass(frozen=True, kw_only=True)
class DeviceReport:
    """What generation runs on, in words for the status bar and the first-run panel."""

    device: str  # "cpu", "cuda" or "mps": the device runs use unless the user picks another
    name: str  # "CPU (16 threads)", "NVIDIA GeForce RTX 3060, 12 GB", "Apple GPU (MPS)"
    memory: int | None = None  # bytes of the device's own memory, None when unknown (CPU, MPS)
    torch_version: str | None = None  # torch.__version__; None when torch cannot be imported
    build: str = ""  # "CUDA 13.0", "CPU-only build", "MPS", or "PyTorch not installed"
    devices: tuple[str, ...] = ("cpu",)  # every device torch can use here
    gpu_found: str | None = None  # an NVIDIA GPU the driver or PCI bus shows, used or not
    warning: str | None = None  # the problem and its fix, in plain words; None when all is well
    fix_command: str | None = None  # the terminal command inside `warning`, for a Copy button

    @property
    def label(self) -> str:
        """Short text for the status bar: "CPU", "NVIDIA GeForce RTX 3060 · 12 GB"."""
        if self.device == "cuda":
            gpu = self.name.split(",")[0]
            return f"{gpu} · {format_memory(self.memory)}" if self.memory else gpu
        if self.device == "mps":
            return "Apple GPU (MPS)"
        return "CPU"


def format_memory(size: int | None) -> str:
    """Memory as people read it on the box: "12 GB", "1.5 GB" (binary units, rounded)."""
    if not size:
        return "unknown"
    gib = size / 2**30
    return f"{gib:.0f} GB" if gib >= 2 else f"{gib:.1f} GB"


def current_host() -> Host:
    """The running machine (cheap: no torch, at most one short `sysctl` on an Intel-Mac Python)."""
    system, machine = platform.system(), platform.machine()
    return Host(
        system=system,
        machine=machine,
        mac_version=platform.mac_ver()[0] if system == "Darwin" else "",
        rosetta=system == "Darwin" and machine == "x86_64" and _under_rosetta(),
        frozen=bool(getattr(sys, "frozen", False)),
        cpu_threads=os.cpu_count() or 1,
        cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"),
    )


def _under_rosetta() -> bool:
    out = _run_quietly(["sysctl", "-n", "sysctl.proc_translated"], timeout=1.0)
    return out is not None and out.strip() == "1"


def _run_quietly(cmd: list[str], *, timeout: float) -> str | None:
    """stdout of a short command; None when it is missing, fails or hangs past `timeout`."""
    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)  # Windows: no console flashing up
    try:
        res = subprocess.run(
            [exe, *cmd[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            creationflags=flags,
        )
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.info("%s did not answer: %s", cmd[0], exc)
        return None
    if res.returncode != 0:
        log.info("%s exited with %d: %s", cmd[0], res.returncode, res.stderr.strip()[:200])
        return None
    return res.stdout


def find_nvidia_gpu(
    *,
    timeout: float = 3.0,
    procfs: Path = PROC_NVIDIA,
    sysfs: Path = SYS_PCI_DEVICES,
) -> str | None:
    """The NVIDIA GPU this machine has, asked without torch; None when none is seen.

    Tries `nvidia-smi -L` (any OS with the driver), then the Linux driver's /proc files, then the
    PCI bus (a GPU whose driver is not installed). Never raises, never waits past `timeout`."""
    try:
        out = _run_quietly(["nvidia-smi", "-L"], timeout=timeout)
        for line in (out or "").splitlines():  # "GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-…)"
            if line.startswith("GPU ") and ":" in line:
                name = line.split(":", 1)[1].split("(UUID")[0].strip()
                if name:
                    return name
        if procfs.exists():
            for info in sorted(procfs.glob("gpus/*/information")):
                for line in info.read_text(errors="replace").splitlines():
                    key, _, value = line.partition(":")
                    if key.strip() == "Model" and value.strip():
                        return value.strip()
            return UNNAMED_NVIDIA
        for dev in sorted(sysfs.glob("*")) if sysfs.exists() else ():
            vendor = (dev / "vendor").read_text().strip().lower()
            pci_class = (dev / "class").read_text().strip().lower()
            if vendor == NVIDIA_PCI_VENDOR and pci_class.startswith("0x03"):  # display controller
                return UNNAMED_NVIDIA
    except Exception:  # a probe must never stop the app from starting
        log.info("NVIDIA probe failed", exc_info=True)
    return None


def best_device(report: DeviceReport) -> str:
    """The fastest device torch can use here: a CUDA GPU, then Apple's GPU, then the CPU."""
    return next((d for d in ("cuda", "mps") if d in report.devices), "cpu")


def detect_devices(
    *,
    probe_nvidia: Callable[[], str | None] | None = None,
    torch_module: Any = None,
    host: Host | None = None,
) -> DeviceReport:
    """Ask torch what it can use (slow: imports torch, so call it from a worker thread).

    The probes are injectable so tests can play "NVIDIA present, torch without CUDA" on any
    machine; the defaults ask the real ones. Never raises: a failed probe counts as absent."""
    host = host or current_host()
    torch = torch_module
    if torch is None:
        try:
            import torch
        except ImportError:
            torch = None
    try:
        gpu = (probe_nvidia or find_nvidia_gpu)()
    except Exception:
        log.info("NVIDIA probe failed", exc_info=True)
        gpu = None
    if torch is None:
        return DeviceReport(
            device="cpu",
            name=f"CPU ({host.cpu_threads} threads)",
            build="PyTorch not installed",
            gpu_found=gpu,
            warning="Point-E Studio could not load PyTorch, which it needs to make anything. "
            f"Fix: {_reinstall_fix(host)}",
        )

    version = str(getattr(torch, "__version__", "unknown"))
    cuda_version = _call(lambda: torch.version.cuda, None)
    devices = ["cpu"]
    cuda_ok, cuda_note = _cuda_available(torch)
    if cuda_ok:
        devices.append("cuda")
    if _call(lambda: torch.backends.mps.is_available(), False):
        devices.append("mps")
    threads = _call(lambda: int(torch.get_num_threads()), 0) or host.cpu_threads
    common = {"torch_version": version, "devices": tuple(devices), "gpu_found": gpu}

    if cuda_ok:
        name = _call(lambda: str(torch.cuda.get_device_name(0)), "") or gpu or UNNAMED_NVIDIA
        memory = _call(lambda: int(torch.cuda.get_device_properties(0).total_memory), None)
        shown = f"{name}, {format_memory(memory)}" if memory else name
        return DeviceReport(
            device="cuda", name=shown, memory=memory, build=f"CUDA {cuda_version}", **common
        )
    if "mps" in devices:
        memory = _call(lambda: int(torch.mps.recommended_max_memory()), None)
        return DeviceReport(
            device="mps", name="Apple GPU (MPS)", memory=memory, build="MPS", **common
        )

    build = f"CUDA {cuda_version}" if cuda_version else "CPU-only build"
    warning = None
    if gpu is not None:
        warning = _unused_nvidia(gpu, cuda_version, cuda_note, host)
    elif host.apple_silicon:
        warning = _unused_apple(host)
    commands = (gpu_pip_command(host), mps_reinstall_command(host))
    command = next((c for c in commands if warning and c in warning), None)
    return DeviceReport(
        device="cpu",
        name=f"CPU ({threads} threads)",
        build=build,
        warning=warning,
        fix_command=command,
        **common,
    )


def _call(fn: Callable[[], Any], default: Any) -> Any:
    """fn(), or `default` when the (possibly fake, possibly broken) torch raises."""
    try:
        return fn()
    except Exception:
        log.debug("device probe step failed", exc_info=True)
        return default


def _cuda_available(torch: Any) -> tuple[bool, str]:
    """torch.cuda.is_available(), plus the warning torch gives when the driver is too old."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = bool(_call(lambda: torch.cuda.is_available(), False))
    note = " ".join(str(w.message) for w in caught)
    if note:
        log.info("torch.cuda: %s", note)
    return ok, note


def _unused_nvidia(gpu: str, cuda_version: str | None, note: str, host: Host) -> str:
    """The 'GPU found, running on the CPU' warning: why, then the one fix that applies."""
    found = "an NVIDIA GPU" if gpu == UNNAMED_NVIDIA else f"an NVIDIA GPU ({gpu})"
    head = f"Point-E Studio found {found} but is running on the CPU, {CPU_SLOWDOWN}."
    if host.cuda_visible_devices is not None and host.cuda_visible_devices.strip() in ("", "-1"):
        return (
            f"{head} The setting CUDA_VISIBLE_DEVICES hides the GPU. Fix: remove the "
            "CUDA_VISIBLE_DEVICES environment variable, then start Point-E Studio again."
        )
    if cuda_version is None:
        return f"{head} This copy of PyTorch has no GPU support (a CPU-only build). Fix: " + (
            "install the GPU (CUDA) build of Point-E Studio, and the latest NVIDIA driver from "
            f"{DRIVER_URL}."
            if host.frozen
            else "close Point-E Studio, open a terminal in its folder and run:  "
            f"{gpu_pip_command(host)}  — then start it again."
        )
    major = _call(lambda: int(str(cuda_version).split(".")[0]), 0)
    driver = MIN_DRIVER.get(major)
    newer = f" (version {driver} or newer)" if driver else ""
    why = "is too old" if "too old" in note.lower() else "is missing or too old"
    return (
        f"{head} The NVIDIA driver {why} for this PyTorch (CUDA {cuda_version}). Fix: install "
        f"the latest NVIDIA driver{newer} from {DRIVER_URL}, then restart the computer."
    )


def _unused_apple(host: Host) -> str:
    head = (
        "Point-E Studio is running on the CPU of this Apple-silicon Mac instead of its GPU, "
        "which is several times slower."
    )
    if host.rosetta:
        return f"{head} This is the Intel (x86_64) version, running through Rosetta. Fix: " + (
            "install the Apple-silicon (arm64) build of Point-E Studio."
            if host.frozen
            else "set it up again with an Apple-silicon (arm64) Python 3.10 or newer."
        )
    if _older_than(host.mac_version, (12, 3)):
        return (
            f"{head} Apple's GPU needs macOS 12.3 or newer (this Mac has {host.mac_version}). "
            "Fix: update macOS (Apple menu > System Settings > General > Software Update)."
        )
    return f"{head} Fix: update macOS to 12.3 or newer; if it is up to date, " + (
        "install the Apple-silicon (arm64) build of Point-E Studio."
        if host.frozen
        else f"reinstall PyTorch from PyPI in its folder: {mps_reinstall_command(host)}"
    )


def _older_than(version: str, wanted: tuple[int, int]) -> bool:
    try:
        parts = tuple(int(p) for p in version.split(".")[:2])
    except ValueError:
        return False
    return bool(parts) and (*parts, 0)[:2] < wanted


def _venv_python(host: Host) -> str:
    return r".venv\Scripts\python" if host.system == "Windows" else ".venv/bin/python"


def gpu_pip_command(host: Host | None = None) -> str:
    """The README's command that swaps a CPU-only torch for the CUDA build, for this OS."""
    host = host or current_host()
    # the local label (+cu130) makes pip replace an installed "2.14.1+cpu", which "==2.14.1" keeps
    label = CUDA_INDEX_URL.rstrip("/").rsplit("/", 1)[-1]
    pair = " ".join(f"{pin}+{label}" for pin in TORCH_PAIR)
    return f"{_venv_python(host)} -m pip install {pair} --index-url {CUDA_INDEX_URL}"


def mps_reinstall_command(host: Host | None = None) -> str:
    """Reinstalls PyPI's torch (CPU + MPS on macOS) over a build without Apple's GPU support."""
    host = host or current_host()
    return f"{_venv_python(host)} -m pip install --force-reinstall --no-deps {' '.join(TORCH_PAIR)}"


def _reinstall_fix(host: Host) -> str:
    if host.frozen:
        return "install Point-E Studio again from its installer."
    return "in its folder run  python3 packaging/bootstrap.py run  (it installs what is missing)."
