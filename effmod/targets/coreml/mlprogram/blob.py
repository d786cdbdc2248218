"""Reader for Core ML's weight blob file (``weights/weight.bin``, MIL blob storage format v2).

Layout: a 64-byte file header (uint32 blob count, uint32 version = 2), then per blob a 64-byte
metadata record at the offset the program references — uint32 sentinel 0xDEADBEEF, uint32 blob
dtype, uint64 size in bytes, uint64 absolute data offset — followed by the data (64-byte aligned).
The element type and shape come from the program, so the record's size is checked against them."""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ....errors import EffmodError

SENTINEL = 0xDEADBEEF
_META = struct.Struct("<IIQQ")

# Byte-aligned element types; sub-byte ones (int4, uint1..6) are unpacked by ``unpack_bits``.
BITS = {"int4": 4, "uint4": 4, "uint1": 1, "uint2": 2, "uint3": 3, "uint6": 6}


class BlobFile:
    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise EffmodError(f"weight file missing: {self.path}", hint="the .mlpackage is incomplete; re-export it")
        self.data = np.memmap(self.path, dtype=np.uint8, mode="r")
        count, version = struct.unpack_from("<II", self.data, 0)
        if version != 2:
            raise EffmodError(f"{self.path}: blob storage version {version} is not supported (expected 2)")
        self.count = count

    def record(self, offset: int) -> tuple[int, int]:
        """(data offset, size in bytes) of the blob whose metadata sits at ``offset``."""
        if offset + _META.size > len(self.data):
            raise EffmodError(f"{self.path}: blob offset {offset} is past the end of the file")
        sentinel, _dtype, size, data_offset = _META.unpack_from(self.data, offset)
        if sentinel != SENTINEL:
            raise EffmodError(f"{self.path}: no blob at offset {offset} (bad sentinel {sentinel:#x})",
                              hint="the weight file does not belong to this program")
        if data_offset + size > len(self.data):
            raise EffmodError(f"{self.path}: blob at {offset} runs past the end of the file")
        return data_offset, size

    def read(self, offset: int, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
        data_offset, size = self.record(offset)
        raw = self.data[data_offset:data_offset + size]
        n = int(np.prod(shape, dtype=np.int64))
        if dtype in BITS:
            values = unpack_bits(np.asarray(raw), BITS[dtype], n, signed=dtype.startswith("int"))
        else:
            np_dtype = np.dtype(dtype)
            if size != n * np_dtype.itemsize:
                raise EffmodError(f"{self.path}: blob at {offset} holds {size} bytes, the program expects "
                                  f"{n} × {dtype} = {n * np_dtype.itemsize}")
            values = np.frombuffer(raw, dtype=np_dtype, count=n)
        return np.array(values).reshape(shape)


def unpack_bits(raw: np.ndarray, bits: int, n: int, signed: bool) -> np.ndarray:
    """Sub-byte values packed least-significant bits first, as coremltools writes them."""
    flat = np.unpackbits(raw, bitorder="little")[: n * bits].reshape(n, bits)
    values = (flat.astype(np.int32) << np.arange(bits, dtype=np.int32)).sum(axis=1)
    if signed:
        values = np.where(values >= 1 << (bits - 1), values - (1 << bits), values)
    return values.astype(np.int8 if signed else np.uint8)
