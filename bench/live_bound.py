"""What a live stream's masks can reach at best: the thorough reference against itself.

bench.live counts a leak when a reference box (the thorough profile on that very
frame) is covered less than 80% by the live masks, and compares the masked share
with the oracle (the same frame's reference boxes grown by the policy's
enlargement). A live path cannot mask a frame from the reference of that frame: its
detections come from earlier frames. Here the reference itself plays a perfect
detector that is `lag` frames late and remembers its last `memory` frames, its boxes
grown `grow` about their centres. Its leak rate and masked share bound what any
live design with that lag and that growth reaches against this reference: the
objects move between frames, and the reference finds a small face on some frames
and not on the next ones.

    python -m bench.live_bound --clips opencv_vtest.avi,opencv_vtest.avi@1920x1080@25fps

The reference comes from bench.live's cache (computed there if absent: minutes at
1080p). Tests: tests/bench/test_live_bound.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import numpy as np

from bench import live as bl
from bench import live_metrics as lm
from redactor.boxes import enlarge
from redactor.data import data_dir

F32 = lm.F32


@dataclass(frozen=True)
class Bound:
    lag: int  # frames between the frame masked and the newest reference frame used
    memory: int  # reference frames whose boxes are masked together
    grow: float  # their boxes grown this much about their centres
    objects: int
    leaks: int
    leak_rate: float
    masked_share: float  # mean share of a frame under those boxes
    oracle_share: float  # the same frame's reference grown by the policy's enlargement
    masked_over_oracle: float | None


def lagged_masks(reference: Sequence[F32], lag: int, memory: int, grow: float) -> list[F32]:
    """Per frame t: the reference boxes of frames t - lag - memory + 1 .. t - lag, grown
    `grow` about their centres (none before the stream's first frame)."""
    if lag < 0 or memory < 1:
        raise ValueError(f"lag >= 0 and memory >= 1 expected, got lag {lag}, memory {memory}")
    out = []
    for t in range(len(reference)):
        first, last = max(0, t - lag - memory + 1), t - lag
        grown = [enlarge(lm.as_boxes(reference[j]), grow) for j in range(first, last + 1)]
        out.append(np.concatenate(grown) if grown else lm.as_boxes([]))
    return out


def bound(
    reference: Sequence[F32],
    width: int,
    height: int,
    lag: int,
    memory: int,
    grow: float,
    enlargement: float,
) -> Bound:
    """Leaks and masked share of the reference masking its own later frames, scored by
    bench.live's own functions."""
    masks = lagged_masks(reference, lag, memory, grow)
    objects, leaks = bl.leaks(list(reference), masks, width, height)
    masked = lm.mean_share(dict(enumerate(masks)), width, height)
    oracle = lm.oracle_share(reference, width, height, enlargement)
    return Bound(
        lag,
        memory,
        grow,
        objects,
        leaks,
        leaks / objects if objects else 0.0,
        masked,
        oracle,
        masked / oracle if oracle else None,
    )


def table(clip: str, size: str, rows: Sequence[Bound]) -> str:
    lines = [
        f"{clip} {size}: the thorough reference masking later frames",
        "",
        "| frames late | frames remembered | boxes grown | leaks | masked | masked / oracle |",
        "|---|---|---|---|---|---|",
    ]
    for b in rows:
        ratio = "-" if b.masked_over_oracle is None else f"{b.masked_over_oracle:.1f}x"
        lines.append(
            f"| {b.lag} | {b.memory} | {b.grow:g} | {b.leak_rate:.1%} ({b.leaks}/{b.objects}) "
            f"| {b.masked_share:.2%} | {ratio} |"
        )
    return "\n".join(lines)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.live_bound", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--clips",
        default="opencv_vtest.avi",
        help="comma-separated runs as bench.live names them, CLIP, CLIP@WxH or CLIP@WxH@FPSfps "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--frames", type=int, default=200, help="frames at the clip's own rate (default: 200)"
    )
    p.add_argument("--lags", default="1,2", help="frames late (default: %(default)s)")
    p.add_argument("--memory", default="1,5", help="frames remembered (default: %(default)s)")
    p.add_argument("--grow", default="1.3,2,3", help="box growths (default: %(default)s)")
    p.add_argument(
        "--enlarge",
        type=float,
        default=1.3,
        help="the policy's enlargement, for the oracle (default: 1.3)",
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    root = data_dir()
    if root is None:
        print("bench.live_bound: shared data not found (set REDACTOR_DATA)", file=sys.stderr)
        return 2
    report: dict[str, list[dict[str, object]]] = {}
    for name in args.clips.split(","):
        clip, _, rest = name.partition("@")
        size_text, _, rate_text = rest.partition("@")
        path = root / "videos" / clip
        if not path.exists():
            print(f"bench.live_bound: no clip {path}", file=sys.stderr)
            return 2
        size = tuple(int(v) for v in size_text.split("x")) if size_text else None
        rate = float(rate_text.removesuffix("fps")) if rate_text else None
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            w, h = size or (s.codec_context.width, s.codec_context.height)
        frames = bl.same_duration(path, args.frames, rate)
        ref = bl.reference(str(path), (w, h) if size else None, frames, rate=rate).boxes
        rows = [
            bound(ref, w, h, lag, memory, grow, args.enlarge)
            for lag in _ints(args.lags)
            for memory in _ints(args.memory)
            for grow in _floats(args.grow)
        ]
        print(table(name, f"{w}x{h}", rows) + "\n")
        report[name] = [asdict(r) for r in rows]
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
