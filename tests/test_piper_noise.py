"""The voice's noise is fixed: the same sentence is the same sound on every run and machine."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper

from guidecast.tts.piper import PiperEngine
from guidecast.tts.piper_noise import fix_noise, gaussian_table


def _noise_model() -> onnx.ModelProto:
    """A graph that draws noise like its input, as a VITS voice does twice per sentence."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "c", "t"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "c", "t"])
    double = helper.make_node("Add", ["x", "x"], ["doubled"])
    draw = helper.make_node("RandomNormalLike", ["doubled"], ["y"], dtype=TensorProto.FLOAT)
    graph = helper.make_graph([double, draw], "noise", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def _runs(model: onnx.ModelProto, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Two runs of one session of the model, as a voice says two sentences."""
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    x = {"x": np.zeros(shape, np.float32)}
    return session.run(None, x)[0], session.run(None, x)[0]


def test_the_table_is_standard_normal_and_the_same_every_time() -> None:
    table = gaussian_table(192, 4096)
    assert table.shape == (1, 192, 4096) and table.dtype == np.float32
    assert np.array_equal(table, gaussian_table(192, 4096))
    assert abs(float(table.mean())) < 0.01 and abs(float(table.std()) - 1) < 0.01
    # Neighbours are independent, and so is a value of its neighbour in the next channel.
    flat = table.ravel().astype(np.float64)
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.01
    assert abs(np.corrcoef(flat[:-4096], flat[4096:])[0, 1]) < 0.01


def test_random_draws_become_fixed_noise_of_any_shape() -> None:
    # Unfixed, what a sentence draws depends on how many were said before it in the process.
    assert not np.array_equal(*_runs(_noise_model(), (1, 2, 50)))
    fixed = _noise_model()
    assert fix_noise(fixed)
    assert not any(n.op_type == "RandomNormalLike" for n in fixed.graph.node)
    table = gaussian_table(192, 4096)
    for shape in [(1, 2, 50), (1, 192, 4096), (1, 192, 9000), (1, 300, 70)]:
        first, again = _runs(fixed, shape)
        assert first.shape == shape and np.array_equal(first, again)
        c, t = shape[1], shape[2]
        tiled = np.tile(table, (1, -(-c // 192), -(-t // 4096)))  # larger shapes repeat it
        assert np.array_equal(first, tiled[:, :c, :t])


def test_a_graph_without_noise_is_left_alone() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    graph = helper.make_graph([helper.make_node("Neg", ["x"], ["y"])], "plain", [x], [y])
    model = helper.make_model(graph)
    assert not fix_noise(model)
    assert [n.op_type for n in model.graph.node] == ["Neg"]


@pytest.mark.slow
def test_the_voice_says_a_sentence_the_same_way_every_time() -> None:
    text = "Stay here for about two and a half minutes, breathing slowly."
    first = PiperEngine().synthesize(text, rate=1.0)
    other = PiperEngine()  # another load of the model, which says something else first
    other.synthesize("Breathe in.", rate=1.0)
    again = other.synthesize(text, rate=1.0)
    assert len(first.samples) > first.sample_rate  # a real sentence, over a second long
    assert np.array_equal(first.samples, again.samples)
