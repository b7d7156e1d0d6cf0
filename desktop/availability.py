"""What this machine can run: devices and installed models, probed off the start-up path."""

from __future__ import annotations

import importlib
import logging
import platform
from dataclasses import dataclass, field

from engine.routes import EMBEDDED_MODEL, ROUTES, route_for
from engine.text2image.catalog import TEXT2IMAGE_DEFAULT  # plain data: no torch import

log = logging.getLogger(__name__)

#: The text-to-image model used unless the user picks another (engine.text2image's default).
DEFAULT_IMAGE_MODEL = TEXT2IMAGE_DEFAULT["name"]

# mode -> (label, hint shown in the side panel); the routes behind each mode are data in
# engine.routes, which says which models each needs
MODES = {
    "text": (
        "Text → 3D (direct)",
        "Direct: seconds, rough shapes. A text-conditioned model draws the cloud itself.",
    ),
    "text-image": (
        "Text → Image → 3D",
        "Via a picture: better shapes, slower. A picture is drawn first (you can redraw or "
        "replace it), then lifted into 3D.",
    ),
    "image": ("Image → 3D", "Lift your own picture (one object, plain background) into 3D."),
}
MODE_ROUTES = {
    "text": ("builtin-text", "official-text"),
    "text-image": ("text-picture",),
    "image": ("image-grid",),
}
ALWAYS_INSTALLED = {EMBEDDED_MODEL}


def mode_models(mode: str) -> list[str]:
    """Base models offered in the model box for a mode (first = default)."""
    return [m for r in MODE_ROUTES[mode] for m in ROUTES[r].base_models]


def needed_models(
    mode: str, model: str | None = None, *, upsample: bool = True, image_model: str | None = None
) -> list[str]:
    """Every model a run of `mode` with `model` needs, in download order (the route's list)."""
    model = model or mode_models(mode)[0]
    route = route_for(model, draws_picture=mode == "text-image")
    picture = image_model_label(image_model or DEFAULT_IMAGE_MODEL)
    return route.required_models(model, upsample=upsample, picture_model=picture)


@dataclass(frozen=True)
class Availability:
    """A snapshot of what can run; built in a background thread, read by the window."""

    devices: tuple[str, ...] = ("cpu",)
    installed: frozenset[str] = frozenset(ALWAYS_INSTALLED)
    torch_version: str | None = None
    notes: dict = field(default_factory=dict)
    #: the text-to-image model (catalogue name, diffusers repo id or folder) `installed` was
    #: probed for; its name is in `installed` when it loads offline
    image_model: str = DEFAULT_IMAGE_MODEL

    def model_installed(self, name: str) -> bool:
        return (
            name in ALWAYS_INSTALLED
            or name in self.installed
            or (name == image_model_label(self.image_model) and self.image_model in self.installed)
        )

    def missing(self, mode: str, model: str | None = None, *, upsample: bool = True) -> list[str]:
        """Models to download before `mode` runs with `model` (empty = ready)."""
        if model is None:  # the mode's default: its first installed base model
            bases = mode_models(mode)
            model = next((b for b in bases if self.model_installed(b)), bases[0])
        needed = needed_models(mode, model, upsample=upsample, image_model=self.image_model)
        return [m for m in needed if not self.model_installed(m)]

    def mode_missing(self, mode: str) -> list[str]:
        """Models to download before `mode` can run at all (empty = ready)."""
        return self.missing(mode)


def image_model_label(model: str) -> str:
    """The name to ask for: the catalogue name for the default's repo id, else `model` itself."""
    return DEFAULT_IMAGE_MODEL if model == TEXT2IMAGE_DEFAULT["repo_id"] else model


def download_bytes(names: list[str]) -> int:
    """Total download size of the catalogue models among `names` (others count 0)."""
    try:
        from engine.checkpoints import get_entry
    except Exception:  # the store is unavailable: no estimate
        return 0
    total = 0
    for name in names:
        try:
            total += int(get_entry(name).size or 0)
        except (KeyError, ValueError):
            continue
    return total


def in_catalogue(name: str) -> bool:
    """Whether the Models dialog can download `name` (a custom folder or repo id cannot be)."""
    try:
        from engine.checkpoints import get_entry

        get_entry(name)
    except Exception:
        return False
    return True


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


def probe_installed(image_model: str = DEFAULT_IMAGE_MODEL) -> frozenset[str]:
    """Ask the model store which models are present; any failure means 'not installed'.

    `image_model` (catalogue name, repo id or folder) is checked offline by engine.text2image,
    which also finds the default model in the Hugging Face cache."""
    names = {n for mode in MODES for n in needed_models(mode, image_model=image_model)}
    names |= {m for r in ROUTES.values() for m in (*r.base_models, *r.needs)} | {"sdf"}
    found = set(ALWAYS_INSTALLED)
    try:
        store = importlib.import_module("engine.checkpoints").default_store()
    except Exception as exc:
        log.info("model store not available: %s", exc)
        return frozenset(found)
    for name in sorted(names - found):
        if not in_catalogue(name):  # e.g. a route registered at run time: not in the store
            continue
        try:
            if store.is_installed(name):
                found.add(name)
        except Exception:
            log.debug("is_installed(%s) failed", name, exc_info=True)
    try:
        if importlib.import_module("engine.text2image.models").is_installed(image_model):
            found.add(image_model)
    except Exception:
        log.debug("text-to-image probe of %s failed", image_model, exc_info=True)
    return frozenset(found)


def probe(image_model: str = DEFAULT_IMAGE_MODEL) -> Availability:
    """Everything at once: devices, installed models, and torch warmed up for the first run."""
    devices, torch_version = probe_devices()
    installed = probe_installed(image_model)
    try:  # pre-import the pipeline so the first Generate starts at once
        importlib.import_module("engine.pipeline")
    except Exception as exc:
        log.info("engine.pipeline not importable yet: %s", exc)
    return Availability(
        devices=devices, installed=installed, torch_version=torch_version, image_model=image_model
    )
