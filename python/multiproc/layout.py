"""Naming a Go type's layout from Python, and Go's fingerprint of it.

Go records, for every typed object (Value[T], Array[T], a raw Typed[T]
queue), sizeof(T) and internal/layout.Fingerprint(T) in the segment's
directory. Python names T as a ctypes type and this module computes the
same two numbers, so an object opened with another layout is refused at
open (TypeMismatch) instead of read as garbage.

The fingerprint is FNV-1a 64 over a description of the type, recursively:

    kind/size/align               e.g. "int64/8/8"
    array:  ...then "[len]" and the element's description
    struct: ...then "{" + for each field "Name@offset:" desc ";" + "}"

where kind is Go's reflect.Kind name. ctypes types map to Go kinds by
their code (c_int64 -> int64, c_double -> float64, c_bool -> bool,
c_uint8/c_char -> uint8, ...); Go's int, uint and uintptr, which have no
ctypes type of their own, are GoInt, GoUint and GoUintptr below. Struct
fields must carry Go's field names (the fingerprint includes them, not
the type's name). ctypes lays a Structure out by C's rules, which are
Go's on amd64 for these kinds; _pack_ and bit fields are refused.
"""

import ctypes


class GoInt(ctypes.c_int64):
    """Go's int (64 bits on amd64; a kind of its own in the fingerprint)."""


class GoUint(ctypes.c_uint64):
    """Go's uint."""


class GoUintptr(ctypes.c_uint64):
    """Go's uintptr."""


_CODES = {"?": "bool", "b": "int8", "B": "uint8", "c": "uint8", "h": "int16", "H": "uint16",
          "i": "int32", "I": "uint32", "l": "int64", "L": "uint64", "q": "int64", "Q": "uint64",
          "f": "float32", "d": "float64"}
_SPECIAL = {GoInt: "int", GoUint: "uint", GoUintptr: "uintptr"}


def _kind(t):
    for cls in t.__mro__:
        if cls in _SPECIAL:
            return _SPECIAL[cls]
    code = getattr(t, "_type_", None)
    if isinstance(code, str) and code in _CODES and ctypes.sizeof(t) in (1, 2, 4, 8):
        if ctypes.sizeof(t) == {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4,
                                "uint32": 4, "int64": 8, "uint64": 8, "float32": 4,
                                "float64": 8}[_CODES[code]]:
            return _CODES[code]
    raise TypeError("multiproc: %r has no Go counterpart (use fixed-width ctypes types, "
                    "ctypes arrays and Structures)" % (t,))


def describe(t):
    """Go's layout description of the ctypes type t (see the module doc)."""
    size, align = ctypes.sizeof(t), ctypes.alignment(t)
    if issubclass(t, ctypes.Array):
        return "array/%d/%d[%d]%s" % (size, align, t._length_, describe(t._type_))
    if issubclass(t, ctypes.Structure):
        if getattr(t, "_pack_", 0):
            raise TypeError("multiproc: %s: _pack_ has no Go counterpart" % t.__name__)
        parts = ["struct/%d/%d{" % (size, align)]
        for f in t._fields_:
            if len(f) != 2:
                raise TypeError("multiproc: %s.%s: bit fields have no Go counterpart" % (t.__name__, f[0]))
            name, ft = f
            parts.append("%s@%d:%s;" % (name, getattr(t, name).offset, describe(ft)))
        parts.append("}")
        return "".join(parts)
    if issubclass(t, ctypes.Union):
        raise TypeError("multiproc: unions have no Go counterpart")
    return "%s/%d/%d" % (_kind(t), size, align)


def fingerprint(t):
    """internal/layout.Fingerprint of the Go type that t names."""
    h = 0xCBF29CE484222325
    for b in describe(t).encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def go_layout(t):
    """(sizeof, fingerprint) as Go records them in the directory."""
    return ctypes.sizeof(t), fingerprint(t)
