"""The sample arrays every audio stage passes around, named once."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "Float", "Pcm", "pack_measures", "unpack_measures"]

Float = npt.NDArray[np.float32]
"""Samples as float32, full scale at ±1."""
F64 = npt.NDArray[np.float64]
"""Samples, powers or sums in float64, where float32 would lose precision."""
Pcm = npt.NDArray[np.int16]
"""16-bit PCM samples."""


_HEAD = struct.Struct(">I")


def pack_measures(head: dict[str, Any], values: F64) -> bytes:
    """A JSON head and an array of float64, as measures are kept in the cache."""
    text = json.dumps(head).encode()
    return _HEAD.pack(len(text)) + text + values.astype(">f8").tobytes()


def unpack_measures(body: bytes) -> tuple[dict[str, Any], F64]:
    """What `pack_measures` packed; ValueError, KeyError or struct.error if damaged."""
    (size,) = _HEAD.unpack_from(body)
    head = json.loads(body[_HEAD.size : _HEAD.size + size])
    if not isinstance(head, dict):
        raise ValueError("its head is not a mapping")
    return head, np.frombuffer(body[_HEAD.size + size :], ">f8").astype(np.float64)
