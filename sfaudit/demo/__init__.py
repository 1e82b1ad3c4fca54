"""The bundled demo org, Acme Corp, and its audit config."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..config import Config, load_config


def demo_dir() -> Path:
    return Path(str(resources.files("sfaudit.demo")))


#: Deliberate gaps in the demo export, so backup-completeness has findings to show.
DEMO_BACKUP_SHORT = {"Opportunity": 20}
DEMO_BACKUP_MISSING_FILES = {"Attachment": 2}


def prepare_demo(output: Path) -> Config:
    """The demo config, ready to run; writes demo inputs under ``output``: a Data
    Export of the demo org in ``output/demo-backup/`` (set as ``backup.path``)."""
    config = load_config(demo_dir() / "readiness.yaml")
    config.backup.path = str(write_demo_backup(Path(output) / "demo-backup", config))
    return config


def write_demo_backup(folder: Path, config: Config) -> Path:
    """A deterministic two-part export of the demo org, six days old on the demo's
    date, with 20 Opportunity records and two attachment files missing."""
    import datetime as dt
    import json

    from ..testing.exports import write_demo_export

    raw = json.loads((demo_dir() / "org.json").read_text(encoding="utf-8"))
    counts = {
        str(o["name"]): int(o["count"])
        for o in raw.get("objects") or []
        if o.get("replicateable", True) and (o.get("count") or 0) > 0
    }
    today = config.today or dt.date(2026, 11, 26)
    made = dt.datetime.combine(today - dt.timedelta(days=6), dt.time(3, 15))
    write_demo_export(
        folder,
        counts,
        org_id=str(raw["org"]["id"]),
        exported_at=made,
        short=DEMO_BACKUP_SHORT,
        missing_files=DEMO_BACKUP_MISSING_FILES,
    )
    return folder.resolve()
