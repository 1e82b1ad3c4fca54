"""One org of a fleet, in a process of its own: ``python -m sfaudit._fleet_worker JOB``.

``sfaudit fleet`` starts it with an environment built for this org alone (its
``<PREFIX>SF_*`` variables as ``SF_*``, nobody else's). It runs one
:class:`~sfaudit.audit.Audit`, writes the org's reports, and leaves what happened in
the job's result file: the files written, or the (redacted) error that stopped it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import Any


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Audit the org the job describes; never raises."""
    from ._redact import redact
    from .audit import Audit
    from .config import Config
    from .errors import SfauditError

    try:
        config = Config.model_validate(job["config"])
        config.path = job.get("config_path")
        config.base_dir = Path(job["base_dir"])
        today = dt.date.fromisoformat(job["today"]) if job.get("today") else None
        with Audit.from_config(config, {"today": today}) as audit:
            formats = audit.format_names(job["formats"])
            report = audit.run()
            written = audit.write(formats, Path(job["output"]))
    except SfauditError as exc:
        return {"exit_code": exc.exit_code, "error": redact(str(exc)), "written": {}}
    except Exception as exc:  # a bug or an unforeseen failure: this org is incomplete
        return {
            "exit_code": 3,
            "error": redact(f"unexpected {type(exc).__name__}: {exc}"),
            "written": {},
        }
    return {
        "exit_code": report.exit_code,
        "verdict": str(report.verdict),
        "error": None,
        "written": {name: str(path) for name, path in written.items()},
    }


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    logging.basicConfig(
        level=int(job.get("log_level") or logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    from ._redact import install_log_redaction

    install_log_redaction()
    result = run_job(job)
    Path(job["result"]).write_text(json.dumps(result), encoding="utf-8")
    return int(result["exit_code"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
