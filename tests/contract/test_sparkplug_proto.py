"""The generated Sparkplug B code is Eclipse Tahu's sparkplug_b.proto, compiled again here;
and the payload code reads what other implementations write."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from contract.sparkplug import sparkplug_b_pb2 as pb
from contract.sparkplug.payloads import SKIPPED, DataType, Metric, decode, encode

PROTO = Path(pb.__file__).with_name("sparkplug_b.proto")


def test_the_generated_code_describes_the_proto_file(tmp_path: Path) -> None:
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.fail("protoc is missing: scripts/bootstrap.sh --dev installs protobuf-compiler")
    out = tmp_path / "sparkplug_b.desc"
    subprocess.run(
        [protoc, f"--proto_path={PROTO.parent}", f"--descriptor_set_out={out}", PROTO.name],
        check=True,
    )
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    _without_json_names(compiled.message_type)  # protoc adds them; the generated code not
    generated = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    assert generated == compiled
    assert [value.name for value in compiled.enum_type[0].value][:13] == [
        "Unknown", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
        "Float", "Double", "Boolean", "String",
    ]  # fmt: skip


def _without_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _without_json_names(message.nested_type)


def test_signed_integers_read_at_their_width_or_sign_extended() -> None:
    raw = pb.Payload(timestamp=1, seq=0)
    for name, datatype, field, value in [
        ("width", pb.Int16, "int_value", 2**16 - 5),
        ("extended", pb.Int16, "int_value", 2**32 - 5),
        ("int8", pb.Int8, "int_value", 2**8 - 128),
        ("int64", pb.Int64, "long_value", 2**64 - 7),
        ("too wide", pb.UInt16, "int_value", 2**16),
        ("wrong field", pb.Float, "int_value", 3),
    ]:
        metric = raw.metrics.add(name=name, datatype=datatype)
        setattr(metric, field, value)
    values = {m.name: m.value for m in decode(raw.SerializeToString()).metrics}
    assert values == {
        "width": -5, "extended": -5, "int8": -128, "int64": -7,
        "too wide": SKIPPED, "wrong field": SKIPPED,
    }  # fmt: skip


def test_values_that_do_not_fit_their_datatype_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        encode([Metric("m", DataType.UINT16, 65536)], timestamp=1, seq=0)
    with pytest.raises(ValueError, match="does not fit"):
        encode([Metric("m", DataType.INT8, -129)], timestamp=1, seq=0)
