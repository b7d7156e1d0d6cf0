"""Every route from input to point cloud, as data: read by window, CLI and pipeline."""

from __future__ import annotations

import json
import logging
from functools import cache

from engine.routes.spec import RouteSpec, StageSpec
from engine.userdata import resources_dir

log = logging.getLogger(__name__)

#: Model name that selects the small text-to-3D model shipped inside the app.
EMBEDDED_MODEL = "embedded"
#: Name of the built-in model's own upsampler (shipped beside it; never downloaded).
EMBEDDED_UPSAMPLER = "embedded-upsampler"
#: Catalogue name of the CLIP model every conditioned Point-E model needs.
CLIP_MODEL = "clip-vit-l-14"
GRID_MODELS = ("base40M", "base300M", "base1B")

# The official notebooks' settings (point_e/examples/*.ipynb):
# text2pointcloud: guided base (3.0, churn 3), unconditioned and unguided upsampler
TEXT_BASE = StageSpec(role="base", guidance=3.0, s_churn=3.0)
TEXT_UPSAMPLE = StageSpec(
    role="upsample", schedule="linear", guidance=0.0, sigma_max=160.0, conditioned=False
)
# image2pointcloud: both stages see the picture's CLIP grid and are guided
IMAGE_BASE = StageSpec(role="base", guidance=3.0, s_churn=3.0)
IMAGE_UPSAMPLE = StageSpec(role="upsample", schedule="linear", guidance=3.0, sigma_max=160.0)

#: The built-in model's sampling defaults if its JSON cannot be read (it then fails to load with
#: its own message); the shipped JSON's "defaults" section is the source of truth.
_BUILTIN_FALLBACK = {"guidance": 1.5, "steps": 24, "sigma_max": 20.0, "s_churn": 0.0}


def _shipped_defaults(file: str, fallback: dict | None) -> dict | None:
    """The "defaults" section of a built-in model's JSON in resources/models (None: absent)."""
    path = resources_dir() / "models" / file
    if fallback is None and not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("defaults", {})
    except (OSError, ValueError) as exc:
        log.warning("built-in model settings %s unreadable (%s): using fallbacks", path, exc)
        return fallback


def _spec(role: str, defaults: dict, conditioned: bool = True) -> StageSpec:
    fields = set(StageSpec.__dataclass_fields__) - {"role", "conditioned"}
    values = {k: v for k, v in defaults.items() if k in fields}
    return StageSpec(role=role, conditioned=conditioned, **values)


@cache
def builtin_stage() -> StageSpec:
    """The built-in model's tuned stage, read from resources/models/embedded.json."""
    return _spec("base", _shipped_defaults("embedded.json", _BUILTIN_FALLBACK) or {})


@cache
def builtin_upsample_stage() -> StageSpec | None:
    """The built-in upsampler's stage (resources/models/upsampler.json), None when the app
    ships without one: the built-in route then ends at 1,024 points."""
    defaults = _shipped_defaults("upsampler.json", None)
    return None if defaults is None else _spec("upsample", defaults, conditioned=False)


def _builtin_route() -> RouteSpec:
    up = builtin_upsample_stage()
    return RouteSpec(
        name="builtin-text",
        label="Built-in model",
        description="Text → 3D with the small model inside the app: simple shapes, colours "
        "and a few objects, in seconds on any computer. Nothing to download.",
        inputs="text",
        conditioning="builtin-text",
        base_models=(EMBEDDED_MODEL,),
        upsampler=EMBEDDED_UPSAMPLER if up is not None else None,
        stages=(builtin_stage(),) if up is None else (builtin_stage(), up),
        builder="engine.embedded_stage:builtin_stages",
    )


def _routes() -> dict[str, RouteSpec]:
    routes = (
        _builtin_route(),
        RouteSpec(
            name="official-text",
            label="Point-E text model",
            description="Text → 3D with OpenAI's base40M-textvec and the upsampler: any prompt, "
            "rough shapes, seconds on a GPU.",
            inputs="text",
            conditioning="clip-text",
            base_models=("base40M-textvec",),
            needs=(CLIP_MODEL,),
            upsampler="upsample",
            stages=(TEXT_BASE, TEXT_UPSAMPLE),
            builder="engine.official_stages:official_stages",
        ),
        RouteSpec(
            name="image-grid",
            label="Picture → 3D",
            description="Lift one picture (one object, plain background) into 3D with "
            "OpenAI's image models; bigger models give better shapes.",
            inputs="image",
            conditioning="clip-image-grid",
            base_models=GRID_MODELS,
            needs=(CLIP_MODEL,),
            upsampler="upsample",
            stages=(IMAGE_BASE, IMAGE_UPSAMPLE),
            builder="engine.official_stages:official_stages",
        ),
        RouteSpec(
            name="image-vector",
            label="Picture → 3D (CLIP vector)",
            description="Picture → 3D from the picture's single CLIP vector (base40M-imagevec).",
            inputs="image",
            conditioning="clip-image-vector",
            base_models=("base40M-imagevec",),
            needs=(CLIP_MODEL,),
            upsampler="upsample",
            stages=(IMAGE_BASE, TEXT_UPSAMPLE),
            builder="engine.official_stages:official_stages",
        ),
        RouteSpec(
            name="uncond",
            label="Unconditional",
            description="A random object from Point-E's training distribution (no input).",
            inputs="none",
            conditioning="",
            base_models=("base40M-uncond",),
            upsampler="upsample",
            stages=(TEXT_BASE, TEXT_UPSAMPLE),
            builder="engine.official_stages:official_stages",
        ),
        RouteSpec(
            name="text-picture",
            label="Text → Image → 3D",
            description="A picture is drawn from the text first (you can redraw or replace it), "
            "then lifted into 3D: better shapes than direct text, slower.",
            inputs="text",
            conditioning="clip-image-grid",
            base_models=GRID_MODELS,
            needs=(CLIP_MODEL,),
            upsampler="upsample",
            stages=(IMAGE_BASE, IMAGE_UPSAMPLE),
            builder="engine.official_stages:official_stages",
            draws_picture=True,
        ),
    )
    return {r.name: r for r in routes}


ROUTES: dict[str, RouteSpec] = _routes()


def register_route(route: RouteSpec) -> None:
    """Add a route (tests register a tiny random one; plug-ins could add models)."""
    ROUTES[route.name] = route


def route_for(model: str, *, draws_picture: bool = False) -> RouteSpec:
    """The route that runs `model` (with a picture drawn first when asked)."""
    candidates = [r for r in ROUTES.values() if model in r.base_models]
    for route in candidates:
        if route.draws_picture == draws_picture:
            return route
    if candidates and draws_picture:
        names = ", ".join(ROUTES["text-picture"].base_models)
        raise ValueError(f"Text → image → 3D needs a picture model ({names}), not {model}.")
    if candidates:
        return candidates[0]
    known = sorted({m for r in ROUTES.values() for m in r.base_models})
    raise ValueError(f"Unknown model {model!r}. Known models: {', '.join(known)}.")


def known_models() -> list[str]:
    return list(dict.fromkeys(m for r in ROUTES.values() for m in r.base_models))
