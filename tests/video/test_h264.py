"""The live H.264 decoder hands out frames that may be masked in place."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.types import Frame
from redactor.video.h264 import H264Decoder, H264Encoder


def _gop(w: int, h: int, n: int) -> list[bytes]:
    """n frames of one group of pictures (one I-frame, then P-frames) of a moving gradient."""
    enc = H264Encoder(w, h, 25.0, 23, "superfast", 1)
    out = []
    for i in range(n):
        y = ((np.arange(w)[None, :] + np.arange(h)[:, None] + 3 * i) % 256).astype(np.uint8)
        u = np.full((h // 2, w // 2), 128, np.uint8)
        out.append(enc.encode(Frame("i420", (y, u, u.copy()), i, i * 40_000)))
    return out


# 768 and 1920 are multiples of the decoder's line alignment: there a plane's rows have
# no padding, and a view of the decoder's buffer is already contiguous
@pytest.mark.parametrize("size", [(768, 576), (1920, 1080), (330, 240)])
def test_masking_a_decoded_frame_in_place_leaves_the_next_frames_intact(
    size: tuple[int, int],
) -> None:
    w, h = size
    aus = _gop(w, h, 4)
    ref_dec = H264Decoder()
    reference = [f for i, au in enumerate(aus) for f in ref_dec.decode(au, i, i)]
    dec = H264Decoder()
    got = []
    for i, au in enumerate(aus):
        for f in dec.decode(au, i, i):
            got.append([p.copy() for p in f.planes])
            for p in f.planes:
                p[:] = 0  # what a fail-closed frame does to its pixels
    assert len(got) == len(reference) == 4
    for i in range(1, 4):
        for g, r in zip(got[i], reference[i].planes, strict=True):
            np.testing.assert_array_equal(
                g, r, err_msg=f"frame {i} changed by masking an earlier frame"
            )
