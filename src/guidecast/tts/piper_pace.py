"""Make a Piper voice's speaking rate scale its speech in proportion.

Piper voices (VITS) predict a length for every phoneme id in frames, multiply it by the
`length_scale` and round each one *up* (`Ceil`) before decoding. About half the ids are the
padding Piper puts between phonemes, and most of those last well under a frame, so their
rounding adds a fixed frame each whatever the scale: on the bundled voice 30 % of the frames
do not scale, and a length scale of 1.25 makes a sentence only 13 % longer.

The fix is in the graph: round first, at the voice's natural pace, then scale the rounded
lengths and round their running sum, so every phoneme keeps its natural length ratio and the
whole sentence lasts exactly `length_scale` times as long (to a frame). At a scale of 1 the
result is the same as the original graph.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["make_proportional"]

log = logging.getLogger(__name__)


def make_proportional(model: Any, name_: str) -> bool:
    """Give a voice's ONNX model (in place) proportional length scaling; False when it has no
    such step (`name_` names the voice in the log)."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    ceil = next((n for n in graph.node if n.op_type == "Ceil"), None)
    scaled = producer.get(ceil.input[0]) if ceil is not None else None
    if ceil is None or scaled is None or scaled.op_type != "Mul":
        log.info("%s: no rounded phoneme lengths found; rate scaling left as is", name_)
        return False
    # Which input of the Mul is the length scale (a Gather from the `scales` input)?
    scale_input = next(
        (i for i in scaled.input if _reads_scales(producer.get(i))),
        None,
    )
    if scale_input is None:
        log.info("%s: length scale not found; rate scaling left as is", name_)
        return False
    natural = next(i for i in scaled.input if i != scale_input)
    rounded = ceil.output[0]
    out = rounded + "_proportional"

    def name(suffix: str) -> str:
        return f"guidecast_pace_{suffix}"

    ceil.input[0] = natural
    ceil.output[0] = name("ceil")
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array(-1, dtype=np.int64), name("axis")),
            numpy_helper.from_array(np.array([0, 0, 1, 0, 0, 0], dtype=np.int64), name("pads")),
            numpy_helper.from_array(np.array([0], dtype=np.int64), name("starts")),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), name("ends")),
            numpy_helper.from_array(np.array([2], dtype=np.int64), name("axes")),
        ]
    )
    nodes = [
        helper.make_node("Mul", [name("ceil"), scale_input], [name("scaled")]),
        helper.make_node("CumSum", [name("scaled"), name("axis")], [name("cumsum")]),
        helper.make_node("Round", [name("cumsum")], [name("ends_at")]),
        helper.make_node("Pad", [name("ends_at"), name("pads")], [name("padded")]),
        helper.make_node(
            "Slice",
            [name("padded"), name("starts"), name("ends"), name("axes")],
            [name("starts_at")],
        ),
        helper.make_node("Sub", [name("ends_at"), name("starts_at")], [out]),
    ]
    for node in graph.node:
        for k, value in enumerate(node.input):
            if value == rounded:
                node.input[k] = out
    at = list(graph.node).index(ceil) + 1
    for offset, node in enumerate(nodes):
        graph.node.insert(at + offset, node)
    return True


def _reads_scales(node: Any) -> bool:
    return node is not None and node.op_type == "Gather" and node.input[0] == "scales"
