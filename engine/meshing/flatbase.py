"""Cut a closed mesh with a horizontal plane and cap the cut, so it stays closed (no shapely).

Clipping keeps shared edge intersections unique, so the cut edges pair up into loops; each loop
(with any holes bridged in) is ear-clipped in the plane and wound against the faces beside it.
"""

from __future__ import annotations

import numpy as np


def _clip(verts: np.ndarray, faces: np.ndarray, z0: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the part with z >= z0; faces crossing the plane are split (winding kept)."""
    verts = verts.copy()
    d = verts[:, 2] - z0
    eps = 1e-7 * max(float(np.ptp(verts, axis=0).max()), 1e-12)
    on = np.abs(d) <= eps
    verts[on, 2], d[on] = z0, 0.0  # snap: no slivers, clean classification
    fd = d[faces]
    keep = faces[(fd >= 0).all(axis=1)]
    crossing = faces[(fd > 0).any(axis=1) & (fd < 0).any(axis=1)]
    new_verts: list[np.ndarray] = []
    cut: dict[tuple[int, int], int] = {}

    def point(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in cut:
            t = d[a] / (d[a] - d[b])
            p = verts[a] + t * (verts[b] - verts[a])
            p[2] = z0
            cut[key] = len(verts) + len(new_verts)
            new_verts.append(p)
        return cut[key]

    tris = []
    for face in crossing:
        poly = []
        for k in range(3):
            a, b = int(face[k]), int(face[(k + 1) % 3])
            if d[a] >= 0:
                poly.append(a)
            if d[a] * d[b] < 0:
                poly.append(point(a, b))
        tris += [[poly[0], poly[i], poly[i + 1]] for i in range(1, len(poly) - 1)]
    verts = np.vstack([verts, *new_verts]) if new_verts else verts
    faces = np.vstack([keep, np.asarray(tris, dtype=np.int64).reshape(-1, 3)])
    return verts, faces


def _boundary_loops(faces: np.ndarray) -> list[list[int]]:
    """Open edges as closed loops, each in the direction its neighbouring face runs it."""
    directed = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    key = np.sort(directed, axis=1)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    open_edges = directed[counts[inv.reshape(-1)] == 1]
    nxt: dict[int, list[int]] = {}
    for a, b in open_edges.tolist():
        nxt.setdefault(a, []).append(b)
    loops = []
    while nxt:
        start = next(iter(nxt))
        loop, cur = [start], start
        while True:
            outs = nxt[cur]
            nb = outs.pop()
            if not outs:
                del nxt[cur]
            if nb == start:
                break
            loop.append(nb)
            cur = nb
            if cur not in nxt:  # broken boundary: give up on this loop
                loop = []
                break
        if len(loop) >= 3:
            loops.append(loop)
    return loops


def _area(p: np.ndarray) -> float:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _inside(pt: np.ndarray, poly: np.ndarray) -> bool:
    x, y = poly[:, 0], poly[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    crosses = (y > pt[1]) != (yn > pt[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        xs = x + (pt[1] - y) * (xn - x) / (yn - y)
    return bool(np.count_nonzero(crosses & (pt[0] < xs)) % 2)


def _segments_cross(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    def orient(u, v, w):
        return (v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (
            w[..., 0] - u[..., 0]
        )

    d1, d2 = orient(p, q, a), orient(p, q, b)
    d3, d4 = orient(a, b, p), orient(a, b, q)
    return (d1 * d2 < 0) & (d3 * d4 < 0)


def _bridge(outer: list[int], hole: list[int], xy: np.ndarray, blockers: np.ndarray) -> list[int]:
    """Join a hole (opposite winding) to its outer loop with a two-way cut (Eberly's method)."""
    j = int(np.argmax(xy[hole, 0]))
    h = xy[hole[j]]
    order = np.argsort(np.linalg.norm(xy[outer] - h, axis=1))
    i = int(order[0])
    for cand in order:
        o = xy[outer[cand]]
        hits = _segments_cross(h, o, xy[blockers[:, 0]], xy[blockers[:, 1]])
        if not hits.any():
            i = int(cand)
            break
    return outer[: i + 1] + hole[j:] + hole[: j + 1] + outer[i:]


def _ear_clip(poly: list[int], xy: np.ndarray) -> list[list[int]]:
    """Triangulate a counter-clockwise polygon (vertex ids may repeat along a bridge)."""
    idx = list(poly)
    tris: list[list[int]] = []
    scale = max(float(np.ptp(xy[idx], axis=0).max()), 1e-12)
    eps = 1e-12 * scale * scale
    start = 0
    while len(idx) > 3:
        pts = xy[idx]
        prev, nxt = np.roll(pts, 1, axis=0), np.roll(pts, -1, axis=0)
        cross = (pts[:, 0] - prev[:, 0]) * (nxt[:, 1] - pts[:, 1]) - (pts[:, 1] - prev[:, 1]) * (
            nxt[:, 0] - pts[:, 0]
        )
        m = len(idx)
        ear = None
        for step in range(m):
            k = (start + step) % m
            if cross[k] <= eps:
                continue
            a, b, c = prev[k], pts[k], nxt[k]
            others = np.ones(m, dtype=bool)
            others[[(k - 1) % m, k, (k + 1) % m]] = False
            q = pts[others]
            q = q[~((q == a).all(1) | (q == b).all(1) | (q == c).all(1))]
            s1 = (b[0] - a[0]) * (q[:, 1] - a[1]) - (b[1] - a[1]) * (q[:, 0] - a[0])
            s2 = (c[0] - b[0]) * (q[:, 1] - b[1]) - (c[1] - b[1]) * (q[:, 0] - b[0])
            s3 = (a[0] - c[0]) * (q[:, 1] - c[1]) - (a[1] - c[1]) * (q[:, 0] - c[0])
            if not ((s1 >= -eps) & (s2 >= -eps) & (s3 >= -eps)).any():
                ear = k
                break
        if ear is None:  # numerically stuck: clip the most convex corner; topology stays closed
            ear = int(np.argmax(cross))
        tris.append([idx[(ear - 1) % m], idx[ear], idx[(ear + 1) % m]])
        del idx[ear]
        start = ear % len(idx)
    tris.append(idx)
    return tris


def _caps(loops: list[list[int]], xy: np.ndarray) -> list[list[int]]:
    # A cap runs each loop backwards. Outer loops and holes then have opposite signed areas.
    polys = [loop[::-1] for loop in loops]
    areas = [_area(xy[p]) for p in polys]
    big = int(np.argmax(np.abs(areas)))
    sign = np.sign(areas[big]) or 1.0
    outers = [p for p, a in zip(polys, areas, strict=True) if np.sign(a) == sign]
    holes = [p for p, a in zip(polys, areas, strict=True) if np.sign(a) != sign]
    edges = np.array([[p[k], p[(k + 1) % len(p)]] for p in polys for k in range(len(p))])
    for hole in sorted(holes, key=lambda p: -xy[p, 0].max()):
        owners = [o for o in outers if _inside(xy[hole[0]], xy[o])]
        if not owners:
            outers.append(hole)  # not nested after all: cap it on its own
            continue
        target = min(owners, key=lambda o: abs(_area(xy[o])))
        outers[outers.index(target)] = _bridge(target, hole, xy, edges)
    tris: list[list[int]] = []
    for poly in outers:
        if _area(xy[poly]) >= 0:
            tris += _ear_clip(poly, xy)
        else:  # clip the mirror image, then restore the cap's own winding
            tris += [t[::-1] for t in _ear_clip(poly[::-1], xy)]
    return tris


def cut_and_cap(verts: np.ndarray, faces: np.ndarray, z0: float) -> tuple[np.ndarray, np.ndarray]:
    """Everything below z0 removed and the cut closed with flat faces lying in z = z0."""
    verts, faces = _clip(np.asarray(verts, np.float64), np.asarray(faces, np.int64), z0)
    if len(faces) == 0:
        raise ValueError("the cut removes the whole mesh")
    loops = _boundary_loops(faces)
    if loops:
        faces = np.vstack([faces, np.asarray(_caps(loops, verts[:, :2]), dtype=np.int64)])
    used = np.unique(faces)
    remap = np.full(len(verts), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return verts[used], remap[faces]
