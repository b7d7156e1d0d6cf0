"""What a History entry records about how its result was made (prompt, settings, picture)."""

from __future__ import annotations

from desktop.state import Job
from engine.pointcloud import PointCloud


def history_meta(job: Job | None, cloud: PointCloud, seconds: float) -> dict:
    """The metadata saved beside a result; enough to make it again."""
    request = job.request if job else None
    meta: dict = {
        "prompt": request.prompt if request else "",
        "image": str(request.image) if request and request.image else None,
        "seed": request.seed if request else None,
        "model": cloud.meta.get("model", request.model if request else None),
        "mode": job.mode if job else None,
        "picture": picture_meta(job),
        "settings": {},
        "duration_s": round(seconds, 3),
        "edited_from": job.edited_from if job else None,
        "engine": {k: v for k, v in cloud.meta.items() if k not in ("prompt", "model")},
    }
    if request is not None:
        meta["settings"] = {
            "preset": request.preset,
            "steps": request.steps,
            "guidance": request.guidance,
            "upsample": request.upsample,
            "sampler": request.sampler,
            "device": request.device,
            "precision": request.precision,
        }
    return meta


def picture_meta(job: Job | None) -> dict | None:
    """How a Text → Image → 3D result's picture was made (None for other routes)."""
    if job is None or job.mode != "text-image" or job.picture is None:
        return None
    p = job.picture
    return {
        "image_model": p.model,
        "prompt_template": p.template,
        "negative_prompt": p.negative,
        "image_steps": p.steps,
        "remove_background": job.request.remove_background,
        "continued_from": str(job.request.image) if job.request.image else None,
    }
