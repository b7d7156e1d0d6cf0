"""3MF written by hand so colours survive (trimesh's writer drops them): mm units, colour group."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np

from engine.errors import UserInputError
from engine.pointcloud import Mesh

_CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
_MATERIAL = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
_MODEL_PATH = "3D/3dmodel.model"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="model" '
    'ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Target="/{_MODEL_PATH}" Id="rel0" '
    'Type="http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"/></Relationships>'
)
_UNITS_TO_MM = {"micron": 0.001, "millimeter": 1.0, "centimeter": 10.0, "inch": 25.4,
                "foot": 304.8, "meter": 1000.0}  # fmt: skip


def _rows(fmt: str, table: np.ndarray) -> str:
    out = io.StringIO()
    np.savetxt(out, table, fmt=fmt)
    return out.getvalue()


def encode_3mf(mesh: Mesh) -> bytes:
    """Vertex coordinates are taken as millimetres; vertex colours become a deduplicated palette."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        f'<model unit="millimeter" xml:lang="en-US" xmlns="{_CORE}" xmlns:m="{_MATERIAL}">\n',
        '<metadata name="Application">Point-E Studio</metadata>\n<resources>\n',
    ]
    tri_fmt = '<triangle v1="%d" v2="%d" v3="%d"/>'
    tri_table: np.ndarray = mesh.faces
    obj_attr = ""
    if mesh.colors is not None:
        rgb = np.round(np.clip(mesh.colors, 0.0, 1.0) * 255.0).astype(np.uint8)
        palette, index = np.unique(rgb, axis=0, return_inverse=True)
        index = index.reshape(-1)
        hexes = "".join(f'<m:color color="#{r:02X}{g:02X}{b:02X}"/>\n' for r, g, b in palette)
        parts.append(f'<m:colorgroup id="1">\n{hexes}</m:colorgroup>\n')
        obj_attr = ' pid="1" pindex="0"'
        tri_fmt = '<triangle v1="%d" v2="%d" v3="%d" pid="1" p1="%d" p2="%d" p3="%d"/>'
        tri_table = np.hstack([mesh.faces, index[mesh.faces]])
    parts.append(f'<object id="2" type="model"{obj_attr}>\n<mesh>\n<vertices>\n')
    parts.append(_rows('<vertex x="%.9g" y="%.9g" z="%.9g"/>', mesh.verts))
    parts.append("</vertices>\n<triangles>\n")
    parts.append(_rows(tri_fmt, tri_table))
    parts.append('</triangles>\n</mesh>\n</object>\n</resources>\n<build><item objectid="2"/>')
    parts.append("</build>\n</model>\n")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr(_MODEL_PATH, "".join(parts))
    return out.getvalue()


def _model_xml(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            path = _MODEL_PATH if _MODEL_PATH in names else None
            path = path or next((n for n in names if n.lower().endswith(".model")), None)
            if path is None:
                raise UserInputError("The 3MF package holds no 3D model part.")
            return zf.read(path)
    except zipfile.BadZipFile as exc:
        raise UserInputError("Not a 3MF file (it is not a zip package).") from exc


def _object_mesh(
    obj, groups: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(verts, faces, vertex colours or None) of one <object>, read column-wise."""
    from lxml import etree

    blocks: dict[str, bytes] = {}

    def column(path: str, name: str) -> list[bytes]:
        # One C-speed regex pass over the serialised block: far faster than per-element access.
        if path not in blocks:
            found = obj.find(f"{{{_CORE}}}mesh/{{{_CORE}}}{path}")
            blocks[path] = b"" if found is None else etree.tostring(found)
        return re.findall(rb"\s" + name.encode() + rb'="([^"]*)"', blocks[path])

    xyz = [column("vertices", a) for a in "xyz"]
    corners = [column("triangles", k) for k in ("v1", "v2", "v3")]
    n = len(corners[0])
    if len({len(a) for a in xyz}) != 1 or any(len(k) != n for k in corners):
        raise UserInputError("Damaged 3MF mesh: a vertex or triangle lacks a coordinate.")
    verts = np.asarray(xyz, dtype=np.float64).T.reshape(-1, 3)
    faces = np.asarray(corners, dtype=np.int64).T.reshape(-1, 3)
    if faces.size and (faces.min() < 0 or faces.max() >= len(verts)):
        raise UserInputError("Damaged 3MF mesh: triangles refer to vertices that do not exist.")
    pids = column("triangles", "pid")
    props = [column("triangles", k) for k in ("p1", "p2", "p3")]
    cols = np.full((len(verts), 3), 200 / 255.0, dtype=np.float32)
    pids = [p.decode() for p in pids]
    if pids and len(pids) == n and len(set(pids)) == 1 and pids[0] in groups:
        palette = groups[pids[0]]
        first = np.asarray(props[0], dtype=np.int64) if len(props[0]) == n else None
        if first is None:
            return verts, faces, None
        for j in range(3):  # a missing p2/p3 means the triangle has one colour (p1)
            idx = np.asarray(props[j], dtype=np.int64) if len(props[j]) == n else first
            cols[faces[:, j]] = palette[np.clip(idx, 0, len(palette) - 1)]
        return verts, faces, cols
    if not pids and obj.get("pid") in groups:  # one colour for the whole object
        palette = groups[obj.get("pid")]
        cols[:] = palette[min(int(obj.get("pindex", "0")), len(palette) - 1)]
        return verts, faces, cols
    return verts, faces, None


def decode_3mf(data: bytes) -> Mesh:
    """Read every object's mesh (build transforms ignored), colours from m:colorgroup."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(_model_xml(data), parser)
    except etree.XMLSyntaxError as exc:
        raise UserInputError(f"Damaged 3MF model XML: {exc}") from exc
    scale = _UNITS_TO_MM.get(root.get("unit", "millimeter"), 1.0)
    groups = {}
    for g in root.iter(f"{{{_MATERIAL}}}colorgroup"):
        hexes = [c.get("color", "#C8C8C8") for c in g.iter(f"{{{_MATERIAL}}}color")]
        groups[g.get("id")] = np.array([_hex(h) for h in hexes] or [_hex("#C8C8C8")])
    verts, faces, cols, offset = [], [], [], 0
    try:
        for obj in root.iter(f"{{{_CORE}}}object"):
            v, f, c = _object_mesh(obj, groups)
            if len(f) == 0:
                continue
            verts.append(v)
            faces.append(f + offset)
            cols.append(c)
            offset += len(v)
    except ValueError as exc:
        if isinstance(exc, UserInputError):
            raise
        raise UserInputError(f"Damaged 3MF mesh: {exc}") from exc
    if not faces:
        raise UserInputError("The 3MF file holds no triangles.")
    colors = None
    if any(c is not None for c in cols):
        grey = [np.full((len(v), 3), 200 / 255.0, np.float32) for v in verts]
        colors = np.vstack([g if c is None else c for c, g in zip(cols, grey, strict=True)])
    return Mesh(np.vstack(verts) * scale, np.vstack(faces), colors)


def _hex(color: str) -> np.ndarray:
    h = color.lstrip("#")
    try:
        return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0
    except ValueError as exc:
        raise UserInputError(f"Damaged 3MF colour {color!r}.") from exc
