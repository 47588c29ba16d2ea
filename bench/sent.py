"""The frames a camera's relay sends, decoded as the server decodes them: what bench.live's
reference, its HOG people and its motion replay are computed on, frame for frame with the
relay's `seq`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import av
import numpy as np
import numpy.typing as npt

from redactor.clients.relay import camera_access_units


def sent_frames(
    source: str, size: tuple[int, int] | None, frames: int, rate: float | None = None
) -> Iterator[npt.NDArray[np.uint8]]:
    """The clip's first `frames` as redactor-relay encodes them (at `size`, as a camera of
    frame rate `rate`), decoded to BGR, in order."""
    dec = av.CodecContext.create("h264", "r")
    _, aus = camera_access_units(source, size, frames, rate)
    for _seq, _ts, au in aus:
        for vf in dec.decode(av.Packet(au)):
            yield cast(npt.NDArray[np.uint8], vf.to_ndarray(format="bgr24"))
