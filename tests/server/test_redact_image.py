"""RedactImage against a real server: real photos, real detector, real kernels."""

from __future__ import annotations

from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest

from redactor.clients.client import RedactorClient
from redactor.config import Config
from redactor.pipeline.masking import apply_masks
from redactor.server.app import RunningServer
from redactor.types import Frame, Label, MaskReason, Masks
from redactor.v1 import redactor_pb2 as pb


def _png(img: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".png", img)[1].tobytes())


def _masks_from(resp: pb.RedactImageResponse, ellipse: bool) -> Masks:
    boxes = np.array(
        [[m.box.x0, m.box.y0, m.box.x1, m.box.y1] for m in resp.masks], np.float32
    ).reshape(-1, 4)
    return Masks(
        boxes,
        np.array([m.label for m in resp.masks], np.int8),
        np.array([m.reason for m in resp.masks], np.int8),
        ellipse=ellipse,
    )


def _faces_image(shared_data: Path) -> tuple[Path, np.ndarray]:
    """The image of faces/ with the most labelled faces among the first few (a crowded, real scene)."""
    import csv

    rows = list(csv.DictReader((shared_data / "faces" / "faces.csv").open()))
    counts: dict[str, list[list[float]]] = {}
    for r in rows:
        counts.setdefault(r["image"], []).append(
            [float(r[k]) for k in ("xmin", "ymin", "xmax", "ymax")]
        )
    best = max(list(counts)[:40], key=lambda k: len(counts[k]))
    return shared_data / "faces" / best, np.array(counts[best], np.float32)


def test_faces_masked_and_far_pixels_unchanged(server: RunningServer, shared_data: Path) -> None:
    path, _labels = _faces_image(shared_data)
    img = cv2.imread(str(path))
    assert img is not None
    with RedactorClient(server.address) as client:
        resp = client.redact_image(pb.Image(format=pb.PIXEL_FORMAT_PNG, data=_png(img)))
    assert resp.status == pb.FRAME_STATUS_REDACTED
    assert len(resp.detections) > 0, "the detector found no face on a crowded real photo"
    out = cv2.imdecode(np.frombuffer(resp.image.data, np.uint8), cv2.IMREAD_COLOR)
    assert out.shape == img.shape

    # Every detected face is covered by a mask, and the masked pixels are exactly
    # what the policy's kernel makes of them (PNG is lossless).
    policy = Config().policy.policies[Config().policy.default_policy]
    masks = _masks_from(resp, policy.ellipse)
    for d in resp.detections:
        if d.label == Label.FACE:
            covered = any(
                m.box.x0 <= d.box.x0
                and m.box.y0 <= d.box.y0
                and m.box.x1 >= d.box.x1
                and m.box.y1 >= d.box.y1
                for m in resp.masks
            )
            assert covered, f"face {d.box} has no mask"
    expected = Frame.from_bgr(img.copy())
    apply_masks(expected, masks, policy)
    assert np.array_equal(out, expected.planes[0])

    # Pixels far (> 8 px) from every mask are the original pixels.
    near = np.zeros(img.shape[:2], np.uint8)
    for m in resp.masks:
        x0, y0 = max(int(m.box.x0) - 8, 0), max(int(m.box.y0) - 8, 0)
        near[y0 : int(np.ceil(m.box.y1)) + 8, x0 : int(np.ceil(m.box.x1)) + 8] = 1
    far = near == 0
    assert far.mean() > 0.3
    assert np.array_equal(out[far], img[far])
    # ... and the masked regions did change.
    inside = near == 1
    assert not np.array_equal(out[inside], img[inside])


def test_raw_bgr_round_trip_keeps_size(server: RunningServer, shared_data: Path) -> None:
    path, _ = _faces_image(shared_data)
    img = cv2.imread(str(path))
    h, w = img.shape[:2]
    with RedactorClient(server.address) as client:
        resp = client.redact_image(
            pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=w, height=h, data=img.tobytes())
        )
    assert (resp.image.width, resp.image.height, resp.image.format) == (w, h, pb.PIXEL_FORMAT_BGR24)
    assert len(resp.image.data) == w * h * 3
    assert all(m.reason == MaskReason.DETECTED for m in resp.masks)


def test_unknown_policy_is_invalid_argument(server: RunningServer) -> None:
    img = np.zeros((32, 32, 3), np.uint8)
    with RedactorClient(server.address) as client, pytest.raises(grpc.RpcError) as e:
        client.redact_image(pb.Image(format=pb.PIXEL_FORMAT_PNG, data=_png(img)), policy="nope")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "nope" in e.value.details() and "policy must be one of" in e.value.details()
