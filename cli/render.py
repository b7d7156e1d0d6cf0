"""`render` subcommand: a PNG, or a turntable GIF/MP4, of a cloud or mesh without opening the app.

Rendering lives here (not in engine/, which never imports pyvista); the app may reuse
`render_frames` and `save_render`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from cli import CliError

FORMATS = (".png", ".gif", ".mp4")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "render",
        help="render a point cloud or mesh to PNG, or a turntable GIF/MP4",
        description="Headless render of FILE (.ply .npz .glb .stl .obj .3mf).",
    )
    parser.add_argument("file", help="point cloud or mesh to render")
    parser.add_argument("--out", required=True, help="picture to write: .png, .gif or .mp4")
    parser.add_argument("--size", default="800x800", help="width x height in pixels")
    parser.add_argument("--frames", type=int, default=36, help="turntable frames (GIF/MP4)")
    parser.add_argument("--fps", type=int, default=12, help="turntable frames per second")
    parser.add_argument("--point-size", type=float, default=6.0, help="point size in pixels")
    parser.add_argument("--background", default="white", help="background colour name or #hex")
    parser.add_argument("--elevation", type=float, default=25.0, help="camera height, degrees")
    parser.add_argument("--azimuth", type=float, default=-60.0, help="camera start angle, degrees")
    parser.set_defaults(func=run)


def _headless_backend() -> None:
    """Without a display, VTK renders through EGL (must be chosen before vtk is imported)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")


def render_frames(
    obj,
    *,
    size: tuple[int, int] = (800, 800),
    frames: int = 1,
    point_size: float = 6.0,
    background: str = "white",
    elevation: float = 25.0,
    azimuth: float = -60.0,
) -> list[np.ndarray]:
    """RGB frames (H, W, 3) uint8; with frames > 1 the camera circles the object once (Z up).

    Elevation is above the XY plane (negative looks from below, e.g. at a flat base)."""
    _headless_backend()
    import pyvista as pv

    from engine.pointcloud import Mesh

    if isinstance(obj, Mesh):
        faces = np.hstack([np.full((len(obj.faces), 1), 3), obj.faces]).ravel()
        data = pv.PolyData(obj.verts.astype(np.float64), faces)
    else:
        data = pv.PolyData(obj.coords.astype(np.float64))
    kwargs: dict = {}
    if obj.colors is not None:
        data.point_data["rgb"] = np.round(obj.colors * 255).astype(np.uint8)
        kwargs.update(scalars="rgb", rgb=True)
    else:
        kwargs.update(color="#c8b496")
    if isinstance(obj, Mesh):
        kwargs.update(smooth_shading=True, split_sharp_edges=True)  # flat bases stay flat
    else:
        kwargs.update(point_size=point_size, render_points_as_spheres=True)
    plotter = pv.Plotter(off_screen=True, window_size=list(size))
    try:
        plotter.set_background(background)
        plotter.add_mesh(data, **kwargs)
        centre = np.asarray(data.center)
        el = np.radians(np.clip(elevation, -89.0, 89.0))
        images = []
        for k in range(max(frames, 1)):
            az = np.radians(azimuth + 360.0 * k / max(frames, 1))
            direction = np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
            plotter.camera.focal_point = tuple(centre)
            plotter.camera.position = tuple(centre + direction)
            plotter.camera.up = (0.0, 0.0, 1.0)
            plotter.reset_camera()  # keeps the direction, fits the distance
            plotter.render()
            images.append(np.asarray(plotter.screenshot(return_img=True))[..., :3].copy())
        return images
    finally:
        plotter.close()


def save_render(obj, out: str | os.PathLike, *, frames: int = 36, fps: int = 12, **kwargs) -> Path:
    """PNG: one frame; GIF/MP4: a turntable. Written to a temp file and renamed into place."""
    import imageio.v3 as iio

    from engine.export import atomic_write_bytes

    out = Path(out)
    ext = out.suffix.lower()
    if ext not in FORMATS:
        raise CliError(
            f"cannot render to {ext or 'a file without extension'}: use .png, .gif or .mp4"
        )
    if ext == ".mp4":
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError as exc:
            raise CliError("MP4 needs the imageio-ffmpeg package; use .gif, or install it") from exc
    images = render_frames(obj, frames=1 if ext == ".png" else frames, **kwargs)
    if ext == ".png":
        data = iio.imwrite("<bytes>", images[0], extension=".png")
    elif ext == ".gif":
        data = iio.imwrite(
            "<bytes>", np.stack(images), extension=".gif", duration=1000 / fps, loop=0
        )
    else:
        data = iio.imwrite("<bytes>", np.stack(images), extension=".mp4", fps=fps)
    return atomic_write_bytes(out, data)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise CliError(f"--size must look like 800x600, got {text!r}") from exc
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise CliError(f"--size must be between 16 and 8192 pixels per side, got {text!r}")
    return w, h


def run(args: argparse.Namespace) -> int:
    from engine import export
    from engine.errors import StudioError

    if not 1 <= args.frames <= 720 or not 1 <= args.fps <= 120:
        raise CliError("--frames must be 1 to 720 and --fps 1 to 120")
    size = _size(args.size)
    try:
        obj = export.load(args.file)
        path = save_render(
            obj, args.out, frames=args.frames, fps=args.fps, size=size,
            point_size=args.point_size, background=args.background,
            elevation=args.elevation, azimuth=args.azimuth,
        )  # fmt: skip
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:  # pyvista: unknown colour name and similar
        raise CliError(f"cannot render: {exc}") from exc
    print(f"wrote {path}")
    return 0
