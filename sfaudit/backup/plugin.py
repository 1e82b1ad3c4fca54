"""Built-in plugin: opens a Data Export (folder of WE_*.ZIP, one ZIP, or an
unpacked folder) as the ``backup`` fixture."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..config import Config
    from .inventory import BackupInventory


@hookimpl(trylast=True)
def sfaudit_open_backup(path: Path, config: Config) -> BackupInventory:
    """A lazy inventory; the encoding comes from ``checks.backup-completeness.encoding``."""
    from .evaluate import CHECK_ID
    from .inventory import BackupInventory

    encoding = config.check_block(CHECK_ID).get("encoding") or "auto"
    return BackupInventory(path, encoding=str(encoding))
