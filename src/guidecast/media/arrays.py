"""The sample arrays every audio stage passes around, named once."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["F64", "Float", "Pcm"]

Float = npt.NDArray[np.float32]
"""Samples as float32, full scale at ±1."""
F64 = npt.NDArray[np.float64]
"""Samples, powers or sums in float64, where float32 would lose precision."""
Pcm = npt.NDArray[np.int16]
"""16-bit PCM samples."""
