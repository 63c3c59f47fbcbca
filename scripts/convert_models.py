#!/usr/bin/env python3
"""Convert the MediaPipe BlazePose TFLite models to the ONNX files in models/, and prove they are faithful.

This file owns the conversion itself: source-file checks, densifying the detector's sparse weights,
tf2onnx, lossless fp16 storage, the numerical comparison with the TFLite originals, the comparison with a
reference conversion, and writing the .onnx files plus SHA256SUMS. It needs TensorFlow, tf2onnx, onnx,
onnxruntime and OpenCV, so it is not meant to be run directly: `scripts/convert-models` builds a throwaway
venv with the pinned versions (scripts/convert-models.requirements.txt), fetches the npm package and then
runs this file.

usage: convert_models.py --package NPM_PACKAGE_DIR --work TMP_DIR --out OUT_DIR
                         [--videos DIR] [--reference DIR]
"""
import argparse
import dataclasses
import glob
import hashlib
import math
import os
import re
import subprocess
import sys
import time
import warnings

import cv2
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx
from onnx import TensorProto, helper, numpy_helper
from tensorflow.lite.python import schema_py_generated as tflite_schema
from tensorflow.lite.tools import flatbuffer_utils

# tf.lite.Interpreter still works in TF 2.21 but warns that it moved to the ai-edge-litert package; the
# warning is noise here (the interpreter is only the reference we compare against).
warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")

# ---------------------------------------------------------------------------------------------------------
# What we convert
# ---------------------------------------------------------------------------------------------------------
NPM_PACKAGE = "@mediapipe/pose@0.5.1675469404"


@dataclasses.dataclass(frozen=True)
class Source:
    file: str          # file inside the npm tarball's package/ folder
    sha256: str        # of the model bytes (the slice, where there is one)
    end: int = None    # the model is bytes 0..end of `file` (None: the whole file)


# The detector is not shipped as a .tflite file: it is the first 2962288 bytes of the packed Emscripten
# asset file (pose_solution_packed_assets_loader.js lists /…/pose_detection.tflite at start 0, end 2962288).
DETECTOR = "pose_detection"
SOURCES = {
    DETECTOR: Source("pose_solution_packed_assets.data",
                     "a63c614bef30d35947f13be361820b1e4e3bec9cfeebf4d11216a18373108e85", end=2962288),
    "pose_landmark_lite": Source("pose_landmark_lite.tflite",
                                 "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
    "pose_landmark_full": Source("pose_landmark_full.tflite",
                                 "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
    "pose_landmark_heavy": Source("pose_landmark_heavy.tflite",
                                  "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
}
ASSET_LOADER = "pose_solution_packed_assets_loader.js"

# tf2onnx 1.17.0 / onnxruntime 1.31 both handle opset 17; it has every op these models need.
ONNX_OPSET = 17

# fp16 storage: an fp32 initializer is stored as fp16 + Cast(to=float) only when the fp16 value casts back
# to the very same fp32 bits (all weights of these models were fp16 in the TFLite files, so this is almost
# all of them). Tensors with fewer elements than this stay fp32: for them (Relu6 bounds, Resize scales,
# a few 8- and 16-channel biases) the extra Cast node costs more bytes than fp16 saves. (The reference
# conversion in ../shared/models drew the same line, so the two agree tensor for tensor.)
FP16_MIN_ELEMENTS = 17

# ---------------------------------------------------------------------------------------------------------
# Test inputs, preprocessed as MediaPipe's graphs do (ImageToTensorCalculator options of the web graph)
# ---------------------------------------------------------------------------------------------------------
DETECTOR_SIZE = 224          # NHWC [1,224,224,3], RGB, letterboxed, values in [-1, 1]
LANDMARK_SIZE = 256          # NHWC [1,256,256,3], RGB, rotated ROI crop, values in [0, 1]
FRAMES_PER_VIDEO = 2         # frames decoded from each clip, evenly spaced (at 1/3 and 2/3 of the clip)
RANDOM_IMAGES = 3            # seeded uniform-noise images per input size
RANDOM_SEED = 20240601
DETECTION_THRESHOLD = 0.5    # min_score_thresh of the web graph; below it a frame is cropped in its centre
ROI_SCALE = 1.25             # RectTransformationCalculator scale_x/scale_y (ROI side = 2 * 1.25 * |kp1-kp0|)

# ---------------------------------------------------------------------------------------------------------
# Fidelity tolerances: max |ONNX Runtime - TFLite interpreter| per output over every test input (real frames
# and noise alike). Both runtimes compute in fp32 from the same fp32 weights; only the order of summation
# differs (XNNPACK vs MLAS kernels), so differences scale with the magnitude of the activations. Each limit
# is about 10x the largest difference measured on this machine (see models/README.md), leaving room for
# other CPUs' kernels, and is far below what matters downstream: 0.05 px of the 256-px crop is invisible,
# and a score moving by 2e-5 cannot flip the 0.5 detection threshold in practice.
# None = reported, not checked.
# ---------------------------------------------------------------------------------------------------------
DETECTOR_TOLERANCES = {
    "Identity": 0.02,                    # box + keypoint regressors, 224-px units
    "Identity_1": 0.01,                  # raw score logits
    "score = sigmoid(Identity_1)": 2e-5,  # what the pipeline thresholds at 0.5
}
LANDMARK_TOLERANCES = {
    "Identity": 0.2,                     # 39 x (x, y, z in 256-px units, visibility and presence logits)
    "Identity_1": 1e-3,                  # pose-present flag (sigmoid already applied in the model)
    # Segmentation logits reach about +-1800 on real frames, where fp32 rounding alone is ~1e-4 and the
    # head's deep sums amplify summation-order differences to a few units; runform does not use this head.
    # Its probabilities (sigmoid, as MediaPipe applies it) are checked instead.
    "Identity_2": None,
    "Identity_3": 0.02,                  # heatmap logits (refine landmarks around x,y)
    "Identity_4": 5e-4,                  # world landmarks, metres
    "x,y of landmarks 0-32 (px)": 0.05,  # Identity[:33, 0:2]: the landmark positions runform uses
    "segmentation = sigmoid(Identity_2)": 0.03,
}


def say(*a):
    print(*a, flush=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str:
    with open(path, "rb") as f:
        return sha256(f.read())


# ---------------------------------------------------------------------------------------------------------
# 1. Source files
# ---------------------------------------------------------------------------------------------------------
def extract_sources(package_dir, work_dir):
    """Copy each source model out of the npm package, checking its sha256. Returns {name: tflite path}."""
    # The detector byte range is a fact about this package build; make sure the loader still says so.
    loader = open(os.path.join(package_dir, ASSET_LOADER), encoding="utf-8").read()
    m = re.search(r'"filename":\s*"[^"]*/pose_detection\.tflite",\s*"start":\s*(\d+),\s*"end":\s*(\d+)', loader)
    if not m or (int(m.group(1)), int(m.group(2))) != (0, SOURCES[DETECTOR].end):
        sys.exit(f"FAIL: {ASSET_LOADER} does not list pose_detection.tflite at bytes 0..{SOURCES[DETECTOR].end}")
    paths = {}
    for name, src in SOURCES.items():
        data = open(os.path.join(package_dir, src.file), "rb").read()
        if src.end is not None:
            data = data[:src.end]
        digest = sha256(data)
        what = src.file + (f" bytes 0..{src.end}" if src.end is not None else "")
        if digest != src.sha256:
            sys.exit(f"FAIL: sha256 of {what} is {digest}, expected {src.sha256}")
        if data[4:8] != b"TFL3":
            sys.exit(f"FAIL: {what} is not a TFLite flatbuffer")
        path = os.path.join(work_dir, name + ".tflite")
        with open(path, "wb") as f:
            f.write(data)
        say(f"  {name:20s} {what:50s} sha256 {digest} ok")
        paths[name] = path
    return paths


# ---------------------------------------------------------------------------------------------------------
# 2. Densify the detector
# ---------------------------------------------------------------------------------------------------------
_TFLITE_NUMPY_TYPES = {tflite_schema.TensorType.FLOAT16: np.float16, tflite_schema.TensorType.FLOAT32: np.float32}


def _expand_sparse(tensor, values):
    """Expand one TFLite sparse tensor to a dense array.

    Only the layout the detector uses is supported (and anything else is refused rather than guessed):
    identity traversal order, no block map, every dimension but the last DENSE, the last SPARSE_CSR. Then
    the dense dimensions flatten to rows, and row r holds values[seg[r]:seg[r+1]] at columns
    indices[seg[r]:seg[r+1]].
    """
    sp = tensor.sparsity
    shape = [int(d) for d in tensor.shape]
    dims = sp.dimMetadata
    fmt = tflite_schema.DimensionType
    if (list(sp.traversalOrder) != list(range(len(shape))) or sp.blockMap is not None and len(sp.blockMap)
            or len(dims) != len(shape)
            or any(d.format != fmt.DENSE or d.denseSize != n for d, n in zip(dims[:-1], shape[:-1]))
            or dims[-1].format != fmt.SPARSE_CSR):
        raise ValueError(f"unsupported sparsity layout in tensor {tensor.name!r}")
    rows = int(np.prod(shape[:-1]))
    seg = np.asarray(dims[-1].arraySegments.values, dtype=np.int64)
    idx = np.asarray(dims[-1].arrayIndices.values, dtype=np.int64)
    if len(seg) != rows + 1 or seg[0] != 0 or seg[-1] != len(idx) or len(idx) != len(values) \
            or np.any(np.diff(seg) < 0) or np.any(idx >= shape[-1]):
        raise ValueError(f"inconsistent CSR data in tensor {tensor.name!r}")
    dense = np.zeros((rows, shape[-1]), dtype=values.dtype)
    dense[np.repeat(np.arange(rows), np.diff(seg)), idx] = values
    return dense.reshape(shape)


def _drop_unused_tensors(model, sg):
    """Remove tensors no op or graph input/output refers to (here: the now unused sparse weights).

    tf2onnx turns every tensor that has data into a constant, whether used or not, and chokes on
    sparse ones; so they must go, not just be disconnected. Tensor indices are renumbered everywhere.
    """
    used = set(sg.inputs) | set(sg.outputs)
    for op in sg.operators:
        used |= set(op.inputs) | set(op.outputs) | set(op.intermediates if op.intermediates is not None else [])
    used.discard(-1)  # -1 marks an omitted optional input
    new_index = {old: new for new, old in enumerate(sorted(used))}
    remap = lambda ids: [new_index[i] if i != -1 else -1 for i in ids]
    buffers_in_use = {sg.tensors[i].buffer for i in used}
    for i, t in enumerate(sg.tensors):
        if i not in used and t.buffer and t.buffer not in buffers_in_use:
            model.buffers[t.buffer].data = None   # unreferenced data would only bloat the file
    sg.tensors = [sg.tensors[i] for i in sorted(used)]
    sg.inputs, sg.outputs = remap(sg.inputs), remap(sg.outputs)
    for op in sg.operators:
        op.inputs, op.outputs = remap(op.inputs), remap(op.outputs)
        if op.intermediates is not None:
            op.intermediates = remap(op.intermediates)


def densify(src_path, dst_path):
    """Replace every DENSIFY op (sparse constant -> dense tensor) by the dense constant it would produce.

    tf2onnx cannot convert DENSIFY. The op only ever expands a constant, so we do it once here: the
    DENSIFY output tensor gets a buffer with the dense values and the op is dropped; its consumers
    (DEQUANTIZE fp16 -> fp32) are unchanged. The sparse input tensors, now unused, are removed.
    """
    model = flatbuffer_utils.read_model(src_path)
    count = nonzero = total = 0
    for sg in model.subgraphs:
        kept = []
        for op in sg.operators:
            if flatbuffer_utils.opcode_to_name(model, op.opcodeIndex) != "DENSIFY":
                kept.append(op)
                continue
            sparse, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
            if sparse.type != out.type or sparse.type not in _TFLITE_NUMPY_TYPES:
                raise ValueError(f"unexpected DENSIFY types in {sparse.name!r}")
            values = np.frombuffer(bytes(model.buffers[sparse.buffer].data),
                                   dtype=_TFLITE_NUMPY_TYPES[sparse.type])
            dense = _expand_sparse(sparse, values)
            if [int(d) for d in out.shape] != list(dense.shape):
                raise ValueError(f"DENSIFY output shape mismatch in {out.name!r}")
            buf = model.buffers[out.buffer] if out.buffer else None
            if buf is None or (buf.data is not None and len(buf.data)):
                # buffer 0 is the shared "no data" sentinel; never write into it (or into a used buffer)
                buf = tflite_schema.BufferT()
                model.buffers.append(buf)
                out.buffer = len(model.buffers) - 1
            buf.data = np.frombuffer(dense.tobytes(), dtype=np.uint8)
            count += 1
            nonzero += len(values)
            total += dense.size
        sg.operators = kept
        _drop_unused_tensors(model, sg)
    flatbuffer_utils.write_model(model, dst_path)
    say(f"  expanded {count} sparse weight tensors ({nonzero} stored values -> {total} dense, "
        f"{100 * (1 - nonzero / total):.0f}% zeros); dropped {count} DENSIFY ops")
    return count


# ---------------------------------------------------------------------------------------------------------
# 3.-4. tf2onnx and fp16 storage
# ---------------------------------------------------------------------------------------------------------
def provenance(name):
    src = SOURCES[name]
    what = src.file + (f" bytes 0..{src.end}" if src.end is not None else "")
    return (f"MediaPipe BlazePose GHUM {name} (Google, Apache-2.0), converted from npm {NPM_PACKAGE} "
            f"{what} (sha256 {src.sha256})" + ("; sparse weights densified" if name == DETECTOR else "")
            + f"; tf2onnx {tf2onnx.__version__} opset {ONNX_OPSET}; fp16-exact weights stored as fp16 + Cast. "
            "See models/README.md and scripts/convert-models in the runform repository.")


def tf2onnx_convert(tflite_path, onnx_path):
    t0 = time.time()
    cmd = [sys.executable, "-m", "tf2onnx.convert", "--tflite", tflite_path, "--output", onnx_path,
           "--opset", str(ONNX_OPSET)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        say(r.stdout[-4000:], r.stderr[-4000:])
        sys.exit(f"FAIL: tf2onnx failed on {tflite_path}")
    say(f"  tf2onnx --opset {ONNX_OPSET}: {os.path.basename(tflite_path)} -> {os.path.basename(onnx_path)} "
        f"({os.path.getsize(onnx_path) / 1e6:.1f} MB, {time.time() - t0:.0f} s)")


_TF2ONNX_COUNTER = re.compile(r"__[0-9]+")


def canonicalize_names(model):
    """Make the file a pure function of its graph: renumber the names tf2onnx invents, in graph order.

    tf2onnx numbers the names it makes up (`const_fold_opt__583`, `Relu6__163_min__232`, `Conv2D__170`)
    from a global counter that it advances in an order that varies from run to run (even with a fixed
    PYTHONHASHSEED), so two runs on the same input give the same graph with differently named and ordered
    initializers: different bytes.
    Here every name containing such a counter loses it and gets a sequence number in order of first use
    (nodes in graph order, inputs before outputs); initializers are sorted the same way. Names without a
    counter (graph inputs/outputs, TFLite tensor names) are kept, and renamed ones always end in `__N`,
    so no clash is possible.
    """
    g = model.graph
    for v in list(g.input) + list(g.output):
        if _TF2ONNX_COUNTER.search(v.name):
            raise ValueError(f"graph input/output {v.name!r} would be renamed")
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute):
        raise ValueError("subgraphs are not handled")
    inits = {i.name: i for i in g.initializer}
    values, init_order = {}, []
    for node in g.node:
        for n in list(node.input) + list(node.output):
            if n in inits and n not in init_order:
                init_order.append(n)
            if n and n not in values and _TF2ONNX_COUNTER.search(n):
                values[n] = f"{_TF2ONNX_COUNTER.sub('', n)}__{len(values)}"
    if len(init_order) != len(inits):
        raise ValueError("unused initializers")
    for k, node in enumerate(g.node):
        if _TF2ONNX_COUNTER.search(node.name):
            node.name = f"{_TF2ONNX_COUNTER.sub('', node.name)}__{k}"
        node.input[:] = [values.get(n, n) for n in node.input]
        node.output[:] = [values.get(n, n) for n in node.output]
    for vi in g.value_info:
        vi.name = values.get(vi.name, vi.name)
    ordered = [inits[n] for n in init_order]
    for t in ordered:
        t.name = values.get(t.name, t.name)
    del g.initializer[:]
    g.initializer.extend(ordered)
    if len({n.name for n in g.node}) != len(g.node):
        raise ValueError("node names not unique after renaming")


def weights_and_ops(path):
    """What a model computes, without names: op counts and the multiset of weights as consumers see them
    (fp16 + Cast counted as the fp32 tensor it produces)."""
    m = onnx.load(path)
    casts = {n.input[0] for n in m.graph.node if n.op_type == "Cast"}
    weights = []
    for t in m.graph.initializer:
        a = numpy_helper.to_array(t)
        if t.name in casts and a.dtype == np.float16:
            a = a.astype(np.float32)
        weights.append((a.dtype.str, a.shape, sha256(a.tobytes())))
    ops = sorted(n.op_type for n in m.graph.node if not (n.op_type == "Cast" and n.input[0] in casts))
    return ops, sorted(weights)


def _bits_equal(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def store_fp16(model):
    """Store each exactly-representable fp32 initializer X as fp16 `X__fp16` plus a node Cast(to=float) -> X.

    Lossless by construction: a tensor is converted only if fp16 -> fp32 gives back the same bits, and
    the Cast nodes come first in the graph, so every consumer still reads the identical fp32 tensor X.
    Returns (converted, kept_not_exact, kept_small).
    """
    g = model.graph
    names = {i.name for i in g.initializer} | {n for node in g.node for n in list(node.input) + list(node.output)}
    if {i.name for i in g.input} & {i.name for i in g.initializer}:
        raise ValueError("initializers listed as graph inputs are not handled")
    casts, converted, kept_inexact, kept_small = [], 0, 0, 0
    for i, init in enumerate(g.initializer):
        if init.data_type != TensorProto.FLOAT:
            continue
        a = numpy_helper.to_array(init)
        if a.size < FP16_MIN_ELEMENTS:
            kept_small += 1
            continue
        h = a.astype(np.float16)
        if not _bits_equal(h.astype(np.float32), a):
            kept_inexact += 1
            continue
        name = init.name   # (init is overwritten in place below)
        fp16_name, cast_name = name + "__fp16", name + "__cast"
        if fp16_name in names or cast_name in names:
            raise ValueError(f"name clash for {name!r}")
        g.initializer[i].CopyFrom(numpy_helper.from_array(h, fp16_name))
        casts.append(helper.make_node("Cast", [fp16_name], [name], name=cast_name, to=TensorProto.FLOAT))
        converted += 1
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return converted, kept_inexact, kept_small


def check_fp16_lossless(fp32_model, fp16_model):
    """Re-read the saved file and check, tensor by tensor, that every weight a consumer sees is bit-identical."""
    orig = {i.name: numpy_helper.to_array(i) for i in fp32_model.graph.initializer}
    new = {i.name: numpy_helper.to_array(i) for i in fp16_model.graph.initializer}
    cast_of = {n.output[0]: n.input[0] for n in fp16_model.graph.node if n.op_type == "Cast"}
    for name, a in orig.items():
        if name in new:
            b = new[name]
            ok = a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
        else:
            b = new[cast_of[name]]
            ok = b.dtype == np.float16 and _bits_equal(b.astype(np.float32), a)
        if not ok:
            sys.exit(f"FAIL: initializer {name!r} changed in fp16 storage")
    return len(orig)


# ---------------------------------------------------------------------------------------------------------
# 5. Test inputs
# ---------------------------------------------------------------------------------------------------------
def letterbox_detector_input(rgb):
    """Whole frame, padded to a centred square with black, resized to 224, scaled to [-1, 1]."""
    h, w = rgb.shape[:2]
    s = max(h, w)
    ox, oy = (s - w) // 2, (s - h) // 2
    square = np.zeros((s, s, 3), np.uint8)
    square[oy:oy + h, ox:ox + w] = rgb
    x = cv2.resize(square, (DETECTOR_SIZE, DETECTOR_SIZE), interpolation=cv2.INTER_AREA)
    return (x.astype(np.float32) / 127.5 - 1.0)[None], (s, ox, oy)


def _anchors():
    """SSD anchor centres in the detector's output order (28x28x2, 14x14x2, 7x7x6; y, then x, then anchor)."""
    out = []
    for fm, per_cell in ((28, 2), (14, 2), (7, 6)):
        for y in range(fm):
            for x in range(fm):
                out += [((x + 0.5) / fm, (y + 0.5) / fm)] * per_cell
    return np.array(out, np.float32)


ANCHORS = _anchors()


def landmark_crop(rgb, det_outputs, letterbox):
    """The 256x256 [0,1] landmark input for a frame: the rotated ROI of the best detection, as MediaPipe
    builds it (keypoint 0 = hip centre, keypoint 1 = size/rotation point), or a centre crop if nobody is found."""
    reg, logit = det_outputs["Identity"][0], det_outputs["Identity_1"][0, :, 0]
    best = int(np.argmax(logit))
    score = 1 / (1 + math.exp(-float(np.clip(logit[best], -100, 100))))
    h, w = rgb.shape[:2]
    if score >= DETECTION_THRESHOLD:
        s, ox, oy = letterbox
        ax, ay = ANCHORS[best]
        kp = [(float((reg[best, 4 + 2 * k] / DETECTOR_SIZE + ax) * s - ox),
               float((reg[best, 5 + 2 * k] / DETECTOR_SIZE + ay) * s - oy)) for k in (0, 1)]
        (x0, y0), (x1, y1) = kp
        side = 2 * ROI_SCALE * math.hypot(x1 - x0, y1 - y0)
        theta = math.pi / 2 - math.atan2(-(y1 - y0), x1 - x0)
        cx, cy = x0, y0
        from_detection = True
    else:
        side, theta, cx, cy = min(h, w), 0.0, w / 2, h / 2
        from_detection = False
    # dst (u, v) -> src = c + R(theta) * ((u/256 - 1/2) * side, (v/256 - 1/2) * side)
    c, si, k = math.cos(theta), math.sin(theta), side / LANDMARK_SIZE
    m = np.array([[c * k, -si * k, cx - (c - si) * side / 2],
                  [si * k, c * k, cy - (si + c) * side / 2]], np.float64)
    crop = cv2.warpAffine(rgb, m, (LANDMARK_SIZE, LANDMARK_SIZE),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return (crop.astype(np.float32) / 255.0)[None], from_detection


def read_frames(videos_dir):
    frames = []
    for path in sorted(glob.glob(os.path.join(videos_dir, "*.mp4"))):
        cap = cv2.VideoCapture(path)
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        for j in range(FRAMES_PER_VIDEO):
            idx = n * (j + 1) // (FRAMES_PER_VIDEO + 1)
            cap.set(cv2.CAP_PROP_POS_FRAMES, idx)
            ok, bgr = cap.read()
            if ok:
                frames.append((f"{os.path.basename(path)}#{idx}", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)))
        cap.release()
    return frames


# ---------------------------------------------------------------------------------------------------------
# Runtimes
# ---------------------------------------------------------------------------------------------------------
class TFLiteModel:
    def __init__(self, path):
        self.interp = tf.lite.Interpreter(model_path=path)
        self.interp.allocate_tensors()
        self.inp = self.interp.get_input_details()[0]["index"]
        # TFLite output tensors carry the same names (Identity, Identity_1, ...) as the ONNX outputs
        self.outs = {d["name"]: d["index"] for d in self.interp.get_output_details()}

    def __call__(self, x):
        self.interp.set_tensor(self.inp, x)
        self.interp.invoke()
        return {n: self.interp.get_tensor(i).copy() for n, i in self.outs.items()}


class OnnxModel:
    def __init__(self, path):
        self.sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.inp = self.sess.get_inputs()[0].name
        self.names = [o.name for o in self.sess.get_outputs()]

    def __call__(self, x):
        return dict(zip(self.names, self.sess.run(None, {self.inp: x})))


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x.astype(np.float64)))   # no overflow for logits of +-1800


def derived(name, outs):
    """Outputs as runform consumes them, in addition to the raw tensors."""
    outs = dict(outs)
    if name == DETECTOR:
        outs["score = sigmoid(Identity_1)"] = _sigmoid(np.clip(outs["Identity_1"], -100, 100))  # score_clipping_thresh
    else:
        outs["x,y of landmarks 0-32 (px)"] = outs["Identity"].reshape(39, 5)[:33, :2]
        outs["segmentation = sigmoid(Identity_2)"] = _sigmoid(outs["Identity_2"])
    return outs


class Diff:
    """Running max |a - b| per output, split by input kind."""

    def __init__(self):
        self.max = {}   # (output, kind) -> max abs diff
        self.ref = {}   # output -> max |reference value|
        self.shape = {}  # output -> shape

    def add(self, kind, ref, got):
        for n in ref:
            d = float(np.max(np.abs(ref[n].astype(np.float64) - got[n].astype(np.float64))))
            self.max[(n, kind)] = max(self.max.get((n, kind), 0.0), d)
            self.ref[n] = max(self.ref.get(n, 0.0), float(np.max(np.abs(ref[n]))))
            self.shape[n] = "x".join(map(str, ref[n].shape))

    def worst(self, n):
        return max(v for (m, _), v in self.max.items() if m == n)


# ---------------------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--package", required=True, help="unpacked npm package folder (…/package)")
    ap.add_argument("--work", required=True, help="scratch folder")
    ap.add_argument("--out", required=True, help="where the .onnx files and SHA256SUMS go")
    ap.add_argument("--videos", help="folder with *.mp4 clips to take real test frames from")
    ap.add_argument("--reference", help="folder with another conversion (+ SHA256SUMS) to compare against")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    say(f"versions: tensorflow {tf.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}, "
        f"numpy {np.__version__}, opencv {cv2.__version__}")

    say(f"[1/6] source models from npm {NPM_PACKAGE}")
    tflite = extract_sources(args.package, args.work)

    say("[2/6] densify the detector's sparse weights")
    dense_detector = os.path.join(args.work, DETECTOR + "_dense.tflite")
    densify(tflite[DETECTOR], dense_detector)

    say(f"[3/6] tf2onnx (opset {ONNX_OPSET}) and lossless fp16 storage")
    final = {}
    for name in SOURCES:
        fp32_path = os.path.join(args.work, name + ".fp32.onnx")
        tf2onnx_convert(dense_detector if name == DETECTOR else tflite[name], fp32_path)
        fp32 = onnx.load(fp32_path)
        canonicalize_names(fp32)
        fp32.graph.doc_string = provenance(name)   # tf2onnx puts the (temporary) input path here
        onnx.save(fp32, fp32_path)
        model = onnx.load(fp32_path)
        converted, inexact, small = store_fp16(model)
        onnx.checker.check_model(model, full_check=True)
        path = os.path.join(args.work, name + ".onnx")
        onnx.save(model, path)
        n = check_fp16_lossless(fp32, onnx.load(path))
        say(f"  {name}: {converted} initializers -> fp16 + Cast, {inexact} kept fp32 (not exact in fp16), "
            f"{small} kept fp32 (< {FP16_MIN_ELEMENTS} elements); all {n} weights bit-identical after "
            f"the Cast; {os.path.getsize(fp32_path) / 1e6:.1f} MB -> {os.path.getsize(path) / 1e6:.1f} MB")
        final[name] = path

    say("[4/6] test inputs")
    rng = np.random.default_rng(RANDOM_SEED)
    det_inputs, lm_inputs = [], []
    frames = read_frames(args.videos) if args.videos and os.path.isdir(args.videos) else []
    if not frames:
        say(f"  WARNING: no video frames (looked in {args.videos}); random images only")
    det_tfl = TFLiteModel(tflite[DETECTOR])          # the original, sparse detector
    from_detection = 0
    for label, rgb in frames:
        x, letterbox = letterbox_detector_input(rgb)
        det_inputs.append(("real", label, x))
        crop, found = landmark_crop(rgb, det_tfl(x), letterbox)
        lm_inputs.append(("real", label, crop))
        from_detection += found
    for i in range(RANDOM_IMAGES):
        det_inputs.append(("random", f"noise#{i}",
                           rng.uniform(-1, 1, (1, DETECTOR_SIZE, DETECTOR_SIZE, 3)).astype(np.float32)))
        lm_inputs.append(("random", f"noise#{i}",
                          rng.uniform(0, 1, (1, LANDMARK_SIZE, LANDMARK_SIZE, 3)).astype(np.float32)))
    n_videos = len({label.split("#")[0] for label, _ in frames})
    say(f"  {len(frames)} real frames ({FRAMES_PER_VIDEO} from each of {n_videos} clips in {args.videos}); "
        f"landmark crops: {from_detection} from the detector's best detection, {len(frames) - from_detection} "
        f"centre crops (no detection >= {DETECTION_THRESHOLD}); plus {RANDOM_IMAGES} seeded noise images per size")

    say("[5/6] outputs: TFLite interpreter (original models) vs ONNX Runtime (converted models)")
    dense_tfl = TFLiteModel(dense_detector)
    failures, rows, ref_report = [], [], []
    for name in SOURCES:
        inputs = det_inputs if name == DETECTOR else lm_inputs
        tolerances = DETECTOR_TOLERANCES if name == DETECTOR else LANDMARK_TOLERANCES
        ref_rt = det_tfl if name == DETECTOR else TFLiteModel(tflite[name])
        onnx_rt, fp32_rt = OnnxModel(final[name]), OnnxModel(os.path.join(args.work, name + ".fp32.onnx"))
        ref_path = os.path.join(args.reference, name + ".onnx") if args.reference else None
        other_rt = OnnxModel(ref_path) if ref_path and os.path.exists(ref_path) else None
        diff, fp16_vs_fp32, vs_ref = Diff(), Diff(), Diff()
        persons = 0   # real inputs on which the TFLite original sees a person (how "real-looking" they are)
        for kind, _, x in inputs:
            ref, got = ref_rt(x), onnx_rt(x)
            if kind == "real":
                persons += bool(np.max(ref["Identity_1"]) > 0) if name == DETECTOR else bool(ref["Identity_1"].item() > 0.5)
            if name == DETECTOR:   # the densified TFLite must match the original exactly
                dd = dense_tfl(x)
                if any(not np.array_equal(ref[k], dd[k]) for k in ref):
                    failures.append("densified detector differs from the original in the TFLite interpreter")
            diff.add(kind, derived(name, ref), derived(name, got))
            fp16_vs_fp32.add(kind, got, fp32_rt(x))
            if other_rt:
                vs_ref.add(kind, got, other_rt(x))
        for out, tol in tolerances.items():
            real, rand = diff.max.get((out, "real")), diff.max.get((out, "random"))
            ok = tol is None or diff.worst(out) <= tol
            rows.append((name, out, diff.shape[out], diff.ref[out], real, rand, tol, ok))
            if not ok:
                failures.append(f"{name} {out}: max |diff| {diff.worst(out):.3g} > tolerance {tol:g}")
        worst16 = max(fp16_vs_fp32.max.values())
        if worst16 != 0.0:
            failures.append(f"{name}: fp16-stored ONNX differs from the fp32 ONNX by {worst16:g}")
        ref_report.append((name, ref_path, max(vs_ref.max.values()) if other_rt else None))
        if name == DETECTOR:
            say("  densified detector (TFLite) vs original (TFLite): identical on all inputs"
                if not any("densified" in f for f in failures) else "  densified detector DIFFERS")
        say(f"  {name}: TFLite sees a person in {persons} of {len(frames)} real inputs "
            f"({'a detection score > 0.5' if name == DETECTOR else 'pose flag > 0.5'}); "
            f"fp16-stored ONNX vs fp32 ONNX (both ONNX Runtime): max |diff| {worst16:g}")

    def fmt(v):
        return "—" if v is None else f"{v:.2g}"
    say("")
    say("| model | output | shape | max abs value | max abs diff, real frames | max abs diff, noise | tolerance | |")
    say("|---|---|---|---|---|---|---|---|")
    for name, out, shape, mag, real, rand, tol, ok in rows:
        verdict = "not checked" if tol is None else "ok" if ok else "FAIL"
        say(f"| {name} | {out} | {shape} | {mag:.3g} | {fmt(real)} | {fmt(rand)} | {fmt(tol)} | {verdict} |")
    say("")

    if failures:
        for f in failures:
            say("FAIL:", f)
        sys.exit(f"FAIL: {len(failures)} check(s) failed; nothing written to {args.out}")

    say("[6/6] write outputs and compare with the reference conversion")
    os.makedirs(args.out, exist_ok=True)
    sums = []
    for name, path in final.items():
        dst = os.path.join(args.out, name + ".onnx")
        data = open(path, "rb").read()
        digest = sha256(data)
        state = "new" if not os.path.exists(dst) else ("unchanged" if sha256_file(dst) == digest else "updated")
        if state != "unchanged":
            tmp = dst + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, dst)
        sums.append(f"{digest}  {name}.onnx")
        say(f"  {dst}: {len(data)} bytes, sha256 {digest} ({state})")
    sums.sort(key=lambda line: line.split("  ", 1)[1])
    with open(os.path.join(args.out, "SHA256SUMS"), "w") as f:
        f.write("\n".join(sums) + "\n")
    if args.reference and os.path.isdir(args.reference):
        for name, ref_path, numeric in ref_report:
            if numeric is None:
                say(f"  reference {name}: not present in {args.reference}")
                continue
            if sha256_file(ref_path) == sha256_file(final[name]):
                say(f"  reference {name}: bitwise identical (same sha256)")
                continue
            same_graph = weights_and_ops(ref_path) == weights_and_ops(final[name])
            say(f"  reference {name}: different bytes; "
                + ("same ops and bit-identical weights (names/order differ); " if same_graph else
                   "DIFFERENT ops or weights; ")
                + ("identical outputs" if numeric == 0 else f"outputs differ by up to {numeric:g}")
                + f" in ONNX Runtime on all {len(det_inputs)} test inputs")
    else:
        say(f"  no reference conversion ({args.reference or 'none given'}); skipped")
    say("all checks passed")


if __name__ == "__main__":
    main()
