"""The bundled demo org, Acme Corp, and its audit config."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Config, load_config

if TYPE_CHECKING:
    from ..testing.metadata import MetadataBuilder


def demo_dir() -> Path:
    return Path(str(resources.files("sfaudit.demo")))


#: Deliberate gaps in the demo export, so backup-completeness has findings to show.
DEMO_BACKUP_SHORT = {"Opportunity": 20}
DEMO_BACKUP_MISSING_FILES = {"Attachment": 2}
#: Deliberate gaps in the demo's metadata backup, so metadata-backup has findings to show.
DEMO_METADATA_MISSING = ("ApexClass:LegacyErpSync", "Flow:Renewal_Reminder")


def demo_metadata() -> MetadataBuilder:
    """Acme's customisations: what the demo org's inventory holds (org.json records it)."""
    from ..testing.metadata import MetadataBuilder

    m = MetadataBuilder()
    m.add("ApexClass", "InvoiceService", "InvoiceServiceTest", "LegacyErpSync", "DealScoring")
    m.add("ApexTrigger", "InvoiceTrigger", "DealTrigger")
    m.add("Flow", "Invoice_Approval", "Lead_Routing", "Renewal_Reminder")
    m.field("Account.Region__c", "Account.Segment__c", "Deal__c.Stage__c", "Invoice__c.Amount__c")
    m.add("ValidationRule", "Invoice__c.Amount_Positive")
    m.add("Layout", "Account-Account Layout", "Invoice__c-Invoice Layout")
    m.add("LightningComponentBundle", "invoiceCard")
    m.add("StaticResource", "AcmeLogo")
    m.add("PermissionSet", "Invoice_Admin")
    m.add("Profile", "Admin", "Custom%3A Sales Rep")
    m.add("EmailTemplate", "Sales/Renewal_Notice")
    m.add("Report", "Sales/Pipeline_by_Region")
    m.add("Dashboard", "Sales/Revenue")
    return m


def prepare_demo(output: Path) -> Config:
    """The demo config, ready to run; writes demo inputs under ``output``: a Data
    Export of the demo org in ``output/demo-backup/`` (set as ``backup.path``)."""
    config = load_config(demo_dir() / "readiness.yaml")
    config.backup.path = str(write_demo_backup(Path(output) / "demo-backup", config))
    target = Path(output) / "demo-metadata"
    demo_metadata().write_mdapi(target, omit=DEMO_METADATA_MISSING)
    config.metadata.path = str(target.resolve())
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
