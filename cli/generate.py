"""`generate`: prompt or picture -> point cloud file, with progress on stderr."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cli import CliError
from engine.routes import PRESETS, SAMPLER_LABELS, known_models


def add_parser(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="make a point cloud from a prompt or a picture",
        description="Generate a coloured point cloud. Without --model, the built-in model is "
        "used (no download needed); it knows simple shapes, colours and a few objects.",
    )
    p.add_argument("--prompt", default="", help='what to make, e.g. "a red cube"')
    p.add_argument("--image", type=Path, help="a picture to turn into 3D (image models)")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="output file: .ply .npz .glb (with --variations: a folder, one PLY per seed)",
    )
    p.add_argument("--model", default=None, help=", ".join(known_models()))
    p.add_argument(
        "--via-image",
        action="store_true",
        help="text -> picture (text-to-image model) -> 3D; better, slower",
    )
    p.add_argument("--image-model", default=None, help="diffusers model id or folder")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--preset",
        default="official",
        choices=list(PRESETS),
        help="speed: " + "; ".join(f"{k}: {v.description}" for k, v in PRESETS.items()),
    )
    p.add_argument("--steps", type=int, default=None, help="denoising steps per stage")
    p.add_argument("--guidance", type=float, default=None, help="classifier-free guidance")
    p.add_argument("--sampler", default=None, choices=list(SAMPLER_LABELS))
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    p.add_argument("--precision", default="float32", choices=["float32", "float16"])
    p.add_argument("--no-upsample", action="store_true", help="stop at 1,024 points")
    p.add_argument(
        "--low-vram",
        action="store_true",
        help="GPU with little memory: CLIP and each stage's model leave the GPU when done",
    )
    p.add_argument(
        "--variations",
        type=int,
        default=1,
        metavar="N",
        help="N candidates (2-9) from consecutive seeds, base stage only, in one batch",
    )
    p.set_defaults(func=run)


def _model_for(args) -> str:
    if args.model:
        return args.model
    if args.image is not None or args.via_image:
        return "base40M"
    return "embedded"


def build_request(args: argparse.Namespace):
    """The GenerationRequest these arguments describe (the window builds the same one)."""
    from engine.requests import GenerationRequest, PictureOptions

    picture = PictureOptions(model=args.image_model) if args.via_image else None
    return GenerationRequest(
        prompt=args.prompt,
        image=args.image,
        model=_model_for(args),
        seed=args.seed,
        preset=args.preset,
        steps=args.steps,
        guidance=args.guidance,
        sampler=args.sampler,
        device=args.device,
        precision=args.precision,
        upsample=not args.no_upsample and args.variations == 1,
        picture=picture,
        variations=args.variations,
        low_vram=args.low_vram,
    )


def run(args: argparse.Namespace) -> int:
    from engine.errors import StudioError
    from engine.export import save
    from engine.pipeline import run as run_pipeline
    from engine.pointcloud import PointCloud

    started = time.monotonic()
    try:
        pipeline = run_pipeline(build_request(args))
        last = None
        for step in pipeline:
            if last is None and step.seconds_left is not None:
                print(f"estimated time: about {step.seconds_left:.0f} s", file=sys.stderr)
            last = step
            for notice in step.notices:
                print(f"note: {notice}", file=sys.stderr)
            if sys.stderr.isatty() or step.final:
                left = "" if step.seconds_left is None else f", {step.seconds_left:.0f} s left"
                print(
                    f"\r{step.stage} {step.step}/{step.total_steps}"
                    f"{' done' if step.final else left}   ",
                    end="\n" if step.final else "",
                    file=sys.stderr,
                    flush=True,
                )
        cloud = pipeline.result
        if args.variations > 1:
            args.out.mkdir(parents=True, exist_ok=True)
            for i, (coords, colors) in enumerate(last.variations):
                seed = args.seed + i
                meta = {**cloud.meta, "seed": seed}
                save(PointCloud(coords, colors, meta), args.out / f"seed-{seed}.ply")
        else:
            save(cloud, args.out)
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"Cannot write {args.out}: {exc.strerror or exc}") from exc
    seconds = time.monotonic() - started
    if args.variations > 1:
        print(f"wrote {args.variations} clouds to {args.out} ({seconds:.1f} s)")
    else:
        print(f"wrote {args.out} ({len(cloud)} points, {seconds:.1f} s)")
    return 0
