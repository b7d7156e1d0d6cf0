"""`export` subcommand: convert a cloud, or mesh it and prepare it for printing, then save."""

from __future__ import annotations

import argparse
import logging
import sys

from cli import CliError

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="save a point cloud as PLY/NPZ/GLB, or mesh it to STL/OBJ/PLY/GLB/3MF for printing",
        description="Example: python main.py export pc.npz --mesh --size-mm 80 --flat-base "
        "--out part.3mf",
    )
    p.add_argument("input", help="point cloud (.ply .npz .glb) or mesh (.ply .stl .obj .glb .3mf)")
    p.add_argument("--out", required=True, help="file to write; its extension picks the format")
    p.add_argument("--mesh", action="store_true", help="turn the point cloud into a closed mesh")
    p.add_argument(
        "--method", choices=("auto", "grid", "sdf"), default="auto",
        help="auto: Point-E's SDF model when installed, else the classical grid mesher",
    )  # fmt: skip
    p.add_argument("--grid", type=int, default=128, help="mesher grid resolution (32-256)")
    p.add_argument("--smooth", type=int, default=0, metavar="N", help="smoothing iterations")
    p.add_argument("--faces", type=int, metavar="N", help="decimate to about N triangles")
    p.add_argument("--size-mm", type=float, help="scale so the longest side is this many mm")
    p.add_argument("--fit-height", action="store_true", help="--size-mm sets the height instead")
    base = p.add_mutually_exclusive_group()
    base.add_argument("--flat-base", action="store_true", help="cut the bottom flat")
    base.add_argument("--rest", action="store_true", help="rest on the lowest convex face")
    p.add_argument("--base-depth-mm", type=float, default=1.0, help="how much --flat-base cuts")
    p.add_argument("--nozzle-mm", type=float, default=0.4, help="nozzle for the thin-wall check")
    p.add_argument("--ascii", action="store_true", help="write PLY as text")
    p.set_defaults(func=run)


def _sdf_model(method: str):
    """The installed official SDF model for auto/sdf, or None for the grid mesher."""
    if method == "grid":
        return None
    from engine.checkpoints import default_store, load_official_model

    if method == "auto" and not default_store().is_installed("sdf"):
        log.info("the 'sdf' model is not installed; using the grid mesher")
        return None
    return load_official_model("sdf")


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\rSDF grid: {100 * done // total:3d}%" + ("\n" if done == total else ""))


def run(args: argparse.Namespace) -> int:
    from engine import export, meshing
    from engine.errors import StudioError
    from engine.pointcloud import Mesh

    printing = args.size_mm is not None or args.flat_base or args.rest
    try:
        obj = export.load(args.input)
        if args.mesh and not isinstance(obj, Mesh):
            model = _sdf_model(args.method)
            obj, report = meshing.mesh_point_cloud(
                obj, method="sdf" if model is not None else "grid", grid=args.grid,
                sdf_model=model, smooth_iterations=args.smooth, target_faces=args.faces,
                progress=_progress,
            )  # fmt: skip
            print(
                f"mesh ({report.method}, grid {args.grid}): {report.n_faces} triangles, "
                f"watertight: {'yes' if report.watertight else 'NO'}, {report.seconds:.1f} s"
            )
            for note in report.notes:
                print(f"note: {note}")
        elif isinstance(obj, Mesh) and (args.smooth or args.faces):
            obj, report = meshing.clean_mesh(
                obj, smooth_iterations=args.smooth, target_faces=args.faces
            )
        if printing:
            if not isinstance(obj, Mesh):
                raise CliError("--size-mm, --flat-base and --rest need a mesh: add --mesh")
            obj, pr = meshing.prepare_for_print(
                obj,
                size_mm=args.size_mm if args.size_mm is not None else 80.0,
                fit="height" if args.fit_height else "longest",
                base="cut" if args.flat_base else "rest" if args.rest else "none",
                base_depth_mm=args.base_depth_mm,
                nozzle_mm=args.nozzle_mm,
            )
            x, y, z = pr.size_mm
            print(f"size: {x:.1f} x {y:.1f} x {z:.1f} mm, volume {pr.volume_mm3 / 1000:.1f} cm³")
            for warning in pr.warnings:
                print(f"warning: {warning}")
        if isinstance(obj, Mesh) and args.out.lower().endswith(".3mf") and not printing:
            print("note: 3MF is in millimetres; add --size-mm to set a real size")
        if not isinstance(obj, Mesh) and not args.out.lower().endswith(export.CLOUD_FORMATS):
            raise CliError(f"{args.out}: a point cloud cannot be saved in that format; add --mesh")
        path = export.save(obj, args.out, ascii=args.ascii)
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    print(f"wrote {path}")
    return 0
