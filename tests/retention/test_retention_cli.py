"""`redactor retention ...` as a subprocess on a real config file: the dry run, holds,
the cycle, and clear errors with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from retention_helpers import Env

from redactor.config import load_config
from redactor.export import keys
from redactor.ledger.ledger import Event, Ledger

REDACTOR = Path(sys.executable).parent / "redactor"


def write_config(env: Env) -> Path:
    path = env.root / "redactor.toml"
    path.write_text(
        f"""
[export]
archive_root = "{env.archive}"
ledger_path = "{env.root / "ledger.sqlite"}"
key_path = "{env.root / "keys" / "signing_key.pem"}"

[retention]
default_days = 30

[[retention.groups]]
name = "gates"
cameras = ["gate-*"]
days = 7
"""
    )
    return path


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REDACTOR), "retention", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def rows(config: Path) -> list[tuple[Event, str]]:
    cfg = load_config(config)
    if not cfg.export.ledger_path.exists():
        return []
    with Ledger(cfg.export.ledger_path, create=False) as ledger:
        return [
            (e.event, str(e.detail.get("file") or e.detail.get("recording")))
            for e in ledger.entries()
        ]


def test_dry_run_hold_run_release_from_the_command_line(env: Env) -> None:
    config = write_config(env)
    old = env.put("gate-1")  # 2024: long past 7 days by the real clock
    held = env.put("gate-2")
    now = datetime.now(UTC).replace(microsecond=0)
    fresh = env.put("gate-3", now)

    dry = cli(config, "run", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would destroy\t{old}" in dry.stdout and f"would destroy\t{held}" in dry.stdout
    assert fresh not in dry.stdout and "nothing was destroyed or recorded" in dry.stderr
    assert env.exists(old) and env.exists(held) and rows(config) == []

    placed = cli(
        config, "hold", held, "--reason", "investigation 117", "--by", "Kim", "--case", "C-3"
    )
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.strip() == f"hold 1 placed on {held}"

    listing = cli(config, "list", "--all")
    assert listing.returncode == 0, listing.stderr
    lines = {line.split("\t")[0]: line for line in listing.stdout.splitlines()[1:]}
    assert set(lines) == {old, held, fresh}
    assert "held past due: hold 1 (case C-3): investigation 117" in lines[held]
    assert lines[fresh].endswith("within retention") and "\tgates\t7\t" in lines[fresh]
    due = (now + timedelta(days=7, seconds=1)).isoformat()
    assert f"\t{due}\t" in lines[fresh]

    run = cli(config, "run")
    assert run.returncode == 0, run.stderr
    assert f"destroyed\t{old}" in run.stdout and f"kept\t{held}\thold 1" in run.stdout
    assert not env.exists(old) and env.exists(held) and env.exists(fresh)

    holds = cli(config, "holds")
    assert holds.stdout.splitlines()[1].startswith(f"1\t{held}\tC-3\tKim\t")

    released = cli(config, "release", "1", "--reason", "case closed", "--by", "Lee")
    assert released.returncode == 0, released.stderr
    again = cli(config, "release", "1", "--reason", "case closed", "--by", "Lee")
    assert again.returncode == 2 and "already released" in again.stderr and not again.stdout
    assert cli(config, "holds").stdout.splitlines()[1:] == []
    assert len(cli(config, "holds", "--all").stdout.splitlines()) == 2

    assert cli(config, "run").returncode == 0
    assert not env.exists(held)
    assert rows(config) == [
        (Event.HOLD_PLACED, held),
        (Event.DESTROYED, old),
        (Event.HOLD_RELEASED, held),
        (Event.DESTROYED, held),
    ]
    cfg = load_config(config)
    with Ledger(cfg.export.ledger_path, create=False) as ledger:
        result = ledger.verify(keys.load_or_create(cfg.export.key_path).public_key())
    assert result.ok and result.rows == 4


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("hold", "gate-1/20200101T000000.mp4", "--reason", "x", "--by", "Kim"), "no recording"),
        (("hold", "../x.mp4", "--reason", "x", "--by", "Kim"), "'..'"),
        (
            ("hold", "gate-1/20240501T080000.mp4", "--reason", " ", "--by", "Kim"),
            "reason is required",
        ),
        (("release", "7", "--reason", "x", "--by", "Kim"), "no hold with id 7"),
    ],
)
def test_errors_name_what_is_wrong_and_record_nothing(
    env: Env, args: tuple[str, ...], words: str
) -> None:
    config = write_config(env)
    env.put("gate-1", datetime(2024, 5, 1, 8, tzinfo=UTC))
    out = cli(config, *args)
    assert (
        out.returncode == 2
        and words in out.stderr
        and out.stderr.startswith("redactor retention: ")
    )
    assert rows(config) == []


def test_a_bad_config_is_refused_naming_the_field(env: Env) -> None:
    config = env.root / "bad.toml"
    config.write_text("[retention]\nmax_days = 60\ndefault_days = 90\n")
    out = cli(config, "run", "--dry-run")
    assert out.returncode == 2 and "retention.default_days is 90" in out.stderr


def test_a_missing_archive_root_is_refused_before_any_file_is_made(tmp_path: Path) -> None:
    config = tmp_path / "redactor.toml"
    config.write_text(
        f'[export]\narchive_root = "{tmp_path / "nope"}"\n'
        f'ledger_path = "{tmp_path / "var" / "ledger.sqlite"}"\n'
        f'key_path = "{tmp_path / "var" / "key.pem"}"\n'
    )
    out = cli(config, "list")
    assert out.returncode == 2 and "export.archive_root" in out.stderr and "nope" in out.stderr
    assert not (tmp_path / "var").exists()
