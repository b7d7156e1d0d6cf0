"""What this machine can run: devices and installed models, probed off the start-up path."""

from __future__ import annotations

import importlib
import logging
import platform
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# mode -> (label, hint shown in the side panel)
MODES = {
    "text": ("Text → 3D", "Fast: a text-conditioned model draws the cloud directly."),
    "text-image": (
        "Text → Image → 3D",
        "Better shapes, slower: draws a picture first, then lifts it into 3D.",
    ),
    "image": ("Image → 3D", "Lift your own picture (one object, plain background) into 3D."),
}
# mode -> base models offered in the model box (first = default)
MODE_MODELS = {
    "text": ["embedded", "base40M-textvec"],
    "text-image": ["base40M", "base300M", "base1B"],
    "image": ["base40M", "base300M", "base1B"],
}
# models that must be installed besides the base model, per mode
MODE_EXTRAS = {
    "text": [],
    "text-image": ["clip-vit-l-14", "text2image"],
    "image": ["clip-vit-l-14"],
}
ALWAYS_INSTALLED = {"embedded"}


@dataclass(frozen=True)
class Availability:
    """A snapshot of what can run; built in a background thread, read by the window."""

    devices: tuple[str, ...] = ("cpu",)
    installed: frozenset[str] = frozenset(ALWAYS_INSTALLED)
    torch_version: str | None = None
    notes: dict = field(default_factory=dict)

    def model_installed(self, name: str) -> bool:
        return name in ALWAYS_INSTALLED or name in self.installed

    def mode_missing(self, mode: str) -> list[str]:
        """Models to download before `mode` can run (empty = ready)."""
        bases = MODE_MODELS.get(mode, [])
        missing = [] if any(self.model_installed(b) for b in bases) else bases[:1]
        missing += [m for m in MODE_EXTRAS.get(mode, []) if not self.model_installed(m)]
        return missing


def guess_devices() -> tuple[str, ...]:
    """Cheap guess without torch, shown until the real probe answers."""
    devices = ["cpu"]
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        devices.append("mps")
    return tuple(devices)


def probe_devices() -> tuple[tuple[str, ...], str | None]:
    """Imports torch (slow; call from a background thread) and asks it what is usable."""
    try:
        import torch
    except ImportError:
        return ("cpu",), None
    devices = ["cpu"]
    try:
        if torch.cuda.is_available():
            devices.append("cuda")
    except Exception:
        log.warning("CUDA probe failed", exc_info=True)
    try:
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            devices.append("mps")
    except Exception:
        log.warning("MPS probe failed", exc_info=True)
    return tuple(devices), torch.__version__


def probe_installed() -> frozenset[str]:
    """Ask the model store which models are present; any failure means 'not installed'."""
    names = {n for models in MODE_MODELS.values() for n in models}
    names |= {n for extras in MODE_EXTRAS.values() for n in extras} | {"upsample", "sdf"}
    names |= {"clip-vit-l-14"}
    found = set(ALWAYS_INSTALLED)
    try:
        store = importlib.import_module("engine.checkpoints").default_store()
    except Exception as exc:
        log.info("model store not available: %s", exc)
        return frozenset(found)
    for name in sorted(names - found):
        try:
            if store.is_installed(name):
                found.add(name)
        except Exception:
            log.debug("is_installed(%s) failed", name, exc_info=True)
    return frozenset(found)


def probe() -> Availability:
    """Everything at once: devices, installed models, and torch warmed up for the first run."""
    devices, torch_version = probe_devices()
    installed = probe_installed()
    try:  # pre-import the pipeline so the first Generate starts at once
        importlib.import_module("engine.pipeline")
    except Exception as exc:
        log.info("engine.pipeline not importable yet: %s", exc)
    return Availability(devices=devices, installed=installed, torch_version=torch_version)
