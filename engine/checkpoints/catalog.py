"""Catalogue of every model the app can install: files, sizes, licences, mirrors."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from engine.routes import CLIP_MODEL

log = logging.getLogger(__name__)

#: The CDN name the original code uses, and the storage account behind it (kept working if the
#: CDN name is retired).
POINTE_BASE = "https://openaipublic.azureedge.net/main/point-e/"
POINTE_BLOB_BASE = "https://openaipublic.blob.core.windows.net/main/point-e/"

CLIP_HF_BASE = "https://huggingface.co/timm/vit_large_patch14_clip_224.openai/resolve/main/"

#: Modules that may add entries (e.g. the text-to-image engine). Each, when importable, exposes
#: `CATALOG_ENTRIES: Iterable[ModelEntry]`. Imported lazily the first time the catalogue is read.
PLUGIN_MODULES: tuple[str, ...] = ("engine.text2image.catalog",)


@dataclass(frozen=True, kw_only=True)
class ModelFile:
    """One file as served: fetched as `<mirror base><filename>`."""

    filename: str  # name on the server (appended to every mirror base); may contain "/"
    size: int  # expected size in bytes (exact when sha256 is known, else a hint for disk checks)
    mirrors: tuple[str, ...]  # base URLs ending in "/", tried in order
    sha256: str | None = None  # published digest; None: recorded on the first good download


@dataclass(frozen=True, kw_only=True)
class ModelEntry:
    """A model the app knows about; `name` is what the user types and the pipeline asks for."""

    name: str  # catalogue key (official Point-E names are kept as is)
    kind: str  # "pointe" (structure from engine.models), "clip", "text2image", ...
    files: tuple[ModelFile, ...]  # the first file holds the weights that load_state_dict reads
    purpose: str  # one line for the Models dialog and `models list`
    licence: str  # licence of the weights
    params: int  # parameter count, for display
    vram_hint: str  # rough memory needed to run it

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def _pointe(name: str, filename: str, params: int, purpose: str, vram: str) -> ModelEntry:
    # Official files are plain float32 state dicts: size is params * 4 plus ~0.1 MiB of pickle.
    return ModelEntry(
        name=name,
        kind="pointe",
        files=(
            ModelFile(filename=filename, size=params * 4, mirrors=(POINTE_BASE, POINTE_BLOB_BASE)),
        ),
        purpose=purpose,
        licence="MIT (openai/point-e)",
        params=params,
        vram_hint=vram,
    )


_BUILTIN: tuple[ModelEntry, ...] = (
    _pointe(
        "base40M-textvec",
        "base_40m_textvec.pt",
        40_333_836,
        "text → 1,024 points (fast, text prompts)",
        "≈1 GB",
    ),
    _pointe(
        "base40M-imagevec",
        "base_40m_imagevec.pt",
        40_333_836,
        "picture → 1,024 points from a CLIP vector",
        "≈1 GB",
    ),
    _pointe(
        "base40M-uncond",
        "base_40m_uncond.pt",
        39_940_108,
        "unconditional 1,024 points (demo, tests)",
        "≈1 GB",
    ),
    _pointe(
        "base40M", "base_40m.pt", 40_466_956, "picture → 1,024 points (CLIP grid, small)", "≈1.5 GB"
    ),
    _pointe(
        "base300M",
        "base_300m.pt",
        311_778_316,
        "picture → 1,024 points (CLIP grid, better)",
        "≈3 GB",
    ),
    _pointe(
        "base1B", "base_1b.pt", 1_244_311_564, "picture → 1,024 points (CLIP grid, best)", "≈8 GB"
    ),
    _pointe("upsample", "upsample_40m.pt", 40_470_552, "1,024 → 4,096 points upsampler", "≈2 GB"),
    _pointe("sdf", "sdf.pt", 9_481_985, "point cloud → mesh (signed distance)", "≈1 GB"),
    ModelEntry(
        name="clip-vit-l-14",
        kind="clip",
        files=(
            ModelFile(
                filename="open_clip_model.safetensors",
                size=427_616_513 * 4,  # float32 weights
                mirrors=(CLIP_HF_BASE,),
            ),
        ),
        purpose="OpenAI CLIP ViT-L/14 (open_clip weights): conditions every picture/text model",
        licence="MIT (openai/CLIP)",
        params=427_616_513,
        vram_hint="≈2 GB",
    ),
)

_registry: dict[str, ModelEntry] = {e.name: e for e in _BUILTIN}
_plugins_loaded = False

#: Catalogue name of the CLIP model every conditioned Point-E model needs.
CLIP_NAME = CLIP_MODEL
#: Official Point-E names in catalogue order.
POINTE_NAMES: tuple[str, ...] = tuple(e.name for e in _BUILTIN if e.kind == "pointe")


def register_model(entry: ModelEntry, *, replace: bool = False) -> None:
    """Add a model to the catalogue (hook for the text-to-image engine and plugins)."""
    if not isinstance(entry, ModelEntry):
        raise TypeError(f"entry must be a ModelEntry, got {type(entry).__name__}")
    if entry.name in _registry and not replace and _registry[entry.name] != entry:
        raise ValueError(f"a model called {entry.name!r} is already in the catalogue")
    _registry[entry.name] = entry


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module_name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue  # plugin not written yet
            raise
        for entry in getattr(module, "CATALOG_ENTRIES", ()):
            register_model(entry, replace=True)


def all_entries() -> list[ModelEntry]:
    """Every model in catalogue order (built-ins first, then registered ones)."""
    _load_plugins()
    return list(_registry.values())


def get_entry(name: str) -> ModelEntry:
    """The entry called `name`; a ValueError listing the known names otherwise."""
    _load_plugins()
    if name not in _registry:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(_registry)}")
    return _registry[name]


def find_by_filename(filename: str) -> list[ModelEntry]:
    """Entries one of whose served files has this base name (used by import to disambiguate)."""
    base = filename.rsplit("/", 1)[-1]
    return [e for e in all_entries() if any(f.filename.rsplit("/", 1)[-1] == base for f in e.files)]
