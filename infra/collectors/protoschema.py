"""Protobuf message classes built from a compact field list at import time.

The Prometheus remote-write messages are declared here from the wire specification (field
numbers and types) instead of generated `_pb2` files: no generated code to keep in step, and
the classes run on the same upb C runtime as generated ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

__all__ = ["Field", "build_messages"]

_F = descriptor_pb2.FieldDescriptorProto
_TYPES: Final = {
    "double": _F.TYPE_DOUBLE,
    "int64": _F.TYPE_INT64,
    "uint64": _F.TYPE_UINT64,
    "int32": _F.TYPE_INT32,
    "uint32": _F.TYPE_UINT32,
    "sint32": _F.TYPE_SINT32,
    "sint64": _F.TYPE_SINT64,
    "string": _F.TYPE_STRING,
    "bytes": _F.TYPE_BYTES,
}

# (name, number, type, repeated): a type that is not a scalar names a message of the file.
Field = tuple[str, int, str, bool]


def build_messages(package: str, messages: Sequence[tuple[str, Sequence[Field]]]) -> dict[str, Any]:
    """Message classes by name, from one proto3 file of `package` in a private pool."""
    proto = descriptor_pb2.FileDescriptorProto(
        name=package.replace(".", "/") + ".proto", package=package, syntax="proto3"
    )
    for name, fields in messages:
        message = proto.message_type.add(name=name)
        for field_name, number, kind, repeated in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            if kind in _TYPES:
                field.type = _TYPES[kind]
            else:
                field.type = _F.TYPE_MESSAGE
                field.type_name = f".{package}.{kind}"
    # A private pool: these names never clash with another library's registered protos.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
        for name, _ in messages
    }
