"""Make a Piper voice say a sentence the same way every time.

VITS draws Gaussian noise twice per sentence (`RandomNormalLike`: once for the phoneme lengths,
once for the sound), unseeded, so the same sentence came out a little different on each
synthesis: a few milliseconds longer or shorter, other samples. Two cold builds of one catalog
(or one on a Dask cluster and one at home) then made sessions of different lengths, and a clip
lost from the cache came back different.

Here each draw becomes a slice of one fixed table of Gaussian noise (3 MB), tiled when a sentence
is longer than the table: the same sentence is then the same sound on every machine and run, and
the voice sounds as before (the noise has the same distribution; only its seed is fixed).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

__all__ = ["NOISE_VERSION", "fix_noise", "gaussian_table"]

log = logging.getLogger(__name__)

NOISE_VERSION = 1
"""Part of the voice's identity (and so of every clip's key): raise it when the noise changes."""
_SEED = 0x6775696465  # "guide"
_TABLE_CHANNELS = 192
"""The channels of a VITS voice's sound noise (its phoneme-length noise has 2)."""
_TABLE_STEPS = 4096
"""Steps along the last axis before the table repeats: 47 s of sound, 4096 phonemes."""


def gaussian_table(channels: int, steps: int, seed: int = _SEED) -> np.ndarray[Any, Any]:
    """Standard normal float32 noise [1, channels, steps], from PCG64's raw bits and the
    Box-Muller transform (both fixed, unlike a Generator's methods across numpy versions)."""
    bits = np.random.PCG64(seed).random_raw(2 * channels * steps) >> np.uint64(11)
    u1 = (bits[0::2].astype(np.float64) + 1.0) / 2.0**53  # (0, 1]
    u2 = bits[1::2].astype(np.float64) / 2.0**53  # [0, 1)
    normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normal.astype(np.float32).reshape(1, channels, steps)


def fix_noise(model: Any) -> bool:
    """Replace every `RandomNormalLike` of an ONNX model (in place) with fixed noise of its
    input's shape, sliced from one table (tiled where the shape is larger); False when the
    graph draws no noise, or draws it in a shape of other than three axes."""
    from onnx import helper, numpy_helper, shape_inference

    graph = model.graph
    draws = [n for n in graph.node if n.op_type == "RandomNormalLike"]
    if not draws:
        return False
    inferred = shape_inference.infer_shapes(model).graph
    ranks = {v.name: len(v.type.tensor_type.shape.dim) for v in inferred.value_info}
    if any(ranks.get(node.input[0]) != 3 for node in draws):
        log.info("noise of another shape than expected; the voice keeps its random noise")
        return False
    table = gaussian_table(_TABLE_CHANNELS, _TABLE_STEPS)
    size = np.array(table.shape, np.int64)
    graph.initializer.extend(
        [
            numpy_helper.from_array(table, "guidecast_noise"),
            numpy_helper.from_array(size, "guidecast_noise_size"),
            numpy_helper.from_array(size - 1, "guidecast_noise_round_up"),
            numpy_helper.from_array(np.zeros(3, np.int64), "guidecast_noise_starts"),
        ]
    )
    for i, node in enumerate(draws):

        def out(step: str, i: int = i) -> str:
            return f"guidecast_noise_{i}_{step}"

        # noise = Tile(table, ceil(shape / table's shape))[:shape[0], :shape[1], :shape[2]]
        nodes = [
            helper.make_node("Shape", [node.input[0]], [out("shape")]),
            helper.make_node("Add", [out("shape"), "guidecast_noise_round_up"], [out("up")]),
            helper.make_node("Div", [out("up"), "guidecast_noise_size"], [out("repeats")]),
            helper.make_node("Tile", ["guidecast_noise", out("repeats")], [out("tiled")]),
            helper.make_node(
                "Slice", [out("tiled"), "guidecast_noise_starts", out("shape")], [node.output[0]]
            ),
        ]
        at = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, made in enumerate(nodes):
            graph.node.insert(at + offset, made)
    return True
