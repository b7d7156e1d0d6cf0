"""PLY: Point-E's binary writer (spec 14.4), an ASCII variant, and a reader for common layouts."""

from __future__ import annotations

import io

import numpy as np

from engine.errors import UserInputError

# PLY scalar type names (both spellings) -> numpy type character code
_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}  # fmt: skip
_FORMATS = {"ascii": None, "binary_little_endian": "<", "binary_big_endian": ">"}
_FACE_LISTS = ("vertex_index", "vertex_indices")


def colors_to_u8(colors: np.ndarray) -> np.ndarray:
    """Point-E's conversion: round(c * 255.499) with numpy's half-to-even rounding."""
    return np.round(np.clip(colors, 0.0, 1.0) * 255.499).astype(np.uint8)


def encode_ply(
    coords: np.ndarray,
    colors: np.ndarray | None = None,
    faces: np.ndarray | None = None,
    *,
    ascii: bool = False,
) -> bytes:
    """Header and body exactly as Point-E's `write_ply` writes them (binary LE by default)."""
    coords = np.asarray(coords, dtype=np.float32)
    lines = ["ply", "format " + ("ascii" if ascii else "binary_little_endian") + " 1.0"]
    lines += [f"element vertex {len(coords)}"] + [f"property float {a}" for a in "xyz"]
    if colors is not None:
        lines += [f"property uchar {c}" for c in ("red", "green", "blue")]
    if faces is not None:
        lines += [f"element face {len(faces)}", "property list uchar int vertex_index"]
    header = ("\n".join([*lines, "end_header"]) + "\n").encode("ascii")
    rgb = None if colors is None else colors_to_u8(colors)
    out = io.BytesIO()
    out.write(header)
    if ascii:
        for i, p in enumerate(coords):
            row = " ".join(repr(float(x)) for x in p)
            if rgb is not None:
                row += " {} {} {}".format(*rgb[i])
            out.write((row + "\n").encode("ascii"))
        if faces is not None:
            for f in np.asarray(faces):
                out.write(("3 {} {} {}\n".format(*f)).encode("ascii"))
        return out.getvalue()
    fields = [("xyz", "<f4", (3,))] + ([("rgb", "u1", (3,))] if rgb is not None else [])
    body = np.empty(len(coords), dtype=np.dtype(fields))
    body["xyz"] = coords
    if rgb is not None:
        body["rgb"] = rgb
    out.write(body.tobytes())
    if faces is not None:
        fbody = np.empty(len(faces), dtype=np.dtype([("n", "u1"), ("idx", "<u4", (3,))]))
        fbody["n"] = 3
        fbody["idx"] = np.asarray(faces)
        out.write(fbody.tobytes())
    return out.getvalue()


class _Element:
    def __init__(self, name: str, count: int) -> None:
        self.name, self.count = name, count
        self.props: list[tuple[str, str, str | None]] = []  # (name, type, list-count type)


def _parse_header(data: bytes) -> tuple[str, list[_Element], int]:
    if not data.startswith(b"ply"):
        raise UserInputError("Not a PLY file: it does not start with 'ply'.")
    end = data.find(b"end_header")
    if end < 0:
        raise UserInputError("Damaged PLY file: the header has no 'end_header' line.")
    body_start = data.find(b"\n", end) + 1
    if body_start == 0:
        raise UserInputError("Damaged PLY file: nothing follows 'end_header'.")
    fmt, elements = None, []
    for raw in data[:end].decode("ascii", "replace").splitlines()[1:]:
        words = raw.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        if words[0] == "format" and len(words) >= 2:
            fmt = words[1]
        elif words[0] == "element" and len(words) == 3 and words[2].isdigit():
            elements.append(_Element(words[1], int(words[2])))
        elif words[0] == "property" and elements and len(words) == 3 and words[1] in _TYPES:
            elements[-1].props.append((words[2], words[1], None))
        elif (
            words[0] == "property" and elements and len(words) == 5 and words[1] == "list"
            and words[2] in _TYPES and words[3] in _TYPES
        ):  # fmt: skip
            elements[-1].props.append((words[4], words[3], words[2]))
        else:
            raise UserInputError(f"Unsupported PLY header line: {raw.strip()!r}")
    if fmt not in _FORMATS:
        raise UserInputError(f"Unsupported PLY format {fmt!r} (expected ascii or binary).")
    return fmt, elements, body_start


def _check_layout(elements: list[_Element]) -> None:
    names = [e.name for e in elements]
    if "vertex" not in names:
        raise UserInputError("Unsupported PLY layout: there is no 'vertex' element.")
    vertex = elements[names.index("vertex")]
    props = {p[0]: p for p in vertex.props}
    if not all(a in props and props[a][2] is None for a in "xyz"):
        raise UserInputError("Unsupported PLY layout: vertices need scalar x, y and z properties.")
    for el in elements:
        lists = [p for p in el.props if p[2] is not None]
        if el.name == "vertex" and lists:
            raise UserInputError("Unsupported PLY layout: vertices carry list properties.")
        if el.name == "face" and (len(lists) != 1 or lists[0][0] not in _FACE_LISTS):
            raise UserInputError("Unsupported PLY layout: faces need one 'vertex_index' list.")
        if el.name not in ("vertex", "face") and lists and el.count:
            raise UserInputError(f"Unsupported PLY layout: element {el.name!r} has lists.")


def _read_binary(data: bytes, pos: int, el: _Element, order: str) -> tuple[dict, int]:
    if all(p[2] is None for p in el.props):
        dt = np.dtype([(n, order + _TYPES[t]) for n, t, _ in el.props])
        if pos + dt.itemsize * el.count > len(data):
            raise UserInputError(f"Damaged PLY file: the {el.name} data is truncated.")
        arr = np.frombuffer(data, dtype=dt, count=el.count, offset=pos)
        return {n: arr[n] for n in dt.names}, pos + dt.itemsize * el.count
    # face element: fast path when every face is a triangle, otherwise walk face by face
    fields = [(n, order + _TYPES[t]) for n, t, c in el.props if c is None]
    name, itype, ctype = next(p for p in el.props if p[2] is not None)
    tri = np.dtype([*fields, ("n", order + _TYPES[ctype]), ("idx", order + _TYPES[itype], (3,))])
    if pos + tri.itemsize * el.count <= len(data) and not fields and el.props[-1][0] == name:
        arr = np.frombuffer(data, dtype=tri, count=el.count, offset=pos)
        if np.all(arr["n"] == 3):
            return {"faces": arr["idx"].astype(np.int64)}, pos + tri.itemsize * el.count
    if fields:
        raise UserInputError("Unsupported PLY layout: faces carry extra properties.")
    cdt, idt = np.dtype(order + _TYPES[ctype]), np.dtype(order + _TYPES[itype])
    faces = []
    try:
        for _ in range(el.count):
            n = int(np.frombuffer(data, cdt, 1, pos)[0])
            pos += cdt.itemsize
            faces.append(np.frombuffer(data, idt, n, pos).astype(np.int64))
            pos += idt.itemsize * n
    except ValueError as exc:
        raise UserInputError("Damaged PLY file: the face data is truncated.") from exc
    return {"faces": _triangulate(faces)}, pos


def _triangulate(polys: list[np.ndarray]) -> np.ndarray:
    tris = [[p[0], p[i], p[i + 1]] for p in polys for i in range(1, len(p) - 1)]
    return np.asarray(tris, dtype=np.int64).reshape(-1, 3)


def _read_ascii(lines: list[bytes], row: int, el: _Element) -> tuple[dict, int]:
    chunk = lines[row : row + el.count]
    if len(chunk) < el.count:
        raise UserInputError(f"Damaged PLY file: the {el.name} data is truncated.")
    try:
        if el.name == "face":
            polys = [
                np.asarray(ln.split()[1 : 1 + int(ln.split()[0])], dtype=np.int64) for ln in chunk
            ]
            return {"faces": _triangulate(polys)}, row + el.count
        table = np.array([line.split() for line in chunk], dtype=np.float64)
        table = table.reshape(el.count, len(el.props))
    except ValueError as exc:
        raise UserInputError(f"Damaged PLY file: unreadable {el.name} values.") from exc
    return {
        n: table[:, i].astype(_TYPES[t]) for i, (n, t, _) in enumerate(el.props)
    }, row + el.count


def _colors(vertex: dict) -> np.ndarray | None:
    for names in (
        ("red", "green", "blue"),
        ("r", "g", "b"),
        ("diffuse_red", "diffuse_green", "diffuse_blue"),
    ):
        if all(n in vertex for n in names):
            cols = np.stack([vertex[n] for n in names], axis=1)
            if cols.dtype.kind == "f":
                return np.clip(cols, 0.0, 1.0).astype(np.float32)
            scale = 255.0 if cols.dtype.itemsize == 1 else 65535.0
            return (cols.astype(np.float32) / scale).clip(0.0, 1.0)
    return None


def decode_ply(data: bytes) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Return (coords (N,3) float32, colours (N,3) in 0…1 or None, faces (F,3) or None)."""
    fmt, elements, pos = _parse_header(data)
    _check_layout(elements)
    values: dict[str, dict] = {}
    if fmt == "ascii":
        lines = [ln for ln in data[pos:].splitlines() if ln.strip()]
        row = 0
        for el in elements:
            values[el.name], row = _read_ascii(lines, row, el)
    else:
        for el in elements:
            values[el.name], pos = _read_binary(data, pos, el, _FORMATS[fmt])
    vertex = values["vertex"]
    coords = np.stack([vertex[a] for a in "xyz"], axis=1).astype(np.float32)
    if not np.all(np.isfinite(coords)):
        raise UserInputError("The PLY file has NaN or infinite vertex coordinates.")
    faces = values.get("face", {}).get("faces")
    if faces is not None and faces.size and (faces.min() < 0 or faces.max() >= len(coords)):
        raise UserInputError("Damaged PLY file: faces refer to vertices that do not exist.")
    return coords, _colors(vertex), faces
