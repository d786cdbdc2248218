"""Load a Core ML ``.mlpackage`` ML program into plain Python records: the protobuf spec, the
operations of its main function in order, and every constant materialised from the weight blob."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ....errors import EffmodError
from .blob import BITS, BlobFile

# MIL DataType enum name -> numpy dtype name ("str" for strings; sub-byte names as in blob.BITS).
DTYPES = {
    "BOOL": "bool", "STRING": "str", "FLOAT16": "float16", "FLOAT32": "float32", "FLOAT64": "float64",
    "INT8": "int8", "INT16": "int16", "INT32": "int32", "INT64": "int64",
    "UINT8": "uint8", "UINT16": "uint16", "UINT32": "uint32", "UINT64": "uint64",
    "INT4": "int4", "UINT4": "uint4", "UINT1": "uint1", "UINT2": "uint2", "UINT3": "uint3", "UINT6": "uint6",
}


@dataclass
class TensorInfo:
    dtype: str                          # numpy dtype name, "str", or a sub-byte name
    shape: tuple[int | None, ...] | None  # None: not a tensor type (list/tuple); None dims: symbolic


@dataclass
class Op:
    index: int
    type: str
    inputs: dict[str, list]             # name -> bindings: ("var", name) or ("value", decoded value)
    attrs: dict[str, object]            # decoded attributes except "name" (const ops keep "val" here)
    outputs: list[tuple[str, TensorInfo]]
    has_blocks: bool = False

    @property
    def name(self) -> str:
        return self.outputs[0][0] if self.outputs else f"#{self.index}"

    def where(self) -> str:
        return f"op #{self.index} '{self.name}' ({self.type})"


@dataclass
class Program:
    path: Path
    opset: str
    inputs: dict[str, TensorInfo]
    outputs: list[str]
    ops: list[Op]
    description: dict = field(default_factory=dict)  # feature names/types from the model description

    @property
    def ios_version(self) -> int:
        """The deployment target the opset stands for: CoreML5 = iOS15, CoreML6 = iOS16, ..."""
        digits = "".join(c for c in self.opset if c.isdigit())
        return 10 + int(digits) if digits else 15

    def op_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.ops:
            counts[op.type] = counts.get(op.type, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _enum_name(enum_type, value: int) -> str:
    return enum_type.Name(value)


def tensor_info(value_type) -> TensorInfo:
    from coremltools.proto import MIL_pb2

    kind = value_type.WhichOneof("type")
    if kind != "tensorType":
        return TensorInfo(dtype=kind or "?", shape=None)
    tt = value_type.tensorType
    dtype = DTYPES.get(_enum_name(MIL_pb2.DataType, tt.dataType), _enum_name(MIL_pb2.DataType, tt.dataType))
    dims = tuple(d.constant.size if d.WhichOneof("dimension") == "constant" else None for d in tt.dimensions)
    return TensorInfo(dtype=dtype, shape=dims)


def decode_value(value, blobs: "_Blobs"):
    """A MIL ``Value`` -> numpy array, Python str (string scalar) or list."""
    info = tensor_info(value.type)
    kind = value.WhichOneof("value")
    if kind == "blobFileValue":
        if info.shape is None or any(d is None for d in info.shape):
            raise EffmodError("blob value without a static tensor shape")
        return blobs.get(value.blobFileValue.fileName).read(value.blobFileValue.offset, info.dtype, info.shape)
    if kind != "immediateValue":
        raise EffmodError(f"unsupported MIL value kind '{kind}'")
    imm = value.immediateValue
    which = imm.WhichOneof("value")
    if which == "list":
        return [decode_value(v, blobs) for v in imm.list.values]
    if which == "tuple":
        return [decode_value(v, blobs) for v in imm.tuple.values]
    if which != "tensor":
        raise EffmodError(f"unsupported MIL immediate value '{which}'")
    t = imm.tensor
    shape = info.shape or ()
    if info.dtype == "str":
        strings = list(t.strings.values)
        return strings[0] if shape == () else np.array(strings, dtype=object).reshape(shape)
    field_name = t.WhichOneof("value")
    if field_name == "bytes":
        raw = np.frombuffer(t.bytes.values, dtype=np.uint8)
        if info.dtype in BITS:
            from .blob import unpack_bits
            arr = unpack_bits(raw, BITS[info.dtype], int(np.prod(shape, dtype=np.int64)), info.dtype.startswith("int"))
        else:
            arr = raw.view(np.dtype(info.dtype))
    elif field_name is None:
        arr = np.zeros(0, dtype=np.dtype(info.dtype))
    else:
        arr = np.array(list(getattr(t, field_name).values), dtype=np.dtype(info.dtype))
    return arr.reshape(shape)


class _Blobs:
    """Weight files referenced as ``@model_path/...``, opened once each."""

    def __init__(self, model_dir: Path):
        self.model_dir = model_dir
        self.files: dict[str, BlobFile] = {}

    def get(self, file_name: str) -> BlobFile:
        if file_name not in self.files:
            rel = file_name.replace("@model_path/", "", 1)
            self.files[file_name] = BlobFile(self.model_dir / rel)
        return self.files[file_name]


def _spec_path(package: Path) -> Path:
    """The root model spec inside an .mlpackage, as its Manifest.json names it."""
    manifest = package / "Manifest.json"
    if not manifest.is_file():
        raise EffmodError(f"{package} is not an .mlpackage (no Manifest.json)", hint="pass the .mlpackage directory")
    info = json.loads(manifest.read_text())
    entry = info["itemInfoEntries"][info["rootModelIdentifier"]]
    return package / "Data" / entry["path"]


def load_program(path: str | Path) -> Program:
    from coremltools.proto import Model_pb2

    package = Path(path)
    spec_file = _spec_path(package)
    spec = Model_pb2.Model()
    try:
        spec.ParseFromString(spec_file.read_bytes())
    except Exception as e:  # noqa: BLE001 - protobuf raises its own DecodeError
        raise EffmodError(f"cannot parse {spec_file}: {e}", hint="the .mlpackage is corrupt; re-export it") from e
    if spec.WhichOneof("Type") != "mlProgram":
        raise EffmodError(f"{package.name} is a '{spec.WhichOneof('Type')}' model, not an ML program",
                          hint="effmod's executor runs ML programs (convert_to='mlprogram')")
    prog = spec.mlProgram
    fn_name = spec.description.defaultFunctionName or "main"
    if fn_name not in prog.functions:
        raise EffmodError(f"{package.name}: no function '{fn_name}' in the ML program")
    fn = prog.functions[fn_name]
    block = fn.block_specializations[fn.opset]
    blobs = _Blobs(spec_file.parent)

    ops = []
    for i, op in enumerate(block.operations):
        inputs = {name: [("var", b.name) if b.WhichOneof("binding") == "name" else ("value", decode_value(b.value, blobs))
                         for b in arg.arguments]
                  for name, arg in op.inputs.items()}
        attrs = {k: decode_value(v, blobs) for k, v in op.attributes.items() if k != "name"}
        outputs = [(o.name, tensor_info(o.type)) for o in op.outputs]
        ops.append(Op(index=i, type=op.type, inputs=inputs, attrs=attrs, outputs=outputs, has_blocks=len(op.blocks) > 0))

    description = {
        "inputs": {f.name: f.type.WhichOneof("Type") for f in spec.description.input},
        "outputs": {f.name: f.type.WhichOneof("Type") for f in spec.description.output},
    }
    return Program(path=package, opset=fn.opset, inputs={i.name: tensor_info(i.type) for i in fn.inputs},
                   outputs=list(block.outputs), ops=ops, description=description)
