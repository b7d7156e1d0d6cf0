"""Print check: what a hobbyist reads before slicing (size, holes, parts, overhangs, walls)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh

OVERHANG_DEGREES = 45.0  # steeper than this from vertical needs supports on most printers
BED_TOLERANCE = 1e-4  # within this share of the longest side above the lowest z: on the bed
FACING_DOWN = 0.99  # normal z below minus this: a face lies flat (on the bed, for contact area)
MAX_RAYS = 4096  # more faces than this: the thin-wall probe samples them (area-weighted, seeded)
MAX_PIECES = 512  # a thin-wall probe is cut into at most this many pieces (see _segment_hits)
PIECE_BLOCK = 8  # pieces tested together before segments that hit drop out
CHUNK = 1 << 20  # segment-triangle pairs tested at once (bounds memory)
BRUTE_PAIRS = 1 << 20  # fewer segment-triangle pairs than this in a size class: test them all
SPARSE = 64  # a size class gets at most one piece per this many triangles
WARN_SHARE = 0.01  # overhang / thin-wall shares above this are worth a warning
SMALL_MODEL_MM = 5.0  # smaller than this across: probably not in millimetres
LARGE_MODEL_MM = 300.0  # larger than this: bigger than most printers' beds


@dataclass(frozen=True)
class PrintCheck:
    """What a slicer user wants to know about a mesh in millimetres (see `check_print`)."""

    size_mm: tuple[float, float, float]  # bounding box x, y, z
    watertight: bool  # every edge shared by exactly two faces: a closed solid
    volume_mm3: float  # enclosed volume; NaN when not watertight (an open mesh encloses nothing)
    parts: int  # separate pieces (connected components)
    overhang_fraction: float  # share of the surface area overhanging more than 45°, bed excluded
    thin_wall_fraction: float  # share of the surface area thinner than the nozzle
    bed_contact_mm2: float  # flat area lying on the bed (the lowest z), facing down
    nozzle_mm: float  # the nozzle width the walls were measured against
    faces: int  # triangles in the checked mesh
    thin_wall_faces_tested: int  # faces ray-tested for wall thickness (all, or an area sample)
    thin_wall_sampled: bool  # True when only a sample of the faces was ray-tested

    def warnings(self) -> tuple[str, ...]:
        """Problems worth fixing before printing, in words a hobbyist understands."""
        out: list[str] = []
        longest = max(self.size_mm)
        if not self.watertight:
            out.append(
                "not watertight: the surface has holes, so it has no inside and no volume; "
                "the slicer may fill it wrongly or leave parts out: repair it first"
            )
        if self.parts > 1:
            out.append(f"{self.parts} separate parts: the slicer will print them as loose pieces")
        if self.overhang_fraction > WARN_SHARE:
            out.append(
                f"{self.overhang_fraction:.0%} of the surface overhangs more than "
                f"{OVERHANG_DEGREES:.0f}°: add supports"
            )
        if self.thin_wall_fraction > WARN_SHARE:
            out.append(
                f"{self.thin_wall_fraction:.0%} of the surface has walls thinner than the "
                f"{self.nozzle_mm:g} mm nozzle: they may not print; scale the model up"
            )
        if self.bed_contact_mm2 <= 0:
            out.append(
                "nothing lies flat on the bed: it balances on a point or an edge; "
                "add a flat base or supports"
            )
        elif self.bed_contact_mm2 < 10 * self.nozzle_mm**2:
            out.append(
                f"only {self.bed_contact_mm2:.1f} mm² touches the bed: it may come loose "
                "mid-print; add a brim or a flat base"
            )
        if longest < SMALL_MODEL_MM:
            out.append(
                f"it is only {longest:.2g} mm across: the file is probably not in millimetres; "
                "scale it up"
            )
        elif longest > LARGE_MODEL_MM:
            out.append(f"it is {longest:.0f} mm across: larger than most printers' beds")
        return tuple(out)

    def summary(self) -> tuple[str, ...]:
        """The measurements as readable lines (the warnings come separately)."""
        x, y, z = self.size_mm
        if self.watertight:
            volume = f"volume: {self.volume_mm3:.4g} mm³ ({self.volume_mm3 / 1000:.3g} cm³)"
        else:
            volume = "volume: unknown (the mesh is not watertight)"
        tested = (
            f" (estimated from {self.thin_wall_faces_tested} of {self.faces} faces)"
            if self.thin_wall_sampled
            else ""
        )
        return (
            f"size: {x:.1f} x {y:.1f} x {z:.1f} mm",
            f"watertight: {'yes' if self.watertight else 'NO'}",
            volume,
            f"parts: {self.parts}",
            f"overhangs over {OVERHANG_DEGREES:.0f}°: {self.overhang_fraction:.1%} of the surface",
            f"walls thinner than the {self.nozzle_mm:g} mm nozzle: "
            f"{self.thin_wall_fraction:.1%} of the surface{tested}",
            f"bed contact: {self.bed_contact_mm2:.1f} mm²",
        )

    def as_dict(self) -> dict:
        """JSON-ready: the CLI's `check --json` object (volume is None when not watertight)."""
        return {
            "size_mm": [float(v) for v in self.size_mm],
            "watertight": self.watertight,
            "volume_mm3": self.volume_mm3 if self.watertight else None,
            "parts": self.parts,
            "overhang_fraction": self.overhang_fraction,
            "thin_wall_fraction": self.thin_wall_fraction,
            "bed_contact_mm2": self.bed_contact_mm2,
            "nozzle_mm": self.nozzle_mm,
            "faces": self.faces,
            "thin_wall_faces_tested": self.thin_wall_faces_tested,
            "thin_wall_sampled": self.thin_wall_sampled,
            "warnings": list(self.warnings()),
        }


def _as_trimesh(mesh):
    """A merged (process=True) trimesh copy of a Mesh or trimesh.Trimesh, validated."""
    import trimesh

    if isinstance(mesh, Mesh):
        verts, faces = mesh.verts, mesh.faces
    elif isinstance(mesh, trimesh.Trimesh):
        verts, faces = mesh.vertices, mesh.faces
    else:
        raise TypeError(f"mesh must be a Mesh or trimesh.Trimesh, got {type(mesh).__name__}")
    verts = np.asarray(verts, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) == 0 or len(verts) == 0:
        raise UserInputError("mesh is empty: it has no triangles to check")
    if not np.isfinite(verts).all():
        raise UserInputError("mesh has NaN or infinite vertex coordinates")
    tm = trimesh.Trimesh(verts, faces, process=True)
    if tm.is_watertight and tm.volume < 0:  # inside-out: normals point in; turn it right way out
        tm.invert()
    return tm


def _parts(tm) -> int:
    """Pieces joined by shared vertices (trimesh's body count, unused vertices ignored)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = tm.edges_unique
    n = len(tm.vertices)
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return len(np.unique(labels[np.unique(tm.faces)]))


def _segment_hits(
    tris: np.ndarray, origins: np.ndarray, dirs: np.ndarray, length: float, skip: np.ndarray
) -> np.ndarray:
    """For each segment origin + t * dir (0 < t < length): does it cross a triangle but `skip`?

    Broad phase: triangles in size classes (powers of four of their bounding radius), each in a
    KD-tree of centres; a segment is cut into pieces about as long as the class's triangles, so
    the candidates come from a thin tube, not a ball of the whole length. Pieces go from near to
    far in blocks, and a segment stops once it hits; a class of few triangles is simply tested
    against every segment. Narrow phase: Möller-Trumbore."""
    from scipy.spatial import cKDTree

    centres = tris.mean(axis=1)  # (T, 3)
    radii = np.linalg.norm(tris - centres[:, None, :], axis=2).max(axis=1)  # (T,)
    hit = np.zeros(len(origins), dtype=bool)
    usable = radii > 0
    if not usable.any():
        return hit
    scale = float(radii.max())
    cls = np.floor(np.log(np.maximum(radii, 1e-300) / scale) / np.log(4)).clip(-8, 0).astype(int)
    eps_t = 1e-9 * max(scale, length)

    def test(ray: np.ndarray, tri: np.ndarray) -> None:  # narrow phase on candidate pairs
        keep = tri != skip[ray]
        ray, tri = ray[keep], tri[keep]
        for lo in range(0, len(ray), CHUNK):  # bounded memory for big candidate sets
            r, t = ray[lo : lo + CHUNK], tri[lo : lo + CHUNK]
            hit[r[_moller_trumbore(tris[t], origins[r], dirs[r], eps_t, length)]] = True

    for c in np.unique(cls[usable]):
        members = np.flatnonzero(usable & (cls == c))
        todo = np.flatnonzero(~hit)
        if len(todo) == 0:
            break
        if len(members) * len(todo) <= BRUTE_PAIRS:  # a few triangles: test every pair
            rows = max(1, CHUNK // len(members))
            for lo in range(0, len(todo), rows):
                part = todo[lo : lo + rows]
                test(np.repeat(part, len(members)), np.tile(members, len(part)))
            continue
        radius = float(radii[members].max())
        tree = cKDTree(centres[members])
        # pieces about as long as the triangles; fewer for a sparse class (few candidates anyway)
        steps = min(math.ceil(length / (2 * radius)), len(members) // SPARSE, MAX_PIECES)
        steps = max(steps, 1)
        piece = length / steps
        for first in range(0, steps, PIECE_BLOCK):
            todo = np.flatnonzero(~hit)
            if len(todo) == 0:
                break
            at = piece * (np.arange(first, min(first + PIECE_BLOCK, steps)) + 0.5)  # (B,)
            mids = origins[todo, None, :] + dirs[todo, None, :] * at[None, :, None]  # (R, B, 3)
            pairs = cKDTree(mids.reshape(-1, 3)).sparse_distance_matrix(
                tree, piece / 2 + radius, output_type="ndarray"
            )
            if len(pairs):
                key = np.unique(todo[pairs["i"] // len(at)] * len(tris) + members[pairs["j"]])
                test(*np.divmod(key, len(tris)))
    return hit


def _moller_trumbore(
    tri: np.ndarray, o: np.ndarray, d: np.ndarray, t_min: float, t_max: float
) -> np.ndarray:
    """Row-wise ray/triangle test: hit at distance t_min < t < t_max (both faces count)."""
    e1 = tri[:, 1] - tri[:, 0]  # (P, 3)
    e2 = tri[:, 2] - tri[:, 0]
    p = np.cross(d, e2)
    det = np.einsum("ij,ij->i", e1, p)
    ok = np.abs(det) > 1e-12 * np.einsum("ij,ij->i", e1, e1)
    inv = np.divide(1.0, det, out=np.zeros_like(det), where=ok)
    s = o - tri[:, 0]
    u = np.einsum("ij,ij->i", s, p) * inv
    q = np.cross(s, e1)
    v = np.einsum("ij,ij->i", d, q) * inv
    t = np.einsum("ij,ij->i", e2, q) * inv
    edge = -1e-9  # a ray through a shared edge counts (either neighbour is fine)
    return ok & (u >= edge) & (v >= edge) & (u + v <= 1 - edge) & (t > t_min) & (t < t_max)


def thin_wall_share(
    tm, nozzle_mm: float, *, max_rays: int = MAX_RAYS, seed: int = 0
) -> tuple[float, int, bool]:
    """(share of area thinner than the nozzle, faces tested, sampled?) for a merged trimesh.

    A face is thin when a ray cast inward from its centroid along the inverted normal meets the
    surface again within one nozzle width. Only "within the nozzle" matters, so the rays are short
    segments tested against nearby triangles (trimesh's own ray engine needs rtree or embree).
    Above `max_rays` faces, faces are drawn with probability proportional to area (seeded, so
    repeatable) and the share is the thin fraction of the draws: an unbiased estimate whose error
    is below about 1/(2*sqrt(max_rays)) (under 1% at the default)."""
    areas = np.asarray(tm.area_faces)
    valid = np.flatnonzero(areas > 0)
    if len(valid) == 0:
        return 0.0, 0, False
    sampled = len(valid) > max_rays
    if sampled:
        rng = np.random.default_rng(seed)
        draws = rng.choice(valid, size=max_rays, replace=True, p=areas[valid] / areas[valid].sum())
        faces, back = np.unique(draws, return_inverse=True)
    else:
        faces = valid
    tris = np.asarray(tm.triangles)
    inward = -np.asarray(tm.face_normals)[faces]
    origins = tris[faces].mean(axis=1)
    thin = _segment_hits(
        tris[valid], origins, inward, float(nozzle_mm), np.searchsorted(valid, faces)
    )
    if sampled:
        return float(thin[back].mean()), len(faces), True
    return float(areas[faces][thin].sum() / areas[faces].sum()), len(faces), False


def check_print(
    mesh, *, nozzle_mm: float = 0.4, max_rays: int = MAX_RAYS, seed: int = 0
) -> PrintCheck:
    """Check a mesh (units: mm, z up, the bed at its lowest point) before it goes to a slicer.

    `mesh` is an engine Mesh or a trimesh.Trimesh; vertices are merged first, as a slicer does.
    Fast on big meshes: everything but the thin-wall probe is one pass over the faces, and the
    probe ray-tests at most `max_rays` faces (an area-weighted, seeded sample; see
    `thin_wall_share`), so a 200k-face mesh takes a few seconds."""
    if isinstance(nozzle_mm, bool) or not isinstance(nozzle_mm, (int, float, np.number)):
        raise TypeError(f"nozzle_mm must be a number, got {nozzle_mm!r}")
    if not math.isfinite(nozzle_mm) or nozzle_mm <= 0:
        raise UserInputError(f"nozzle_mm must be a positive width in mm, got {nozzle_mm}")
    if isinstance(max_rays, bool) or not isinstance(max_rays, (int, np.integer)) or max_rays < 1:
        raise ValueError(f"max_rays must be a positive integer, got {max_rays!r}")
    tm = _as_trimesh(mesh)
    extents = np.asarray(tm.extents, dtype=np.float64)
    tri_z = np.asarray(tm.triangles)[:, :, 2]  # (F, 3)
    normals = np.asarray(tm.face_normals)
    areas = np.asarray(tm.area_faces)
    total = float(areas.sum())
    z_min = float(tri_z.min())
    on_bed = tri_z.max(axis=1) <= z_min + max(BED_TOLERANCE * float(extents.max()), 1e-9)
    down_limit = -math.cos(math.radians(OVERHANG_DEGREES)) - 1e-9  # exactly 45° is printable
    overhang = (normals[:, 2] < down_limit) & ~on_bed
    contact = on_bed & (normals[:, 2] < -FACING_DOWN)
    thin, tested, sampled = thin_wall_share(tm, float(nozzle_mm), max_rays=max_rays, seed=seed)
    watertight = bool(tm.is_watertight)
    return PrintCheck(
        size_mm=(float(extents[0]), float(extents[1]), float(extents[2])),
        watertight=watertight,
        volume_mm3=float(tm.volume) if watertight else float("nan"),
        parts=_parts(tm),
        overhang_fraction=float(areas[overhang].sum() / total) if total > 0 else 0.0,
        thin_wall_fraction=thin,
        bed_contact_mm2=float(areas[contact].sum()),
        nozzle_mm=float(nozzle_mm),
        faces=len(tm.faces),
        thin_wall_faces_tested=tested,
        thin_wall_sampled=sampled,
    )
