"""The user-supplied ONNX plugin: letterboxing and YOLO output layouts, on a tiny real model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from redactor.config import OnnxDetectorConfig
from redactor.detect.onnx_yolo import OnnxYoloDetector, decode_yolo, letterbox
from redactor.errors import DetectorUnavailable
from redactor.types import Label

SIZE = 64


def _constant_model(path: Path, output: np.ndarray) -> Path:
    """An ONNX model that takes a (1, 3, SIZE, SIZE) image and always answers `output`.

    The output depends on the input (times zero) so the graph is a real one.
    """
    const = helper.make_node(
        "Constant",
        [],
        ["c"],
        value=helper.make_tensor("c", TensorProto.FLOAT, output.shape, output.ravel().tolist()),
    )
    nodes = [
        const,
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=1),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Reshape", ["z", "one_shape"], ["z1"]),
        helper.make_node("Add", ["c", "z1"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "constant",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        initializer=[
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("one_shape", TensorProto.INT64, [1], [1]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_letterbox_centres_the_frame() -> None:
    blob, s, (px, py) = letterbox(np.zeros((50, 100, 3), np.uint8), SIZE)
    assert blob.shape == (1, 3, SIZE, SIZE) and s == pytest.approx(0.64)
    assert (px, py) == (0, 16)
    assert blob[0, 0, 0, 0] == pytest.approx(114 / 255)  # padding
    assert blob[0, 0, 32, 32] == 0.0  # image


def test_decode_layouts_agree() -> None:
    v8 = np.array([[[32.0, 10.0], [32.0, 10.0], [20.0, 4.0], [10.0, 4.0], [0.9, 0.1]]], np.float32)
    boxes, scores = decode_yolo(v8, "yolov8", 0.5)
    np.testing.assert_allclose(boxes, [[22, 27, 42, 37]])
    np.testing.assert_allclose(scores, [0.9])
    v5 = np.concatenate([v8[0, :4], np.ones((1, 2), np.float32), v8[0, 4:]]).T[None]
    b5, s5 = decode_yolo(v5, "yolov5", 0.5)
    np.testing.assert_allclose(b5, boxes)
    np.testing.assert_allclose(s5, scores)


def test_a_user_model_runs_and_boxes_map_back_to_the_frame(tmp_path: Path) -> None:
    # one confident box centred in the input, one below threshold
    out = np.array([[[32.0, 5.0], [32.0, 5.0], [16.0, 2.0], [8.0, 2.0], [0.8, 0.1]]], np.float32)
    path = _constant_model(tmp_path / "plates.onnx", out)
    det = OnnxYoloDetector(OnnxDetectorConfig(path=path, label="plate", input_size=SIZE))
    found = det.detect(np.zeros((50, 100, 3), np.uint8))  # scale 0.64, padded 16 px above
    assert len(found) == 1 and found.labels[0] == int(Label.PLATE)
    np.testing.assert_allclose(
        found.boxes[0], [(24 - 0) / 0.64, (28 - 16) / 0.64, 40 / 0.64, (36 - 16) / 0.64], rtol=1e-4
    )
    assert len(det.model_sha256) == 64


def test_a_missing_user_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailable, match="does not exist"):
        OnnxYoloDetector(OnnxDetectorConfig(path=tmp_path / "none.onnx"))
