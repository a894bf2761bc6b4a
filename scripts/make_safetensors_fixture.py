#!/usr/bin/env python3
"""Generates test/fixtures/safetensors-mixed.safetensors for test/safetensors.test.ts.

Run as `/usr/bin/python3 scripts/make_safetensors_fixture.py` (numpy only). Deterministic.

Debian bookworm has no python3-safetensors package, so this is not written by Hugging Face's
library: it is an independent writer of the published format (8-byte little-endian header
length, JSON header, raw little-endian data) built from struct, json and numpy, so the test
checks our decoder against a second reading of the spec rather than against our own encoder.
It deliberately produces what our encoder never does:
  * "__metadata__" first and the tensor entries in alphabetical order, while the data section
    holds them in another order (decoders must follow data_offsets, not key order);
  * a header padded so that the data section starts at an offset that is 1 mod 8, so no tensor
    is aligned for a typed-array view (decoders must copy);
  * every dtype Strata reads: F32, F64, I32, BOOL, U8, I8, U16, I16, with extreme values
    (-128, 255, -32768, 65535, float32 denormals, float64 values float32 cannot hold), a
    scalar (shape []) and an empty tensor (shape [0, 3]).
The expected values are stored in the metadata as JSON ("expected": name -> {dtype, shape,
values} with every value printed exactly, float32 values as the doubles they equal, and
"order": names in data order), so the test needs nothing but the file.
"""
import json
import os
import struct

import numpy as np

OUT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "safetensors-mixed.safetensors"))

rng = np.random.default_rng(20240607)

# Data order (deliberately not alphabetical): name -> numpy array (its dtype fixes the file dtype).
TENSORS = [
    ("double", np.array([[0.1, 1.0 / 3.0], [1e-300, -2.5e300]], dtype="<f8")),
    ("weight", rng.standard_normal((3, 4)).astype("<f4")),
    ("counts", np.array([0, 1, 127, 128, 254, 255], dtype="u1")),
    ("mask", np.array([True, False, False, True, True], dtype="?")),
    ("step", np.array(-123456789, dtype="<i4")),
    ("bias", np.array([1e-45, -3.4028235e38, 0.0, -0.0], dtype="<f4")),
    ("deltas", np.array([-128, -1, 0, 127], dtype="i1")),
    ("empty", np.zeros((0, 3), dtype="<f4")),
    ("u16", np.array([0, 40000, 65535], dtype="<u2")),
    ("i16", np.array([-32768, -1, 32767], dtype="<i2")),
]

DTYPE_NAMES = {"<f4": "F32", "<f8": "F64", "<i4": "I32", "|b1": "BOOL", "|u1": "U8", "|i1": "I8", "<u2": "U16", "<i2": "I16"}


def main() -> None:
    entries = {}
    chunks = []
    offset = 0
    for name, array in TENSORS:
        raw = array.tobytes(order="C")
        dtype = DTYPE_NAMES[array.dtype.str]
        entries[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)

    expected = {
        name: {"dtype": DTYPE_NAMES[array.dtype.str], "shape": list(array.shape),
               "values": [v.item() if array.dtype != np.bool_ else int(v) for v in array.reshape(-1)]}
        for name, array in TENSORS
    }
    metadata = {"format": "pt", "expected": json.dumps(expected), "order": json.dumps([n for n, _ in TENSORS])}

    header = {"__metadata__": metadata}
    header.update(sorted(entries.items()))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad with spaces so that 8 + len(header) is 1 mod 8: every tensor is misaligned.
    text += b" " * ((1 - 8 - len(text)) % 8)
    assert (8 + len(text)) % 8 == 1

    with open(OUT, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
    print(f"wrote {OUT}: header {len(text)} bytes, data {offset} bytes")


if __name__ == "__main__":
    main()
