"""onnxruntime sessions for the detectors: one place for threads and graph repair.

Every session is CPU, fully optimised, with its thread count set explicitly
(onnxruntime would otherwise take every core of a machine it shares).
"""

from __future__ import annotations

import collections
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnx
from onnx import helper, numpy_helper, version_converter

from redactor.errors import DetectorUnavailable


def session(model: Path | bytes, threads: int, what: str):  # type: ignore[no-untyped-def]
    """An onnxruntime CPU session for `model` (a path or serialised bytes).

    `intra_op_num_threads` is set explicitly; spinning is off so idle worker
    threads do not burn the cores that other streams and detectors need. The memory
    pattern is off: it is planned per input shape, and live crops change shape every
    detection (see docs/detection.md#onnxruntime-sessions).
    """
    import onnxruntime as ort  # local: heavy, and only detectors that use it pay for it

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.enable_mem_pattern = False
    opts.log_severity_level = 3
    source = str(model) if isinstance(model, Path) else model
    try:
        return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own untyped errors
        raise DetectorUnavailable(f"{what}: onnxruntime cannot load the model: {e}") from e


_shared: weakref.WeakValueDictionary[tuple[object, ...], object] = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_session(  # type: ignore[no-untyped-def]
    path: Path, threads: int, what: str, prepare: Callable[[Path, str], bytes] | None = None
):
    """One session per model file, preparation and thread count in the process.

    Profiles reuse models (CenterFace runs in realtime, roi, thorough and sweep at
    several scales), and each onnxruntime session keeps a memory arena as large as
    its biggest run, so separate sessions held several copies. Run is thread-safe and runs on the calling thread (one intra-op thread),
    so sharing costs no parallelism and each caller keeps its thread's priority.
    The session lives while a detector holds it.
    """
    st = path.stat()
    key = (
        str(path.resolve()),
        st.st_mtime_ns,
        st.st_size,
        threads,
        None if prepare is None else f"{prepare.__module__}.{prepare.__qualname__}",
    )
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = session(path if prepare is None else prepare(path, what), threads, what)
            _shared[key] = found
        return found


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


HARDSWISH_OPSET = 14  # the first opset with a HardSwish operator


def fuse_scalar_chains(path: Path, what: str) -> bytes:
    """The model at `path` with two exported patterns collapsed, computing the same.

    Paddle's exporter writes PP-OCR's learnable affine blocks as Conv -> Mul(a)
    -> Add(b) with scalar a, b, and hard-swish as Add(3) -> Clip(0, 6) -> Mul ->
    Div(6). onnxruntime fuses neither, so each costs full passes over large
    activations. The affine folds exactly into the convolution (W*a, bias*a + b)
    and hard-swish becomes one HardSwish node (docs/detection.md#plate-text).
    """
    try:
        model = onnx.load(str(path))
    except Exception as e:
        raise DetectorUnavailable(f"{what}: cannot read ONNX file {path}: {e}") from e
    if _opset(model) < HARDSWISH_OPSET:
        model = version_converter.convert_version(model, HARDSWISH_OPSET)
    graph = model.graph
    values: dict[str, npt.NDArray[np.float32]] = {
        t.name: numpy_helper.to_array(t) for t in graph.initializer
    }
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    users: dict[str, list[onnx.NodeProto]] = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            users[name].append(node)
    outputs = {o.name for o in graph.output}

    def scalar(name: str | None) -> float | None:
        v = values.get(name) if name is not None else None
        return None if v is None or v.size != 1 else float(v.reshape(()))

    def sole_user(name: str, op: str) -> onnx.NodeProto | None:
        found = users[name]
        if len(found) == 1 and found[0].op_type == op and name not in outputs:
            return found[0]
        return None

    def other(node: onnx.NodeProto, name: str) -> str | None:
        rest = [i for i in node.input if i != name]
        return rest[0] if len(rest) == 1 else None

    drop: set[int] = set()
    for node in list(graph.node):
        if node.op_type == "Conv" and len(node.input) >= 2 and node.input[1] in values:
            mul = sole_user(node.output[0], "Mul")
            a = scalar(other(mul, node.output[0])) if mul is not None else None
            add = sole_user(mul.output[0], "Add") if mul is not None and a is not None else None
            b = scalar(other(add, mul.output[0])) if mul is not None and add is not None else None
            if mul is None or add is None or a is None or b is None:
                continue
            w = values[node.input[1]]
            bias = (
                values[node.input[2]] if len(node.input) > 2 else np.zeros(w.shape[0], np.float32)
            )
            wn, bn = f"{node.output[0]}__w_affine", f"{node.output[0]}__b_affine"
            graph.initializer.extend(
                [
                    numpy_helper.from_array((w * a).astype(np.float32), wn),
                    numpy_helper.from_array((bias * a + b).astype(np.float32), bn),
                ]
            )
            x = node.input[0]
            del node.input[:]
            node.input.extend([x, wn, bn])
            node.output[0] = add.output[0]
            drop.update((id(mul), id(add)))
        elif node.op_type == "Add" and id(node) not in drop:
            x = next((i for i in node.input if scalar(i) != 3.0), None)
            if x is None or scalar(other(node, x)) != 3.0:
                continue
            clip = sole_user(node.output[0], "Clip")
            if (
                clip is None
                or len(clip.input) != 3
                or (scalar(clip.input[1]), scalar(clip.input[2])) != (0.0, 6.0)
            ):
                continue
            mul = sole_user(clip.output[0], "Mul")
            if mul is None or other(mul, clip.output[0]) != x:
                continue
            div = sole_user(mul.output[0], "Div")
            if div is None or div.input[0] != mul.output[0] or scalar(div.input[1]) != 6.0:
                continue
            graph.node.append(
                helper.make_node(
                    "HardSwish", [x], [div.output[0]], name=f"{div.output[0]}__hardswish"
                )
            )
            drop.update((id(node), id(clip), id(mul), id(div)))
    kept = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(_topological(kept))
    return model.SerializeToString()  # type: ignore[no-any-return]


def _opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _topological(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """Nodes ordered so each comes after the producers of its inputs (ONNX requires it)."""
    produced_by = {out: i for i, n in enumerate(nodes) for out in n.output}
    order: list[onnx.NodeProto] = []
    state = [0] * len(nodes)  # 0 new, 1 visiting, 2 done
    for start in range(len(nodes)):
        stack = [(start, False)]
        while stack:
            i, expanded = stack.pop()
            if state[i] == 2:
                continue
            if expanded:
                state[i] = 2
                order.append(nodes[i])
                continue
            state[i] = 1
            stack.append((i, True))
            for name in nodes[i].input:
                j = produced_by.get(name)
                if j is not None and state[j] == 0:
                    stack.append((j, False))
    return order
