"""`generate`: prompt or picture -> point cloud file, with progress on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import CliError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="make a point cloud from a prompt or a picture",
        description="Generate a coloured point cloud. Without --model, the built-in model is "
        "used (no download needed); it knows simple shapes, colours and a few objects.",
    )
    p.add_argument("--prompt", default="", help='what to make, e.g. "a red cube"')
    p.add_argument("--image", type=Path, help="a picture to turn into 3D (image models)")
    p.add_argument("--out", type=Path, required=True, help="output file: .ply .npz .glb")
    p.add_argument(
        "--model",
        default=None,
        help="embedded (default), base40M-textvec, base40M, base300M, base1B, ...",
    )
    p.add_argument(
        "--via-image",
        action="store_true",
        help="text -> picture (text-to-image model) -> 3D; better, slower",
    )
    p.add_argument("--image-model", default=None, help="diffusers model id or folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=None, help="denoising steps per stage")
    p.add_argument("--guidance", type=float, default=None, help="classifier-free guidance")
    p.add_argument("--sampler", default="heun", choices=["heun", "dpm", "euler_ancestral"])
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    p.add_argument("--precision", default="float32", choices=["float32", "float16"])
    p.add_argument("--no-upsample", action="store_true", help="stop at 1,024 points")
    p.set_defaults(func=run)


def _model_for(args) -> str:
    if args.model:
        return args.model
    if args.image is not None or args.via_image:
        return "base40M"
    return "embedded"


def run(args: argparse.Namespace) -> int:
    from engine.errors import StudioError
    from engine.export import save
    from engine.pipeline import run as run_pipeline
    from engine.requests import GenerationRequest

    extra = {}
    if args.via_image:
        extra["via_image"] = True
        if args.image_model:
            extra["image_model"] = args.image_model
    request = GenerationRequest(
        prompt=args.prompt,
        image=args.image,
        model=_model_for(args),
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        sampler=args.sampler,
        device=args.device,
        precision=args.precision,
        upsample=not args.no_upsample,
        extra=extra,
    )
    started = time.monotonic()
    try:
        gen = run_pipeline(request)
        while True:
            try:
                step = next(gen)
            except StopIteration as stop:
                cloud = stop.value
                break
            for notice in step.notices:
                print(f"note: {notice}", file=sys.stderr)
            if sys.stderr.isatty() or step.final:
                print(
                    f"\r{step.stage} {step.step}/{step.total_steps}"
                    f"{' done' if step.final else ''}   ",
                    end="\n" if step.final else "",
                    file=sys.stderr,
                    flush=True,
                )
        save(cloud, args.out)
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    print(f"wrote {args.out} ({len(cloud)} points, {time.monotonic() - started:.1f} s)")
    return 0
