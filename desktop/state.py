"""The window's settings model: one frozen value the widgets show, the profile stores and the
request is built from, so the window and the CLI cannot disagree. None = "model default"."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.requests import GenerationRequest, PictureOptions
from engine.routes import DEFAULT_PRESET, EMBEDDED_MODEL
from engine.text2image.catalog import (  # plain data: no torch import
    DEFAULT_NAME,
    DEFAULT_NEGATIVE_PROMPT,
    DEFAULT_PROMPT_TEMPLATE,
)


@dataclass(frozen=True, kw_only=True)
class PictureChoice:
    """Text → Image → 3D: how the picture is drawn."""

    model: str = DEFAULT_NAME  # catalogue name, diffusers repo id or folder
    template: str = DEFAULT_PROMPT_TEMPLATE  # must contain {prompt}
    negative: str = DEFAULT_NEGATIVE_PROMPT
    steps: int | None = None  # None = the picture model's default
    review_first: bool = False  # Generate stops after the picture

    def options(self) -> PictureOptions:
        return PictureOptions(
            model=self.model,
            prompt_template=self.template,
            negative_prompt=self.negative,
            steps=self.steps,
        )


@dataclass(frozen=True, kw_only=True)
class GenerationSettings:
    """Everything the side panel sets. A fresh profile equals the CLI's defaults."""

    mode: str = "text"  # "text", "text-image" or "image" (desktop.modes)
    model: str = EMBEDDED_MODEL
    seed: int = 0
    preset: str = DEFAULT_PRESET
    steps: int | None = None  # None = the preset's
    guidance: float | None = None  # None = the preset's (the model's tuned value)
    sampler: str | None = None  # None = the preset's
    upsample: bool = True
    device: str = "cpu"
    precision: str = "float32"
    remove_background: bool = True
    low_vram: bool = False  # GPU: models leave it when done
    picture: PictureChoice = field(default_factory=PictureChoice)

    def request(
        self, *, prompt: str = "", image: Path | None = None, variations: int = 1
    ) -> GenerationRequest:
        """The engine request for these settings (`image` for Image → 3D, or a lifted picture)."""
        draws = self.mode == "text-image" and image is None
        return GenerationRequest(
            prompt=prompt if self.mode != "image" else "",
            image=image,
            model=self.model,
            upsample=self.upsample and variations == 1,
            seed=self.seed,
            preset=self.preset,
            steps=self.steps,
            guidance=self.guidance,
            sampler=self.sampler,
            device=self.device,
            precision=self.precision,
            picture=self.picture.options() if draws else None,
            remove_background=self.remove_background,
            variations=variations,
            low_vram=self.low_vram,
        )


@dataclass(frozen=True, kw_only=True)
class Job:
    """A request plus what only the window cares about (never sent into the engine)."""

    request: GenerationRequest
    mode: str = "text"
    picture_only: bool = False  # Text → Image → 3D: stop once the picture is drawn
    from_picture: bool = False  # lifts the picture panel's picture (no new prompt)
    picture: PictureChoice | None = None  # how the picture was (or will be) drawn
    edited_from: str | None = None  # re-upsampling an edit of this History entry (folder name)


def load_settings(store) -> GenerationSettings:
    """The settings model from the profile (desktop.settings.Settings)."""
    steps = store.get("generation/steps")
    guidance = store.get("generation/guidance_override")
    picture_steps = store.get("picture/steps")
    return GenerationSettings(
        mode=store.get("generation/mode"),
        model=store.get("generation/model"),
        seed=store.get("generation/seed"),
        preset=store.get("generation/preset"),
        steps=steps or None,
        guidance=None if guidance < 0 else guidance,
        sampler=store.get("generation/sampler") or None,
        upsample=store.get("generation/upsample"),
        device=store.get("generation/device"),
        precision=store.get("generation/precision"),
        remove_background=store.get("picture/remove_background"),
        low_vram=store.get("generation/low_vram"),
        picture=PictureChoice(
            model=store.get("picture/model"),
            template=store.get("picture/template") or DEFAULT_PROMPT_TEMPLATE,
            negative=store.get("picture/negative"),
            steps=picture_steps or None,
            review_first=store.get("picture/review_first"),
        ),
    )


def save_settings(store, s: GenerationSettings) -> None:
    """Write the settings model to the profile; defaults are stored as 'model default'."""
    store.set("generation/mode", s.mode)
    store.set("generation/model", s.model)
    store.set("generation/seed", s.seed)
    store.set("generation/preset", s.preset)
    store.set("generation/steps", s.steps or 0)
    store.set("generation/guidance_override", -1.0 if s.guidance is None else s.guidance)
    store.set("generation/sampler", s.sampler or "")
    store.set("generation/upsample", s.upsample)
    store.set("generation/device", s.device)
    store.set("generation/precision", s.precision)
    store.set("picture/remove_background", s.remove_background)
    store.set("generation/low_vram", s.low_vram)
    p = s.picture
    store.set("picture/model", p.model)
    store.set("picture/template", "" if p.template == DEFAULT_PROMPT_TEMPLATE else p.template)
    store.set("picture/negative", p.negative)
    store.set("picture/steps", p.steps or 0)
    store.set("picture/review_first", p.review_first)


def upsample_job(job: Job, cloud6, *, seed: int | None = None, image: Path | None = None) -> Job:
    """Continue `job` with a chosen or edited base cloud ((N, 6) xyz + rgb): only the upsampler
    runs, with the original's text or picture conditioning (a drawn picture: pass its file)."""
    from dataclasses import replace

    request = job.request
    return replace(
        job,
        request=replace(
            request,
            seed=request.seed if seed is None else seed,
            variations=1,
            upsample=True,
            image=image if image is not None else request.image,
            picture=None,
            base_cloud=cloud6,
        ),
        picture_only=False,
    )


def settings_from_meta(meta: dict, current: GenerationSettings) -> GenerationSettings:
    """The settings a History entry was made with (desktop.history_meta), over `current` for
    anything it does not record (older entries)."""
    from dataclasses import replace

    saved = meta.get("settings") or {}
    known = {k: saved[k] for k in ("preset", "steps", "guidance", "sampler") if k in saved}
    for key in ("upsample", "device", "precision"):
        if saved.get(key) is not None:
            known[key] = saved[key]
    out = replace(
        current,
        mode=meta.get("mode") or current.mode,
        model=meta.get("model") or current.model,
        seed=int(meta.get("seed") if meta.get("seed") is not None else current.seed),
        **{k: v for k, v in known.items() if k != "preset" or v},
    )
    picture = meta.get("picture") or {}
    if picture:
        out = replace(
            out,
            remove_background=bool(picture.get("remove_background", True)),
            picture=PictureChoice(
                model=picture.get("image_model") or out.picture.model,
                template=picture.get("prompt_template") or out.picture.template,
                negative=picture.get("negative_prompt") or "",
                steps=picture.get("image_steps"),
                review_first=out.picture.review_first,
            ),
        )
    return out
