"""onnxruntime sessions for the detectors: one place for threads and graph repair.

Every session is CPU, fully optimised, with its thread count set explicitly
(onnxruntime would otherwise take every core of a machine it shares).
"""

from __future__ import annotations

from pathlib import Path

import onnx

from redactor.errors import DetectorUnavailable


def session(model: Path | bytes, threads: int, what: str):  # type: ignore[no-untyped-def]
    """An onnxruntime CPU session for `model` (a path or serialised bytes).

    `intra_op_num_threads` is set explicitly; spinning is off so idle worker
    threads do not burn the cores that other streams and detectors need.
    """
    import onnxruntime as ort  # local: heavy, and only detectors that use it pay for it

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    source = str(model) if isinstance(model, Path) else model
    try:
        return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own untyped errors
        raise DetectorUnavailable(f"{what}: onnxruntime cannot load the model: {e}") from e


def dynamic_image_model(path: Path, what: str) -> bytes:
    """The model at `path` with a dynamic (1, C, H, W) input and weights as weights.

    Some exported models (CenterFace's among them) fix the input size in the
    file and list every weight as a graph input too; an input may be replaced
    at run time, so onnxruntime cannot fold or fuse anything that depends on
    one. Dropping weights from the inputs and naming the spatial dimensions
    lets the optimiser run and any frame size through, in memory only.
    """
    try:
        model = onnx.load(str(path))
    except Exception as e:
        raise DetectorUnavailable(f"{what}: cannot read ONNX file {path}: {e}") from e
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise DetectorUnavailable(
            f"{what}: expected one image input in {path}, got {[i.name for i in inputs]}"
        )
    image = onnx.ValueInfoProto()
    image.CopyFrom(inputs[0])
    del graph.input[:]
    graph.input.append(image)
    dims = graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        raise DetectorUnavailable(f"{what}: expected an NCHW input in {path}, got {len(dims)} dims")
    for dim, name in zip(dims, ("batch", None, "height", "width"), strict=True):
        if name is not None:
            dim.ClearField("dim_value")
            dim.dim_param = name
    # Output sizes follow the input; stale fixed sizes would only mislead shape inference.
    for out in graph.output:
        for i, dim in enumerate(out.type.tensor_type.shape.dim):
            if i != 1:
                dim.ClearField("dim_value")
                dim.dim_param = f"{out.name}_d{i}"
    if model.ir_version < 4:  # weights outside the inputs need IR 4 or later
        model.ir_version = 4
    return model.SerializeToString()  # type: ignore[no-any-return]
