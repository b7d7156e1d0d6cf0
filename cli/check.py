"""`check` subcommand: is a mesh ready to print? Size, holes, parts, overhangs, thin walls."""

from __future__ import annotations

import argparse
import json
import math

from cli import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="check a mesh before printing: size, watertight, parts, overhangs, thin walls",
        description="Example: python main.py check part.stl --nozzle 0.4  (the mesh is read as "
        "millimetres, z up, resting on its lowest point)",
    )
    p.add_argument("input", metavar="FILE", help="mesh file (.stl .obj .ply .glb .3mf)")
    p.add_argument("--nozzle", type=float, default=0.4, help="nozzle width in mm for thin walls")
    p.add_argument("--json", action="store_true", help="print one JSON object (for scripts)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine import export
    from engine.errors import StudioError
    from engine.meshing.printcheck import check_print
    from engine.pointcloud import Mesh

    if not math.isfinite(args.nozzle) or args.nozzle <= 0:
        raise CliError(f"--nozzle must be a positive width in mm, got {args.nozzle}")
    try:
        obj = export.load(args.input)
        if not isinstance(obj, Mesh):
            raise CliError(
                f"{args.input} is a point cloud, not a mesh: make one first with "
                f"`python main.py export {args.input} --mesh --size-mm 80 --out part.stl`"
            )
        result = check_print(obj, nozzle_mm=args.nozzle)
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result.as_dict(), allow_nan=False))
        return 0
    for line in result.summary():
        print(line)
    problems = result.warnings()
    for warning in problems:
        print(f"warning: {warning}")
    if not problems:
        print("no problems found: ready for the slicer")
    return 0
