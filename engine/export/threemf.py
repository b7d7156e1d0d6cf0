"""3MF written by hand so colours survive (trimesh's writer drops them): mm units, colour group."""

from __future__ import annotations

import io
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


def decode_3mf(data: bytes) -> Mesh:
    """Read every object's mesh (build transforms ignored), colours from m:colorgroup."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(_model_xml(data), parser)
    except etree.XMLSyntaxError as exc:
        raise UserInputError(f"Damaged 3MF model XML: {exc}") from exc
    scale = _UNITS_TO_MM.get(root.get("unit", "millimeter"), 1.0)
    groups = {
        g.get("id"): [c.get("color", "#C8C8C8") for c in g.iter(f"{{{_MATERIAL}}}color")]
        for g in root.iter(f"{{{_MATERIAL}}}colorgroup")
    }
    verts, faces, cols, offset, any_color = [], [], [], 0, False
    for obj in root.iter(f"{{{_CORE}}}object"):
        mesh = obj.find(f"{{{_CORE}}}mesh")
        if mesh is None:
            continue
        v = [[float(e.get(a)) for a in "xyz"] for e in mesh.iter(f"{{{_CORE}}}vertex")]
        v = np.asarray(v, dtype=np.float64).reshape(-1, 3)
        c = np.full((len(v), 3), 200 / 255.0, dtype=np.float32)
        for t in mesh.iter(f"{{{_CORE}}}triangle"):
            ids = [int(t.get(k)) for k in ("v1", "v2", "v3")]
            faces.append([i + offset for i in ids])
            group = groups.get(t.get("pid", obj.get("pid")))
            if group is not None:
                default = t.get("p1", obj.get("pindex", "0"))
                for i, key in zip(ids, ("p1", "p2", "p3"), strict=True):
                    c[i] = _hex(group[int(t.get(key, default))])
                any_color = True
        verts.append(v)
        cols.append(c)
        offset += len(v)
    if not faces:
        raise UserInputError("The 3MF file holds no triangles.")
    try:
        return Mesh(
            np.vstack(verts) * scale, np.asarray(faces), np.vstack(cols) if any_color else None
        )
    except ValueError as exc:
        raise UserInputError(f"Damaged 3MF mesh: {exc}") from exc


def _hex(color: str) -> np.ndarray:
    h = color.lstrip("#")
    return np.array([int(h[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0
