"""Configuration pieces the tests' servers share."""

from __future__ import annotations

from pathlib import Path

from redactor.config import ExportConfig, ReviewConfig


def export_config(folder: Path) -> ExportConfig:
    """The archive, exports, ledger and signing key all under `folder` (never the default var/)."""
    return ExportConfig(
        archive_root=folder / "archive",
        output_dir=folder / "exports",
        ledger_path=folder / "ledger.sqlite",
        key_path=folder / "keys" / "signing_key.pem",
        # released unreviewed: these servers test other things; tests/review reviews
        review=ReviewConfig(required="never"),
    )
