"""The benchmark's report: one JSON with every figure, a Markdown summary, PNG plots.

Everything here reads the report dict that bench/__main__.py fills; nothing is
measured here. A section that did not run carries {"skipped": reason} or
{"error": message}, and the summary says so instead of leaving it out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from bench.capacity import from_report as capacity_from_report
from bench.eval_score import COVERED, SIZE_BUCKETS
from bench.live_metrics import NO_PICTURE, SOURCES, of_objects

SECTIONS = ("machine", "kernels", "detection", "live", "streams", "export", "peers")
PLOTS = {
    "latency": "latency_by_streams.png",
    "fps": "fps_by_streams.png",
    "recall": "recall_by_size.png",
}
MIB = 1 << 20


# ------------------------------------------------------------------ helpers


def not_run(section: Any) -> str | None:
    """Why a section has no figures, or None when it has them."""
    if not isinstance(section, dict):
        return "missing"
    if "skipped" in section:
        return f"skipped: {section['skipped']}"
    if "error" in section:
        return f"failed: {section['error']}"
    return None


def _f(v: Any, fmt: str = ".1f", none: str = "-") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return none
    return format(v, fmt)


def _pct(v: Any, digits: int = 1) -> str:
    return (
        "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.{digits}f}%"
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(r) + " |" for r in rows
    ]


def _recall(set_result: dict[str, Any] | None) -> float | None:
    if not set_result or "recall" not in set_result:
        return None
    return float(set_result["recall"]["all"]["recall"])


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# ------------------------------------------------------------------ figures derived from the run


def comparisons(report: dict[str, Any]) -> dict[str, Any]:
    """redactor beside each peer: fps on the same clip and recall on the same images, as ratios."""
    det = report.get("detection", {})
    peers = report.get("peers", {})
    ours_fps = (peers.get("redactor_clip") or {}).get("fps")
    rows: list[dict[str, Any]] = []

    def peer_row(
        name: str, result: dict[str, Any] | None, clip: dict[str, Any] | None
    ) -> dict[str, Any]:
        r = result or {}
        return {
            "system": name,
            "fps": (clip or {}).get("fps"),
            "faces_recall": _recall(r.get("faces")),
            "plates_recall": _recall(r.get("plates")),
            "faces_masked_share": (r.get("faces") or {}).get("masked_share"),
            "plates_masked_share": (r.get("plates") or {}).get("masked_share"),
        }

    for profile in ("realtime", "thorough"):
        d = det.get(profile)
        if isinstance(d, dict) and not not_run(d):
            row = peer_row(f"redactor `{profile}`", d, None)
            row["fps"] = ours_fps if profile == "realtime" else None
            rows.append(row)
    deface = peers.get("deface") or {}
    if not not_run(deface):
        rows.append(
            peer_row(
                f"deface {deface.get('version', '')} (defaults)",
                {"faces": deface.get("faces")},
                deface.get("clip"),
            )
        )
    haar = peers.get("opencv_haar") or {}
    if not not_run(haar):
        rows.append(peer_row("OpenCV Haar + GaussianBlur", haar, haar.get("clip")))
    ours = rows[0] if rows and rows[0]["system"] == "redactor `realtime`" else None
    ratios: dict[str, dict[str, float | None]] = {}
    if ours:
        for row in rows[1:]:
            if row["system"].startswith("redactor"):
                continue
            ratios[row["system"]] = {
                "fps_redactor_over_peer": _ratio(ours["fps"], row["fps"]),
                "faces_recall_redactor_over_peer": _ratio(
                    ours["faces_recall"], row["faces_recall"]
                ),
                "plates_recall_redactor_over_peer": _ratio(
                    ours["plates_recall"], row["plates_recall"]
                ),
            }
    return {"rows": rows, "ratios_vs_redactor_realtime": ratios}


def serving(report: dict[str, Any]) -> dict[str, Any]:
    """Per frame size: the most concurrent streams served, with the delay and load at that count."""
    out: dict[str, Any] = {}
    for size, sweep in (report.get("streams") or {}).items():
        if not isinstance(sweep, dict) or not_run(sweep):
            continue
        n = sweep["max_streams_served"]
        at = next((lv for lv in sweep["levels"] if lv["streams"] == n), None)
        out[size] = {
            "max_streams_served": n,
            "tested": [lv["streams"] for lv in sweep["levels"]],
            "fps_source": sweep["fps_source"],
            "p99_ms": at["p99_ms"] if at else None,
            "server_cpu_share": at["server_cpu_share"] if at else None,
            "server_peak_rss_bytes": at["server_peak_rss_bytes"] if at else None,
        }
    return out


def leak_rate(report: dict[str, Any]) -> dict[str, Any] | None:
    live = report.get("live") or {}
    clips = [c for c in live.get("clips", []) if isinstance(c, dict) and "leaks" in c]
    if not clips:
        return None
    objects = sum(c["reference_objects"] for c in clips)
    leaks = sum(c["leaks"] for c in clips)
    return {
        "clips": len(clips),
        "reference_objects": objects,
        "leaks": leaks,
        "leak_rate": leaks / objects if objects else 0.0,
    }


# ------------------------------------------------------------------ plots


def plots(report: dict[str, Any], out_dir: Path) -> dict[str, str]:
    """PNG plots (matplotlib, Agg); name -> file name under out_dir. Missing data: no plot."""
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}
    sweeps = {
        k: v
        for k, v in (report.get("streams") or {}).items()
        if isinstance(v, dict) and not not_run(v) and v.get("levels")
    }
    if sweeps:
        fig, axes = plt.subplots(1, len(sweeps), figsize=(5.5 * len(sweeps), 4.2), squeeze=False)
        for ax, (size, sweep) in zip(axes[0], sweeps.items(), strict=True):
            levels = sweep["levels"]
            data = [lv["latencies_ms"] or [float("nan")] for lv in levels]
            ax.boxplot(data, whis=(1, 99), showfliers=True, flierprops={"markersize": 2})
            ax.set_xticks(range(1, len(levels) + 1), [str(lv["streams"]) for lv in levels])
            ax.axhline(
                sweep["latency_budget_ms"],
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"latency budget {sweep['latency_budget_ms']:.0f} ms",
            )
            for i, lv in enumerate(levels, start=1):
                ax.plot(
                    i,
                    lv["p99_ms"],
                    marker="v",
                    color="tab:orange",
                    linestyle="none",
                    label="p99" if i == 1 else None,
                )
            ax.set_ylim(bottom=0)
            ax.set_xlabel("concurrent streams")
            ax.set_ylabel("latency per frame, ms")
            ax.set_title(f"{size}, {sweep['fps_source']:.0f} fps per camera")
            ax.legend(fontsize=8)
        fig.suptitle("Live latency, send to receive (box: p25-p75, whiskers: p1-p99)")
        fig.tight_layout()
        fig.savefig(out_dir / PLOTS["latency"], dpi=110)
        plt.close(fig)
        made["latency"] = PLOTS["latency"]

        fig, ax = plt.subplots(figsize=(6, 4.2))
        for size, sweep in sweeps.items():
            n = [lv["streams"] for lv in sweep["levels"]]
            line = ax.plot(
                n,
                [lv["fps_per_stream_mean"] for lv in sweep["levels"]],
                marker="o",
                label=f"{size} mean per stream",
            )
            ax.plot(
                n,
                [lv["fps_per_stream_min"] for lv in sweep["levels"]],
                marker="x",
                linestyle=":",
                color=line[0].get_color(),
                label=f"{size} slowest stream",
            )
        src = max(s["fps_source"] for s in sweeps.values())
        ax.axhline(src, color="grey", linestyle="--", linewidth=1, label=f"source {src:.0f} fps")
        ax.set_xscale("log", base=2)
        counts = sorted({lv["streams"] for s in sweeps.values() for lv in s["levels"]})
        ax.set_xticks(counts, [str(c) for c in counts])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("concurrent streams")
        ax.set_ylabel("frames back per second, per stream")
        ax.set_title("Live throughput against stream count")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out_dir / PLOTS["fps"], dpi=110)
        plt.close(fig)
        made["fps"] = PLOTS["fps"]

    systems = _recall_series(report)
    if systems:
        kinds = [k for k in ("faces", "plates") if any(k in s for s in systems.values())]
        fig, axes = plt.subplots(1, len(kinds), figsize=(6.5 * len(kinds), 4.2), squeeze=False)
        buckets = [b[0] for b in SIZE_BUCKETS] + ["all"]
        for ax, kind in zip(axes[0], kinds, strict=True):
            named = [(name, s[kind]) for name, s in systems.items() if kind in s]
            width = 0.8 / len(named)
            for j, (name, rec) in enumerate(named):
                xs = [i + (j - (len(named) - 1) / 2) * width for i in range(len(buckets))]
                vals = [rec[b]["recall"] if rec[b]["n"] else float("nan") for b in buckets]
                ax.bar(xs, vals, width, label=name)
            ns = [next(iter(named))[1][b]["n"] for b in buckets]
            ax.set_xticks(
                range(len(buckets)),
                [
                    f"{b} px\n(n={n})" if b != "all" else f"all\n(n={n})"
                    for b, n in zip(buckets, ns, strict=True)
                ],
            )
            ax.set_ylim(0, 1.2)
            ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
            ax.set_ylabel(f"recall (box >= {COVERED:.0%} masked)")
            ax.set_title(f"{kind}: recall by longest side")
            ax.legend(fontsize=8, loc="upper center", ncol=len(named), frameon=False)
        fig.tight_layout()
        fig.savefig(out_dir / PLOTS["recall"], dpi=110)
        plt.close(fig)
        made["recall"] = PLOTS["recall"]
    return made


def _recall_series(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """system -> {faces|plates: recall table} for every system that has one."""
    out: dict[str, dict[str, Any]] = {}
    for profile, d in (report.get("detection") or {}).items():
        if isinstance(d, dict) and not not_run(d):
            out[f"redactor {profile}"] = {k: d[k]["recall"] for k in ("faces", "plates") if k in d}
    peers = report.get("peers") or {}
    deface = peers.get("deface") or {}
    if not not_run(deface) and "faces" in deface:
        out["deface"] = {"faces": deface["faces"]["recall"]}
    haar = peers.get("opencv_haar") or {}
    if not not_run(haar):
        out["OpenCV Haar"] = {k: haar[k]["recall"] for k in ("faces", "plates") if k in haar}
    return {k: v for k, v in out.items() if v}


# ------------------------------------------------------------------ Markdown


def markdown(report: dict[str, Any], plot_files: dict[str, str]) -> str:
    m = report["machine"]
    mem = m.get("memory_bytes")
    lines = [
        f"# redactor benchmark, {report['started']} ({report['mode']} run)",
        "",
        f"`{report['command']}` took {report['seconds'] / 60:.1f} min "
        f"(expected {report['expected_seconds'] / 60:.1f} min). "
        f"Machine: {m['cpu_model']}, {m['cores_usable']} usable cores, "
        f"{_f(mem / (1 << 30) if mem else None, '.0f')} GiB; 1-min load {_f(m.get('load_1min'))} at the start, "
        f"{_f(report.get('load_1min_end'))} at the end"
        + (
            " (shared with other work: figures are lower bounds)"
            if (m.get("load_1min") or 0) > 0.5 * m["cores_usable"]
            else ""
        )
        + ".",
        "",
        "## Answers",
        "",
    ]
    lines += _answers(report)
    lines += ["", "## redactor beside its peers (same run, same clip, same images)", ""]
    lines += _peers(report)
    lines += ["", "## Live streams: how many cameras", ""]
    lines += _streams(report)
    lines += ["", "## Live streams: single clips, leaks against the thorough reference", ""]
    lines += _live(report)
    lines += ["", "## Detection quality and speed (bench.eval)", ""]
    lines += _detection(report)
    lines += ["", "## Exports (bench.export)", ""]
    lines += _export(report)
    lines += ["", "## Masking kernels (bench.kernels)", ""]
    lines += _kernels(report)
    lines += ["", "## Plots", ""]
    titles = {
        "latency": "Latency distribution per stream count",
        "fps": "fps against stream count",
        "recall": "Recall by object size, per profile and peer",
    }
    if plot_files:
        for key, name in plot_files.items():
            lines += [f"![{titles[key]}](plots/{name})", ""]
    else:
        lines.append(
            f"No plots: {report.get('plots_error') or 'the sections they draw from did not run'}."
        )
    lines += ["", "## Machine and versions", ""]
    v = m["versions"]
    lines.append(
        f"Python {m['python']}; "
        + ", ".join(f"{k} {v[k] or 'absent'}" for k in v)
        + f"; {m['os']}; commit {m.get('commit') or 'unknown'}."
    )
    env = (report.get("peers") or {}).get("environment") or {}
    if env.get("packages"):
        keep = ("deface", "onnxruntime", "onnx", "opencv-python", "numpy", "imageio-ffmpeg")
        lines.append(
            "Peers' environment (`bench/.peers/venv`): "
            + ", ".join(f"{k} {env['packages'][k]}" for k in keep if k in env["packages"])
            + "."
        )
    lines += ["", "## Steps", ""]
    lines += _table(
        ["step", "seconds", "status"],
        [[s["title"], f"{s['seconds']:.0f}", s["status"]] for s in report.get("steps", [])],
    )
    return "\n".join(lines) + "\n"


def _answers(report: dict[str, Any]) -> list[str]:
    out: list[str] = []
    figure = capacity_from_report(report)
    if figure is not None:
        out.append(
            f"- **capacity**: `limits.capacity_mpx_s = {figure['capacity_mpx_s']}`, "
            f"`limits.stream_overhead_mpx_s = {figure['stream_overhead_mpx_s']}` (megapixels per "
            "second of live video one server redacts here, fitted to the stream counts below; "
            "docs/scaling.md turns it into servers for a city)."
        )
    serve = serving(report)
    for size, s in serve.items():
        n = s["max_streams_served"]
        if n:
            out.append(
                f"- **{size}**: this box serves **{n}** concurrent camera stream(s) at {s['fps_source']:.0f} fps "
                f"(tested {', '.join(map(str, s['tested']))}); at {n}: p99 latency {_f(s['p99_ms'], '.0f')} ms, "
                f"server CPU {_pct(s['server_cpu_share'], 0)} of the machine, "
                f"peak memory {_f((s['server_peak_rss_bytes'] or 0) / MIB, '.0f')} MiB."
            )
        else:
            out.append(
                f"- **{size}**: not even 1 stream served within the rules (tested "
                f"{', '.join(map(str, s['tested']))}); see the table below."
            )
    if not serve:
        out.append(f"- Concurrent streams: {not_run(report.get('streams')) or 'no figures'}.")
    leaks = leak_rate(report)
    if leaks:
        out.append(
            f"- Live privacy: {leaks['leaks']} of {leaks['reference_objects']} reference faces/plates "
            f"(thorough profile, frame by frame) left under {COVERED:.0%} masked on live frames: "
            f"leak rate **{_pct(leaks['leak_rate'], 2)}** over {leaks['clips']} clip(s)."
        )
    for profile, d in (report.get("detection") or {}).items():
        if isinstance(d, dict) and not not_run(d):
            parts = [
                f"{k} {_f(_recall(d.get(k)), '.3f')} ({_pct(d[k]['masked_share'])} of the image masked)"
                for k in ("faces", "plates")
                if k in d
            ]
            out.append(
                f"- Recall, profile `{profile}` on {d.get('faces', {}).get('images', 0)} face and "
                f"{d.get('plates', {}).get('images', 0)} plate images: " + "; ".join(parts) + "."
            )
    ex = report.get("export") or {}
    runs = [r for r in ex.get("runs") or [] if r["workers"] == 0]
    if runs:
        r = max(runs, key=lambda r: (r["size"] == "1080p", r["frames"]))
        leak = "" if r["leak_rate"] is None else f", leak rate {_pct(r['leak_rate'], 2)}"
        out.append(
            f"- Exports: **{r['x_realtime']:.2f}x real time** in process "
            f"({r['clip']} at {r['width']}x{r['height']}, {r['frames']} frames, plan "
            f"`{r['plan']}`{leak})."
        )
    comp = report.get("comparisons") or {}
    for peer, r in comp.get("ratios_vs_redactor_realtime", {}).items():
        out.append(
            f"- Against {peer}: redactor is {_f(r['fps_redactor_over_peer'], '.2f')}x its speed on the "
            f"same clip; face recall {_f(r['faces_recall_redactor_over_peer'], '.2f')}x"
            + (
                f", plate recall {_f(r['plates_recall_redactor_over_peer'], '.2f')}x"
                if r.get("plates_recall_redactor_over_peer") is not None
                else ""
            )
            + "."
        )
    return out


def _peers(report: dict[str, Any]) -> list[str]:
    peers = report.get("peers") or {}
    why = not_run(peers)
    if why:
        return [f"Peers {why}."]
    comp = report.get("comparisons") or {}
    rows = []
    for r in comp.get("rows", []):
        rows.append(
            [
                r["system"],
                _f(r["fps"]),
                _f(r["faces_recall"], ".3f"),
                _pct(r["faces_masked_share"]),
                _f(r["plates_recall"], ".3f"),
                _pct(r["plates_masked_share"]),
            ]
        )
    clip = peers.get("clip") or {}
    out = [
        f"Clip: `{clip.get('name', '?')}`, {clip.get('frames', '?')} frames, end to end (decode, detect, mask, "
        "encode). Images: the same labelled images bench.eval scores "
        f"({(peers.get('images') or {}).get('faces', '?')} face, {(peers.get('images') or {}).get('plates', '?')} "
        f"plate images); recall = boxes at least {COVERED:.0%} covered by the union of masks.",
        "",
    ]
    out += _table(
        [
            "system",
            "fps on the clip (after start-up)",
            "face recall",
            "face images masked",
            "plate recall",
            "plate images masked",
        ],
        rows,
    )
    ratios = comp.get("ratios_vs_redactor_realtime", {})
    if ratios:
        out += [
            "",
            "Ratios, redactor `realtime` over each peer (> 1: redactor is faster / finds more):",
            "",
        ]
        out += _table(
            ["peer", "fps", "face recall", "plate recall"],
            [
                [
                    k,
                    _f(v["fps_redactor_over_peer"], ".2f"),
                    _f(v["faces_recall_redactor_over_peer"], ".2f"),
                    _f(v["plates_recall_redactor_over_peer"], ".2f"),
                ]
                for k, v in ratios.items()
            ],
        )
    rc = peers.get("redactor_clip") or {}
    out += ["", "How each was run:", ""]
    out.append(
        "- redactor: `redactor-client redact` against `redactor serve` (separate process, loopback), "
        "recipient police-112 (default policy, `realtime` profile): "
        + (
            f"{_f(rc.get('fps'))} fps, {rc.get('frames', '?')} frames in {_f(rc.get('seconds'))} s."
            if not not_run(rc)
            else f"{not_run(rc)}."
        )
    )
    d = peers.get("deface") or {}
    if not_run(d):
        out.append(f"- deface: {not_run(d)}.")
    else:
        s = (d.get("faces") or {}).get("settings", {})
        check = d.get("check") or {}
        c = d.get("clip") or {}
        speed = (
            f"{_f(c.get('fps'))} fps after its start-up of {_f(c.get('startup_s'))} s (timed on the first "
            f"frame alone); {_f(c.get('fps_wall'))} fps counting it, {c.get('frames')} frames in "
            f"{_f(c.get('seconds'))} s"
            if c and not not_run(c)
            else f"clip {not_run(c) or 'not run'}"
        )
        out.append(
            f"- deface {d.get('version')}: its CLI `deface CLIP -o OUT.mp4` with default settings "
            f"(threshold {s.get('thresh')}, mask scale {s.get('mask_scale')}, {s.get('replacewith')}, "
            f"{'boxes' if s.get('boxes') else 'ellipses'}, backend {(d.get('faces') or {}).get('backend')}), "
            f"in `bench/.peers/venv`: {speed}. Masks on the images: "
            "its detector and its own mask drawing with the CLI's defaults (bench/deface_masks.py)"
            + (
                f"; checked against its CLI's real output on {check['images']} images: "
                f"{check['changed_pixels_outside_recovered_mask']} changed pixels outside the recovered masks."
                if check and not not_run(check)
                else "."
            )
        )
    h = peers.get("opencv_haar") or {}
    out.append(
        "- OpenCV baseline: "
        + (
            f"{not_run(h)}."
            if not_run(h)
            else "Haar cascades `haarcascade_frontalface_default.xml` and `haarcascade_russian_plate_number.xml` "
            "(detectMultiScale defaults: scale 1.1, 3 neighbours, on the equalised grey image), each box "
            "blurred with `cv2.GaussianBlur`, written with cv2.VideoWriter (MPEG-4); masks = the boxes."
        )
    )
    return out


def _streams(report: dict[str, Any]) -> list[str]:
    streams = report.get("streams") or {}
    why = not_run(streams)
    if why:
        return [f"Concurrent streams {why}."]
    out: list[str] = []
    for size, sweep in streams.items():
        why = not_run(sweep)
        if why:
            out += [f"{size}: {why}.", ""]
            continue
        out += [
            f"**{size}** (`{sweep['clip']}` scaled, {sweep['frames_per_stream']} frames per stream at "
            f"{sweep['fps_source']:.0f} fps, latency budget {sweep['latency_budget_ms']:.0f} ms); "
            f"served up to **{sweep['max_streams_served']}** stream(s):",
            "",
        ]
        rows = []
        for lv in sweep["levels"]:
            st = ", ".join(f"{k.lower()} {v}" for k, v in sorted(lv["statuses"].items()))
            rows.append(
                [
                    str(lv["streams"]),
                    _f(lv["fps_per_stream_min"]),
                    _f(lv["fps_per_stream_mean"]),
                    _f(lv["p50_ms"], ".0f"),
                    _f(lv["p95_ms"], ".0f"),
                    _f(lv["p99_ms"], ".0f"),
                    _pct(lv["redacted_share"]),
                    st,
                    _pct(lv["server_cpu_share"], 0),
                    _f((lv["server_peak_rss_bytes"] or 0) / MIB, ".0f"),
                    "not measured"
                    if lv.get("leak_rate") is None
                    else f"{_pct(lv['leak_rate'], 2)} ({lv['leaks']}/{lv['reference_objects']})",
                    "yes" if lv["served"] else "no",
                ]
            )
        out += _table(
            [
                "streams",
                "fps min",
                "fps mean",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "redacted",
                "statuses",
                "server CPU",
                "server peak MiB",
                "leak rate",
                "served",
            ],
            rows,
        )
        out.append("")
    out.append(
        "fps: frames back per second on each stream, first frame to last (the sustained rate). "
        "Served = every frame redacted (none fully masked or dropped for overload), p99 within the budget, "
        "every stream at >= 90% of the source rate. Server CPU: share of all usable cores, measured on the "
        "server process only (the cameras' encoding is done before the run); peak = its largest resident "
        "memory during the level. Leak rate: reference faces and plates (the `thorough` profile on the same "
        "frames) that the live masks of their frame cover less than 80%, over all streams (not measured in "
        "a quick run)."
    )
    return out


def _live(report: dict[str, Any]) -> list[str]:
    live = report.get("live") or {}
    why = not_run(live)
    if why:
        return [f"Live clips {why}."]
    rows = []
    for c in live.get("clips", []):
        if "error" in c:
            rows.append(
                [c.get("clip", "?"), c.get("size", ""), "failed: " + c["error"]] + [""] * 10
            )
            continue
        st = ", ".join(f"{k.lower()} {v}" for k, v in sorted(c["statuses"].items()))
        rows.append(
            [
                c["clip"],
                c["size"],
                _f(c["fps_source"], ".0f"),
                str(c["frames"]),
                _f(c["fps"]),
                _f(c["p50_ms"], ".0f"),
                _f(c["p95_ms"], ".0f"),
                _f(c["p99_ms"], ".0f"),
                str(c["reference_objects"]),
                str(c["leaks"]),
                _pct(c["leak_rate"], 2) + f" ({st})",
                "-" if c.get("detector_leak_rate") is None else _pct(c["detector_leak_rate"], 2),
                "-" if c.get("masked_share") is None else _pct(c["masked_share"], 1),
            ]
        )
    out = _table(
        [
            "clip",
            "size",
            "camera fps",
            "frames",
            "fps",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "reference objects",
            "leaks",
            "leak rate (statuses)",
            "detector alone",
            "masked share, all frames",
        ],
        rows,
    )
    out += [""] + _live_picture(live.get("clips", []))
    out += [""] + _live_leak_places(live.get("clips", []))
    out += [""] + _live_body_cost(live.get("clips", []))
    crops = [c["leak_crops"] for c in live.get("clips", []) if c.get("leak_crops")]
    if crops:
        out += [
            "",
            "What each leak is, as the frame was sent and as the relay answered it: "
            + ", ".join(f"`{c}`" for c in crops)
            + " (bench/leak_crops.py).",
        ]
    out.append("")
    out.append(
        "Reference: the `thorough` profile on every frame the relay sends; a leak is a reference face or "
        f"plate that the live masks of that frame cover less than {COVERED:.0%} (bench.live). Detector "
        "alone: the live policy's profile run offline on every frame with no time limit, masked as the "
        "policy masks; its leaks are the detector's own misses, and the rest of the live rate is what the "
        "live path adds (cadence, tracking, latency)."
    )
    return out


def _live_leak_places(clips: list[dict[str, Any]]) -> list[str]:
    """Where the live leaks are (bench.live_metrics.leaks_of), for runs that measured it."""
    rows = [
        [
            c["clip"],
            c["size"],
            str(c["leaks"]),
            of_objects(c.get("face_leaks", 0), c.get("face_objects", 0)),
            of_objects(c.get("plate_leaks", 0), c.get("plate_objects", 0)),
            str(c["leaks_moving"]),
            str(c["leaks_still"]),
            str(c["leaks_on_bodies"]),
            _pct(c.get("body_visible"), 0),
            _pct(c.get("body_visible_on_objects"), 0),
        ]
        for c in clips
        if "error" not in c and "leaks_moving" in c
    ]
    if not rows:
        return []
    return _table(
        [
            "clip",
            "size",
            "leaks",
            "faces leaked",
            "plates leaked",
            "on moving ground",
            "on still ground",
            "centred on a person's body",
            "person bodies visible",
            "... with only the masks holding a reference box",
        ],
        rows,
    ) + [
        "",
        "Where the leaks are: of the reference's faces and of its plates (text it reads on a "
        "walker, a sheet of paper or a trouser leg, counts as a plate); on ground the server's "
        "motion model saw move, or on still ground; "
        "centred inside a HOG person box's lower 75% (someone in front, or the reference's false "
        "face on a torso, a hand, a bag). Bodies with only the masks holding 30% of a reference "
        "box: the rest of the loss is masking where the reference found nothing.",
    ]


def _live_body_cost(clips: list[dict[str, Any]]) -> list[str]:
    """What hides the bodies (bench.live_metrics.body_cost), for runs that measured it."""
    names = [name for name, _ in SOURCES] + [NO_PICTURE]
    rows = [
        [c["clip"], c["size"], _pct(c.get("body_visible"), 0)]
        + [_pct(c["body_cost"].get(n)) for n in names]
        for c in clips
        if "error" not in c and c.get("body_cost")
    ]
    if not rows:
        return []
    return _table(["clip", "size", "person bodies visible", *names], rows) + [
        "",
        "What hides the bodies: per source of masks, the points of the bodies' visible share "
        "that would show with its masks left out and every other's kept (pixels two sources "
        "cover are charged to neither); no picture: person boxes on frames answered fully "
        "masked or not at all.",
    ]


def _live_picture(clips: list[dict[str, Any]]) -> list[str]:
    """What the live masks cost the picture (bench.live_metrics), for runs that measured it."""
    rows = []
    for c in clips:
        if "error" in c or "oracle_share" not in c:
            continue
        ratio = c.get("masked_over_oracle")
        rows.append(
            [
                c["clip"],
                c["size"],
                _pct(c["masked_share_redacted"], 1) + f" ({c['redacted_frames']} frames)",
                _pct(c["oracle_share"], 2) + f" (x{c['oracle_enlarge']:g})",
                "-" if ratio is None else f"{ratio:.1f}x",
                _pct(c["far_share"], 1),
                _pct(c["body_visible"], 0) + f" ({c['person_boxes']})",
                f"{c['start_fully_masked']} ({c['start_s']:.1f} s)",
                f"{c.get('start_coarse', '-')} ({c.get('start_coarse_s', 0.0):.1f} s)",
                f"{c.get('start_mosaic', '-')} ({c.get('start_mosaic_s', 0.0):.1f} s)",
                _pct(c.get("mosaic_share"), 0) + f" ({c.get('mosaic_frames', 0)})",
                _pct(c.get("looked_share"), 0),
            ]
        )
    if not rows:
        return []
    return _table(
        [
            "clip",
            "size",
            "masked, redacted frames past the start's mosaic",
            "oracle (reference x enlarge)",
            "redacted / oracle",
            "masked beyond reference x2",
            "person bodies visible (HOG boxes)",
            "no picture at start",
            "masked whole at start (coarse mosaic included)",
            "still ground under the start's mosaic",
            "masked with that mosaic, frames shown under it",
            "frames that moved, with their own look",
        ],
        rows,
    ) + [
        "",
        "What the masks cost the picture: the masked share over redacted frames only (fully masked "
        "ones, and those under the start's mosaic, excluded), against the oracle's (the reference boxes grown by the policy's enlargement, "
        "every frame); the share masked beyond every reference box grown 2x; the lower 75% of OpenCV "
        "HOG person boxes on the original frames left unmasked (frames without picture count 0); "
        "frames before the stream's first redacted one, before its first one not wholly under "
        "the coarse mosaic of its start (the blocks where something moved show), and before "
        "its first one with no block of that mosaic, and the masked share of the frames shown "
        "under it (their moving blocks); of the redacted frames on which something moved, those the "
        "server masked with their own look (below 100% where looks did not fit the CPU and the "
        "full band masked more).",
    ]


def _detection(report: dict[str, Any]) -> list[str]:
    det = report.get("detection") or {}
    why = not_run(det)
    if why:
        return [f"Detection {why}."]
    out: list[str] = []
    for profile, d in det.items():
        why = not_run(d)
        out += [f"Profile `{profile}` {why}." if why else d.get("markdown", ""), ""]
    return out


def _export(report: dict[str, Any]) -> list[str]:
    ex = report.get("export") or {}
    why = not_run(ex)
    if why:
        return [f"Exports {why}."]
    runs = ex.get("runs") or []
    if not runs:
        return ["No export figures."]

    def f(v: Any, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    same = {None: "-", True: "yes", False: "**no**"}
    out = [
        "Per run: speed from request to DONE, CPU of the coordinator and workers, leaks "
        "against the gap-filled `thorough` reference (covered < 80%), masked and oracle shares.",
        "",
    ]
    return (
        out
        + _table(
            [
                "clip",
                "size",
                "frames",
                "plan",
                "workers",
                "x real time",
                "CPU s / video s",
                "leak rate",
                "masked",
                "oracle",
                "masked/oracle",
                "masks = in process",
                "x real time / deface",
            ],
            [
                [
                    r["clip"],
                    f"{r['width']}x{r['height']}",
                    str(r["frames"]),
                    r["plan"],
                    str(r["workers"]),
                    f"{r['x_realtime']:.3f}",
                    f"{r['cpu_s_per_video_s']:.1f}",
                    _pct(r["leak_rate"], 2),
                    _pct(r["masked_share"], 2),
                    _pct(r["oracle_share"], 2),
                    f(r["masked_over_oracle"], ".2f"),
                    same[r["masks_equal_in_process"]],
                    f(r["x_realtime_over_deface"], ".2f"),
                ]
                for r in runs
            ],
        )
        + [""]
    )


def _kernels(report: dict[str, Any]) -> list[str]:
    k = report.get("kernels") or {}
    why = not_run(k)
    if why:
        return [f"Kernels {why}."]
    out = [
        f"Warm-up {k['warmup_s']:.2f} s; first frame after it {k['first_frame_ms']:.2f} ms, then "
        f"{k['typical_frame_ms']:.2f} ms ({k['first_frame_case']}).",
        "",
    ]
    rows = [
        [
            r["size"],
            str(r["n"]),
            r["kernel"],
            f"{r['numba_ms']:.3f}",
            f"{r['cv_ms']:.3f}",
            r["cv_name"],
            f"{r['copy_ms']:.3f}",
            f"{r['cv_over_numba']:.1f}x",
        ]
        for r in k["rows"]
    ]
    out += _table(
        [
            "frame",
            "boxes",
            "kernel",
            "numba ms",
            "OpenCV ms",
            "OpenCV way",
            "copy ms",
            "OpenCV/numba",
        ],
        rows,
    )
    if k.get("whole_frame"):
        out += ["", "Whole frame (one box covering it):", ""]
        out += _table(k["whole_frame_header"], k["whole_frame"])
    if k.get("redetect_markdown"):
        out += [
            "",
            f"Re-detection of masked faces (every {k['redetect_every']}th image, as bench.kernels prints it):",
            "",
            k["redetect_markdown"],
        ]
    return out


# ------------------------------------------------------------------ files


def _plain(value: Any) -> Any:
    """NaN and infinities as null: strict JSON (an empty size bucket has no recall)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dump(report: dict[str, Any]) -> str:
    return json.dumps(_plain(report), indent=1, default=str, allow_nan=False) + "\n"


def write(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """report.json, report.md and plots/ under out_dir; returns the JSON and Markdown paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report["comparisons"] = comparisons(report)
    report["serving"] = serving(report)
    report["live_leak_rate"] = leak_rate(report)
    try:
        made = plots(report, out_dir / "plots")
    except Exception as e:  # noqa: BLE001 - a plot must not cost the run its figures
        made = {}
        report["plots_error"] = f"{type(e).__name__}: {e}"
    report["plots"] = {k: f"plots/{v}" for k, v in made.items()}
    json_path = out_dir / "report.json"
    json_path.write_text(_dump(report))
    md_path = out_dir / "report.md"
    md_path.write_text(markdown(report, made))
    return json_path, md_path


def write_partial(report: dict[str, Any], out_dir: Path) -> None:
    """The figures so far (after each step), so a failed or stopped run keeps what it measured."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.partial.json").write_text(_dump(report))
