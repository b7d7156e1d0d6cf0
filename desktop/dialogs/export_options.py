"""What the Export dialog can write and how (the CLI's export options), and the job doing it."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.pointcloud import Mesh, PointCloud

log = logging.getLogger(__name__)

DEFAULT_FACES = 50_000  # plenty for an FDM print; a raw grid-128 mesh has ~250k (a 14 MB STL)
DEFAULT_SIZE_MM = 80.0
DEFAULT_GRID = 128
DEFAULT_TYPE = "stl"


@dataclass(frozen=True)
class FileType:
    """One entry of the dialog's format list."""

    id: str  # stored in the settings as the last chosen type
    label: str  # what the list shows
    ext: str  # the file's extension
    mesh: bool  # True: a printable mesh is built first; False: the points are saved as they are


FILE_TYPES = (
    FileType("stl", "STL printable mesh, mm (.stl)", ".stl", True),
    FileType("3mf", "3MF printable mesh, mm (.3mf)", ".3mf", True),
    FileType("obj", "OBJ mesh, mm (.obj)", ".obj", True),
    FileType("ply-mesh", "PLY mesh with colours, mm (.ply)", ".ply", True),
    FileType("glb-mesh", "GLB mesh with colours, mm (.glb)", ".glb", True),
    FileType("ply", "PLY point cloud (.ply)", ".ply", False),
    FileType("npz", "Point-E NPZ point cloud (.npz)", ".npz", False),
    FileType("glb", "GLB point cloud (.glb)", ".glb", False),
)
TYPES_BY_ID = {t.id: t for t in FILE_TYPES}


def type_for_path(path: Path) -> FileType:
    """The type a bare path implies (PLY and GLB mean a point cloud unless chosen otherwise)."""
    ext = Path(path).suffix.lower()
    for t in FILE_TYPES:
        if t.ext == ext and (not t.mesh or ext not in (".ply", ".glb")):
            return t
    return TYPES_BY_ID["ply"]


def sdf_availability() -> tuple[bool, str]:
    """(usable, reason): Point-E's SDF mesher needs its model in the store."""
    try:
        from engine.checkpoints import default_store

        if default_store().is_installed("sdf"):
            return True, ""
    except Exception:  # a broken store only means "not available" here
        log.exception("could not check the SDF model")
    return False, "Needs Point-E's “sdf” model (Models → Models…)."


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """Everything one export needs; the widgets are a view of this."""

    path: Path  # where the file goes (written atomically)
    file_type: FileType  # format, and whether a mesh is built
    method: str = "grid"  # "grid": the classical mesher; "sdf": Point-E's SDF model
    grid: int = DEFAULT_GRID  # mesher grid resolution (32-256)
    smooth: int = 0  # smoothing iterations
    max_faces: int | None = DEFAULT_FACES  # simplify to at most this many triangles; None: keep
    size_mm: float = DEFAULT_SIZE_MM  # the longest side, in millimetres
    flat_base: bool = True  # cut the bottom flat so it sits on the bed
    base_depth_mm: float = 1.0  # how much the flat base cuts off
    nozzle_mm: float = 0.4  # the nozzle the thin-wall check measures against


@dataclass
class Prepared:
    """What the job built: the object to write and what the dialog tells the user about it."""

    obj: PointCloud | Mesh
    check: object | None = None  # engine.meshing.printcheck.PrintCheck for meshes
    faces_note: str = ""  # "Simplified to 50,000 triangles (from 280,112)."
    notes: list[str] = field(default_factory=list)  # the mesher's remarks
    preview: np.ndarray | None = None  # (H, W, 3) uint8 picture


def _sentence(text: str) -> str:
    return html.escape(text[:1].upper() + text[1:])


def report_html(prepared: Prepared) -> str:
    """What the dialog shows beside the preview: the face count, the print check, warnings."""
    if prepared.check is None:
        n = len(prepared.obj.coords)
        return f"<b>Point cloud</b><br>{n:,} points, saved as they are."
    lines = [f"<b>{html.escape(prepared.faces_note)}</b>"]
    lines += [_sentence(s) for s in prepared.check.summary()]
    lines += [f"Note: {html.escape(n)}" for n in prepared.notes]
    warnings = prepared.check.warnings()
    if warnings:
        lines.append("<br><b>Before printing:</b>")
        lines += [f"⚠ {_sentence(w)}" for w in warnings]
    else:
        lines.append("<br><b>No problems found.</b>")
    return "<br>".join(lines)


def faces_note(before: int, after: int, budget: int | None) -> str:
    """One sentence saying what the face budget did."""
    if budget is None:
        return f"{after:,} triangles (not simplified)."
    if after < before:
        return f"Simplified to {after:,} triangles (from {before:,})."
    if before <= budget:
        return f"{after:,} triangles (already under the {budget:,} limit)."
    return f"{after:,} triangles: it could not be simplified without opening holes."


Report = Callable[[object], None]
Cancelled = Callable[[], bool]


def stop_if_cancelled(cancelled: Cancelled) -> None:
    """Raise WorkerAborted once the user pressed Cancel (checked between steps)."""
    from desktop.workers import WorkerAborted

    if cancelled():
        raise WorkerAborted()


def load_mesh_libraries() -> None:
    """Import pymeshlab on the GUI thread, before any worker needs it.

    Its first import inside a worker thread corrupts the heap, and the app aborts on exit
    ("malloc_consolidate(): unaligned fastbin chunk"); imported here first it is harmless.
    Costs about 0.4 s, once."""
    import pymeshlab  # noqa: F401


def print_ready(mesh: Mesh, opts: ExportOptions) -> Mesh:
    """Real size in mm, standing on the bed, with the flat base cut when asked."""
    from engine.meshing import prepare_for_print

    printable, _ = prepare_for_print(
        mesh, size_mm=opts.size_mm, base="cut" if opts.flat_base else "none",
        base_depth_mm=opts.base_depth_mm, nozzle_mm=opts.nozzle_mm,
    )  # fmt: skip
    return printable


def build(cloud: PointCloud, opts: ExportOptions, report: Report, cancelled: Cancelled) -> Prepared:
    """Mesh, simplify, prepare and check (for mesh types); stops between steps when cancelled."""
    from desktop.dialogs.export_preview import render_preview

    if not opts.file_type.mesh:
        return Prepared(cloud, preview=render_preview(cloud))
    from engine import meshing
    from engine.meshing.printcheck import check_print

    model = None
    if opts.method == "sdf":
        report(("Loading Point-E's SDF model…", 0, 0))
        from engine.checkpoints import load_official_model

        model = load_official_model("sdf")
    stop_if_cancelled(cancelled)

    def grid_progress(done: int, total: int) -> None:
        stop_if_cancelled(cancelled)
        report(("Building the mesh (SDF grid)…", done, total))

    report(("Building the mesh…", 0, 0))
    mesh, mreport = meshing.mesh_point_cloud(
        cloud, method=opts.method, grid=opts.grid, sdf_model=model,
        smooth_iterations=opts.smooth, progress=grid_progress,
    )  # fmt: skip
    notes = list(mreport.notes)
    before = len(mesh.faces)
    stop_if_cancelled(cancelled)
    budget = opts.max_faces
    if budget is not None and before > budget:
        report((f"Simplifying {before:,} triangles…", 0, 0))
        mesh, _ = meshing.clean_mesh(mesh, target_faces=budget)
        stop_if_cancelled(cancelled)
    report(("Preparing for print…", 0, 0))
    printable = print_ready(mesh, opts)
    for _ in range(2):  # the flat base's cap may add a few triangles: trim and cut again
        extra = len(printable.faces) - (budget or len(printable.faces))
        if extra <= 0:
            break
        stop_if_cancelled(cancelled)
        report((f"Trimming {extra:,} triangles the flat base added…", 0, 0))
        mesh, _ = meshing.clean_mesh(mesh, target_faces=len(mesh.faces) - extra - 16)
        printable = print_ready(mesh, opts)
    mesh = printable
    stop_if_cancelled(cancelled)
    report(("Checking the print…", 0, 0))
    check = check_print(mesh, nozzle_mm=opts.nozzle_mm)
    stop_if_cancelled(cancelled)
    note = faces_note(before, len(mesh.faces), budget)
    return Prepared(mesh, check, note, notes, render_preview(mesh))


def write(prepared: Prepared, path: Path) -> Path:
    """Write atomically (engine.export.save): a failed or stopped export leaves no partial file."""
    from engine import export

    return export.save(prepared.obj, path)
