"""A LAME encoder with no bit reservoir: every frame decodes on its own, so frames of a
continuous sound (an ambience bed) can be cut from one encode and joined to another's.

lameenc offers no switch for the reservoir; its extension module carries libmp3lame linked in
and exports LAME's C functions, so they are called here through ctypes (which releases the GIL
during each call, as lameenc does). With the reservoir off, a frame's main data starts in the
frame itself (`main_data_begin` is 0), and at LAME quality 7 the encoder's state settles within
`PRE_FRAMES` frames of the same input: a piece encoded from `PRE_FRAMES` frames before its
first kept frame gives, byte for byte, the frames a whole-session encode gives there.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import lameenc
import numpy as np

from ..media.arrays import Pcm
from ..media.format import AudioFormat
from .frames import split_frames

__all__ = ["PRE_FRAMES", "available", "encode_frames"]

PRE_FRAMES = 2
"""Frames of the real sound an encoder takes in, and drops, before the first frame it keeps."""

_INT_SETTERS = (
    "lame_set_num_channels",
    "lame_set_in_samplerate",
    "lame_set_out_samplerate",
    "lame_set_brate",
    "lame_set_quality",
    "lame_set_disable_reservoir",
    "lame_set_bWriteVbrTag",
)


@functools.cache
def _library() -> Any:
    """LAME's C functions, typed; AttributeError or OSError when the build lacks them."""
    lib = ctypes.CDLL(lameenc.__file__)
    lib.lame_init.restype = ctypes.c_void_p
    lib.lame_init.argtypes = []
    for name in _INT_SETTERS:
        getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int]
        getattr(lib, name).restype = ctypes.c_int
    lib.lame_init_params.argtypes = [ctypes.c_void_p]
    lib.lame_close.argtypes = [ctypes.c_void_p]
    buffer: list[Any] = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
    ]
    lib.lame_encode_buffer.argtypes = [ctypes.c_void_p, *buffer]
    lib.lame_encode_buffer_interleaved.argtypes = buffer
    lib.lame_encode_flush.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    return lib


def available() -> bool:
    """Whether the installed lameenc exports LAME's functions (every known build does)."""
    try:
        _library()
    except (OSError, AttributeError):
        return False
    return True


def encode_frames(pcm: Pcm, fmt: AudioFormat, quality: int, *, flush: bool) -> list[bytes]:
    """Encode int16 PCM (interleaved when stereo) with a fresh reservoir-free encoder.

    Returns its whole frames; with `flush`, the encoder's last frames too (padded with
    silence, as at the end of a session); without, only those the input completes.
    """
    lib = _library()
    gfp = lib.lame_init()
    if not gfp:
        raise MemoryError("LAME could not start an encoder")
    try:
        settings = (fmt.channels, fmt.sample_rate, fmt.sample_rate, fmt.bitrate, quality, 1, 0)
        for name, value in zip(_INT_SETTERS, settings, strict=True):
            getattr(lib, name)(gfp, value)
        if lib.lame_init_params(gfp) < 0:
            raise ValueError(f"LAME refused the format {fmt}")
        data = np.ascontiguousarray(pcm, np.int16)
        samples = len(data) // fmt.channels
        out = ctypes.create_string_buffer(samples * 5 // 4 + 7200 + 8 * 1152)
        if fmt.channels == 1:
            n = lib.lame_encode_buffer(gfp, data.ctypes.data, None, samples, out, len(out))
        else:
            n = lib.lame_encode_buffer_interleaved(gfp, data.ctypes.data, samples, out, len(out))
        if n < 0:
            raise RuntimeError(f"LAME failed to encode ({n})")
        encoded = out.raw[:n]
        if flush:
            m = lib.lame_encode_flush(gfp, out, len(out))
            if m < 0:
                raise RuntimeError(f"LAME failed to flush ({m})")
            encoded += out.raw[:m]
    finally:
        lib.lame_close(gfp)
    frames, _ = split_frames(encoded)
    return frames
