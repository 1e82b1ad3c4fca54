"""The YAML audit config: loading, validation with file:line errors, CLI overrides."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ._yaml import KeyPath, dotted, line_for, load_with_lines
from .errors import ConfigError, UsageError
from .results import FAIL_ON_CHOICES, Severity

CONFIG_VERSION = 1
DEFAULT_FORMATS = ("html", "json")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class OrgConfig(_Model):
    source: str | None = None
    """``snapshot:PATH``, ``live`` or ``sf:ALIAS``."""
    domain: str | None = None
    api_version: str | None = None
    min_api_remaining_pct: float = Field(default=10.0, ge=0, le=100)
    """Stop (exit 3) rather than let the daily API allowance drop below this share."""
    page_size: int | None = Field(default=None, ge=200, le=2000)
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    """Seconds per HTTP attempt for ``live``/``sf:`` (default ``SF_TIMEOUT``, else 60)."""
    retries: int = Field(default=3, ge=0, le=10)
    """Attempts after the first for 5xx answers, timeouts and dropped connections."""
    backoff_s: float = Field(default=0.5, ge=0, le=30)
    """Backoff between retries, doubling from this many seconds (capped at 8)."""


class ContractConfig(_Model):
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    notice_days: int = Field(default=30, ge=0, le=3650)
    recommended_notice_days: int = Field(default=60, ge=0, le=3650)
    notice_sent: dt.date | None = None
    annual_fee: float | None = Field(default=None, ge=0)
    currency: str = Field(default="EUR", min_length=3, max_length=3)
    early_termination_fee: float = Field(default=0, ge=0)
    data_return_days: int = Field(default=30, ge=0, le=3650)
    """Days after end_date to ask Salesforce for the data back (Salesforce's documentation)."""
    deletion_days: int = Field(default=210, ge=0, le=3650)
    """Days after end_date by which Salesforce deletes the data: 120 inactive + 90."""

    @field_validator(
        "notice_days", "recommended_notice_days", "data_return_days", "deletion_days", mode="before"
    )
    @classmethod
    def _days_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be a whole number of days, not {str(value).lower()}")
        return value

    @field_validator("deletion_days")
    @classmethod
    def _deleted_after_return(cls, value: int, info: ValidationInfo) -> int:
        back = info.data.get("data_return_days")
        if isinstance(back, int) and value < back:
            raise ValueError(
                f"deletion_days {value} is before data_return_days {back}: the data would "
                "be deleted before the last day to ask for it"
            )
        return value

    @field_validator("end_date")
    @classmethod
    def _after_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value <= start:
            raise ValueError(f"end_date {value} is not after start_date {start}")
        return value


class BackupConfig(_Model):
    path: str | None = None
    max_age_days: int = Field(default=7, ge=0)
    require_files: StrictBool = True


class MetadataConfig(_Model):
    path: str | None = None
    """An MDAPI folder or ZIP (package.xml + classes/...), or an SFDX project."""
    max_age_days: int | None = Field(default=None, ge=0)
    """Older backups fail the metadata-backup check with a ``stale`` finding."""


class WaiverConfig(_Model):
    check: str = Field(min_length=1)
    match: dict[str, str | int | float | bool] = Field(default_factory=dict)
    reason: str = Field(min_length=1)
    expires: dt.date

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a waiver needs a reason")
        return value


class ReportConfig(_Model):
    formats: list[str] = Field(default_factory=lambda: list(DEFAULT_FORMATS))
    output: str = "reports"
    lang: Literal["en", "nl"] = "en"
    title: str | None = None
    url: str | None = None
    """Where the published report is (an http(s) URL): notifications link to it."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http(value)


#: When a notification channel sends: the verdicts, ``changed`` (against ``--baseline``)
#: and ``always``.
NOTIFY_EVENTS = ("not-ready", "incomplete", "changed", "ready", "always")
NotifyEvent = Literal["not-ready", "incomplete", "changed", "ready", "always"]
DEFAULT_NOTIFY_ON: tuple[NotifyEvent, ...] = ("not-ready", "incomplete", "changed")


def _http(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _token_like(piece: str) -> bool:
    """A piece of a URL that may be a credential: long, or mixing in digits."""
    return len(piece) >= 16 or (len(piece) >= 8 and any(c.isdigit() for c in piece))


class NotifyConfig(_Model):
    """One notification channel under ``notify:``. Which keys a type needs is the
    notifier's to say (``Notifier.requires``); :func:`validate_notify` checks them."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: str = Field(min_length=1)
    """``slack``, ``teams``, ``webhook``, ``email``, or a type a plugin registers."""
    name: str | None = None
    """A label for this channel in output (default: its type and number)."""
    url: str | None = Field(default=None, repr=False)
    on: list[NotifyEvent] = Field(default_factory=lambda: list(DEFAULT_NOTIFY_ON))
    min_severity: str | None = None
    """Only blocking checks at or above this severity are listed, and trigger ``not-ready``."""
    details: StrictBool = False
    """List the blocking findings (users, records); otherwise a message holds counts only."""
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    starttls: StrictBool = True
    sender: str | None = Field(default=None, alias="from")
    to: list[str] = Field(default_factory=list)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    """Seconds to connect, and again to read the answer, per attempt."""
    retries: int = Field(default=3, ge=0, le=10)
    """Attempts after the first, for 429 and 5xx answers and failed connections."""
    backoff_s: float = Field(default=1.0, ge=0, le=60)
    """Backoff between retries, doubling from this many seconds (a Retry-After wins)."""
    max_time_s: float = Field(default=60.0, gt=0, le=3600)
    """No retry starts once this channel has taken this long (or would wait past it)."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Settings of a plugin's notifier type."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http(value)

    @field_validator("min_severity")
    @classmethod
    def _severity(cls, value: str | None) -> str | None:
        return None if value is None else Severity.parse(value).value

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _register_secrets(self) -> NotifyConfig:
        from ._redact import add_secret

        for secret in self.secrets():
            add_secret(secret)
        return self

    def secrets(self) -> list[str]:
        """The values never to print: the URL (and its path, which HTTP logs show on
        their own), and the SMTP password."""
        from urllib.parse import parse_qsl, urlsplit

        found = [s for s in (self.url, self.password) if s]
        if self.url:
            parts = urlsplit(self.url)
            # the token-like pieces (a Slack key, a signature), should one be quoted
            pieces = [*parts.path.split("/"), *(v for _, v in parse_qsl(parts.query))]
            tokens = [p for p in pieces if _token_like(p)]
            if tokens or parts.query:
                # the path alone only when it holds a secret: a plain `/sfaudit` is
                # no secret, and redacting it would garble every path that holds it
                found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
            found += tokens
        return found

    def label(self, index: int) -> str:
        """How output names this channel: ``slack #1 (hooks.slack.com)``, never its URL."""
        from urllib.parse import urlsplit

        where = urlsplit(self.url).hostname if self.url else self.host
        base = self.name or f"{self.type} #{index + 1}"
        return f"{base} ({where})" if where and not self.name else base


class Config(_Model):
    """A validated audit config. Relative paths are resolved against ``base_dir``."""

    version: Literal[1] = 1
    today: dt.date | None = None
    org: OrgConfig = Field(default_factory=OrgConfig)
    contract: ContractConfig = Field(default_factory=ContractConfig)
    backup: BackupConfig = Field(default_factory=BackupConfig)
    metadata: MetadataConfig = Field(default_factory=MetadataConfig)
    checks: dict[str, dict[str, Any] | None] = Field(default_factory=dict)
    waivers: list[WaiverConfig] = Field(default_factory=list)
    plugins: list[str] = Field(default_factory=list)
    report: ReportConfig = Field(default_factory=ReportConfig)
    notify: list[NotifyConfig] = Field(default_factory=list)
    """Notification channels, told after the reports are written."""
    fail_on: str = "info"
    baseline: str | None = None
    """An earlier report.json: findings are then marked new, existing or resolved."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds any one check may run before it becomes an error."""

    # Not config keys: where it came from, for paths and error messages.
    path: str | None = Field(default=None, exclude=True)
    base_dir: Path = Field(default_factory=Path.cwd, exclude=True)
    lines: dict[KeyPath, int] = Field(default_factory=dict, exclude=True, repr=False)

    @field_validator("fail_on")
    @classmethod
    def _fail_on(cls, value: str) -> str:
        value = str(value).lower()
        if value not in FAIL_ON_CHOICES:
            raise ValueError(f"must be one of {', '.join(FAIL_ON_CHOICES)}")
        return value

    def resolve(self, value: str | Path) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def plugin_paths(self) -> list[Path]:
        """The ``plugins:`` files, resolved, each once; a missing one is an error
        naming its line."""
        paths: list[Path] = []
        for i, entry in enumerate(self.plugins):
            path = self.resolve(entry).resolve()
            if not path.is_file():
                raise self.error(
                    f"plugin file {path} does not exist",
                    "plugins",
                    i,
                    hint="fix the path (relative to the config file) or remove it from plugins:",
                )
            if path not in paths:
                paths.append(path)
        return paths

    def check_block(self, check_id: str) -> dict[str, Any]:
        return dict(self.checks.get(check_id) or {})

    def where(self, *path: str | int) -> tuple[str | None, int | None]:
        return self.path, line_for(self.lines, tuple(path))

    def error(self, message: str, *path: str | int, hint: str | None = None) -> ConfigError:
        """A ConfigError pointing at ``path`` in this config."""
        file, line = self.where(*path)
        return ConfigError(message, file=file, line=line, key=dotted(tuple(path)), hint=hint)


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    model: Any = Config
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items() if not f.exclude]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def read_yaml_text(path: Path, what: str, missing_hint: str) -> str:
    """The text of a YAML file the user named (a config, a fleet file): a missing,
    unreadable or non-UTF-8 file is a :class:`ConfigError` naming it, with a fix."""
    filename = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=filename, hint=missing_hint) from None
    except IsADirectoryError:
        raise ConfigError(f"is a folder, not a {what}", file=filename) from None
    except UnicodeDecodeError:
        raise ConfigError(
            "is not UTF-8 text", file=filename, hint="save it as UTF-8 YAML"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot be read: {exc.strerror}", file=filename) from None


def load_config(
    path: str | Path | None = None,
    *,
    text: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Load and validate a config file (or ``text``); errors name file:line and key."""
    if path is None and text is None:
        return Config()
    filename = str(path) if path is not None else "<config>"
    if text is None:
        assert path is not None
        p = Path(path)
        text = read_yaml_text(p, "config file", "run `sfaudit init` to write one")
    data, lines = (None, {}) if not text.strip() else load_with_lines(text, filename, env)
    if data is None and not lines:
        # Nothing but blank lines, comments or `---`: almost always a wrong path or
        # a truncated file, never a config meant to audit with every default.
        raise ConfigError(
            _blank_description(text),
            file=filename,
            hint="write a config (`sfaudit init` writes a commented one), "
            "or point -c (pytest: --sfaudit) at the right file",
        )
    if not isinstance(data, dict):
        raise ConfigError(
            "the config must be a mapping of keys, got "
            + ("null" if data is None else type(data).__name__),
            file=filename,
            line=1,
            hint="start from `sfaudit init`",
        )
    version = data.get("version", CONFIG_VERSION)
    if version != CONFIG_VERSION:
        raise ConfigError(
            f"unsupported config version {version!r}; this sfaudit reads version {CONFIG_VERSION}",
            file=filename,
            line=lines.get(("version",)),
            key="version",
            hint="set version: 1, or start from `sfaudit init`",
        )
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, filename, lines) from None
    config.path = filename if path is not None else None
    config.base_dir = Path(path).resolve().parent if path is not None else Path.cwd()
    config.lines = lines
    return config


def _blank_description(text: str) -> str:
    """What a config without a YAML document holds, for the error message."""
    if not text.strip():
        return "is empty"
    if any(line.lstrip().startswith("#") for line in text.splitlines()):
        return "holds only comments: no settings"
    return "holds no settings"


def _config_error(
    exc: ValidationError,
    filename: str,
    lines: Mapping[KeyPath, int],
    prefix: KeyPath = (),
) -> ConfigError:
    """The first problem of ``exc`` as a ConfigError naming file:line and the key.

    :param prefix: where the validated config sits in the file (a fleet file's
        ``("orgs", 1)``): the key and the line are looked up under it.
    """
    errors = exc.errors()
    first = errors[0]
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    loc = _strip_union_tags(loc)
    key = dotted((*prefix, *loc))
    line = line_for(lines, (*prefix, *loc))
    kind = first["type"]
    hint = None
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        known = _known_keys(loc[:-1])
        hint = did_you_mean(name, known)
        if hint is None and known:
            hint = f"known keys here: {', '.join(known)}"
        message = f"unknown key {name!r}"
    elif kind == "missing":
        message = "is required"
        hint = _missing_hint(loc)
    elif kind.startswith("date"):
        message = f"{first['msg'].lower()} (got {first.get('input')!r})"
        hint = "write dates as YYYY-MM-DD"
    else:
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        if "input" in first and kind not in ("value_error",) and not _secret_field(loc):
            message = f"{message} (got {_short(first['input'])})"
        hint = _TYPE_HINTS.get(kind)
        if hint is None and kind == "value_error" and loc[:1] == ("contract",):
            hint = "check the contract dates against your Order Form"
        elif hint is None and kind == "value_error":
            hint = "see the config reference: docs/configuration.md"
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(message, file=filename, line=line, key=key, hint=hint)


def _secret_field(loc: tuple[str | int, ...]) -> bool:
    """Is ``loc`` a key whose value is a secret (a channel's URL, a password)? Its value
    is then never quoted back in an error."""
    names = [str(p).lower() for p in loc if isinstance(p, str)]
    if "notify" in names and names[-1:] == ["url"]:
        return True
    return any(word in n for n in names for word in ("password", "secret", "token"))


_TYPE_HINTS = {
    "int_parsing": "write a whole number, e.g. 30",
    "int_type": "write a whole number, e.g. 30",
    "int_from_float": "write a whole number, e.g. 30",
    "float_parsing": "write a number, e.g. 18000",
    "float_type": "write a number, e.g. 18000",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "string_type": "write text (quote it if YAML reads it as something else)",
    "string_too_short": "this value cannot be empty",
    "string_too_long": "shorten the value",
    "greater_than_equal": "use a value that is not negative",
    "greater_than": "use a positive value",
    "less_than_equal": "use a smaller value",
    "literal_error": "use one of the values listed",
    "list_type": "write a YAML list, e.g. [a, b]",
    "dict_type": "write a YAML mapping, e.g. {key: value}",
    "model_type": "write a YAML mapping of the keys in the config reference",
    "model_attributes_type": "write a YAML mapping of the keys in the config reference",
    "union_tag_invalid": "see the config reference: docs/configuration.md",
}


def _strip_union_tags(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    known_tags = {"str", "int", "float", "bool", "dict[str,any]", "date", "none"}
    return tuple(p for p in loc if not (isinstance(p, str) and p.lower() in known_tags))


def _missing_hint(loc: tuple[str | int, ...]) -> str | None:
    if loc and loc[0] == "waivers":
        return "every waiver needs check, reason and expires (YYYY-MM-DD)"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


SOURCE_CHOICES = "snapshot:PATH, live or sf:ALIAS"


def require_source(config: Config, flag: str = "--source") -> None:
    """An audit needs an org: without one, stop before anything runs (exit 2),
    naming the config file and the two fixes. ``flag`` is the caller's override."""
    if config.org.source:
        return
    if config.path is None:
        raise UsageError(
            "no org source and no config",
            hint=f"pass {flag} ({SOURCE_CHOICES}), or -c CONFIG with org.source "
            "(`sfaudit init` writes one)",
        )
    line = line_for(config.lines, ("org", "source")) if ("org",) in config.lines else None
    raise ConfigError(
        "no org source",
        file=config.path,
        line=line,
        hint=f"set org.source in {config.path} ({SOURCE_CHOICES}), or pass {flag}",
    )


def apply_overrides(config: Config, **overrides: Any) -> Config:
    """Command-line flags override the config: ``source``, ``backup``, ``metadata``, ``today``,
    ``fail_on``, ``formats``, ``output``, ``lang``. ``None`` leaves a value alone."""
    if overrides.get("source") is not None:
        source = str(overrides["source"])
        if source.startswith("snapshot:") and source != "snapshot:":
            # A path on the command line is relative to where the command runs.
            source = f"snapshot:{Path(source.split(':', 1)[1]).expanduser().resolve()}"
        config.org.source = source
    if overrides.get("backup") is not None:
        config.backup.path = str(Path(overrides["backup"]).resolve())
    if overrides.get("metadata") is not None:
        config.metadata.path = str(Path(overrides["metadata"]).resolve())
    if overrides.get("today") is not None:
        config.today = overrides["today"]
    if overrides.get("fail_on") is not None:
        config.fail_on = Config._fail_on(overrides["fail_on"])
    if overrides.get("formats") is not None:
        config.report.formats = list(overrides["formats"])
    if overrides.get("output") is not None:
        config.report.output = str(Path(overrides["output"]).resolve())
    if overrides.get("baseline") is not None:
        config.baseline = str(Path(overrides["baseline"]).resolve())
    if overrides.get("lang") is not None:
        config.report.lang = overrides["lang"]
    return config


def validate_checks(config: Config, known: Mapping[str, Mapping[str, Any]]) -> None:
    """Validate the ``checks:`` block against the registered checks and their options.

    :param known: check id → its option defaults.
    """
    from .registry import COMMON_OPTIONS

    for check_id, block in config.checks.items():
        if check_id not in known:
            hint = did_you_mean(check_id, known) or "`sfaudit list-checks` shows the checks"
            raise config.error(f"unknown check {check_id!r}", "checks", check_id, hint=hint)
        if block is None:
            continue
        defaults = known[check_id]
        for key, value in block.items():
            where = ("checks", check_id, key)
            if key == "severity":
                try:
                    Severity.parse(value)
                except ValueError as exc:
                    raise config.error(str(exc), *where) from None
            elif key == "enabled":
                if not isinstance(value, bool):
                    raise config.error(f"must be true or false (got {value!r})", *where)
            elif key == "timeout":
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise config.error(
                        f"must be a positive number of seconds (got {value!r})", *where
                    )
            elif key == "title":
                if not isinstance(value, str):
                    raise config.error("must be text", *where)
            elif key not in defaults:
                choices = [*COMMON_OPTIONS, *defaults]
                hint = did_you_mean(key, choices) or f"options of {check_id}: {', '.join(choices)}"
                raise config.error(
                    f"unknown option {key!r} for check {check_id}", *where, hint=hint
                )
            else:
                _check_option_type(config, where, value, defaults[key])
    for i, waiver in enumerate(config.waivers):
        if waiver.check not in known:
            hint = did_you_mean(waiver.check, known) or "`sfaudit list-checks` shows the checks"
            raise config.error(
                f"waiver for unknown check {waiver.check!r}", "waivers", i, "check", hint=hint
            )


class NotifierSpec(Protocol):
    """What :func:`validate_notify` needs of a notifier type (``sfaudit.notify.Notifier``)."""

    @property
    def requires(self) -> tuple[str, ...]: ...

    def check(self, channel: NotifyConfig) -> tuple[str, str, str | None] | None: ...


def validate_notify(config: Config, notifiers: Mapping[str, NotifierSpec]) -> None:
    """Validate the ``notify:`` channels against the notifier types the plugins register:
    a known ``type`` (with a did-you-mean hint), the keys that type requires, and what
    the type itself checks (``Notifier.check``: the field, the problem and a hint)."""
    validate_channels(config.notify, notifiers, config.error, ("notify",))


def validate_channels(
    channels: Iterable[NotifyConfig],
    notifiers: Mapping[str, NotifierSpec],
    error: Any,
    where: KeyPath = ("notify",),
) -> None:
    """:func:`validate_notify` for channels from anywhere (a fleet file too); ``error``
    builds the :class:`~sfaudit.errors.ConfigError` from a message, a key path and a hint
    (as :meth:`Config.error` does)."""
    for i, channel in enumerate(channels):
        if channel.type not in notifiers:
            hint = did_you_mean(channel.type, notifiers) or (
                f"known types: {', '.join(sorted(notifiers))}"
            )
            raise error(f"unknown notifier type {channel.type!r}", *where, i, "type", hint=hint)
        spec = notifiers[channel.type]
        for key in spec.requires:
            attr = "sender" if key == "from" else key
            if not getattr(channel, attr, None):
                article = "an" if channel.type[:1].lower() in "aeiou" else "a"
                raise error(
                    f"{article} {channel.type} channel needs {key}",
                    *where,
                    i,
                    hint=f"add {key}: to this channel (see docs/configuration.md, notify)",
                )
        problem = spec.check(channel)
        if problem is not None:
            field_name, problem_text, fix = problem
            raise error(problem_text, *where, i, field_name, hint=fix)


def _check_option_type(config: Config, where: KeyPath, value: Any, default: Any) -> None:
    if default is None:
        return
    expected: type | tuple[type, ...] = type(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        expected = (int, float)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, list)
    else:
        ok = isinstance(value, expected)
    if not ok:
        kind = {
            bool: "true or false",
            list: "a list",
            tuple: "a list",
            str: "text",
            dict: "a mapping",
        }
        want = kind.get(type(default), "a number")
        raise config.error(f"must be {want} (got {_short(value)})", *where)


def check_enabled(config: Config, check_id: str) -> bool:
    block = config.checks.get(check_id) or {}
    return bool(block.get("enabled", True))


STARTER_CONFIG = """\
# sfaudit readiness audit: is this org ready to be cancelled?
# Docs: docs/configuration.md (config reference). Run: sfaudit run -c {name}
version: 1

# Pin the audit date so runs are reproducible (default: today).
# today: 2026-11-26

org:
  # snapshot:PATH (offline), live (credentials from SF_* environment
  # variables), or sf:ALIAS (an org authorised with the Salesforce CLI).
  source: live

contract:                       # from your Order Form
  start_date: 2026-02-01
  end_date: 2027-01-31
  notice_days: 30               # written notice due this many days before end_date
  recommended_notice_days: 60
  notice_sent: null             # the date your written notice went out
  annual_fee: 18000
  currency: EUR
  early_termination_fee: 0
  data_return_days: 30          # ask for the data back within this many days after end_date
  deletion_days: 210            # Salesforce deletes the data by then (120 + 90)

backup:
  path: backups/                # folder of WE_*.ZIP files from Setup > Data Export
  max_age_days: 7
  require_files: true           # attachments, documents and content versions

checks:                         # absent check: runs with defaults; enabled: false turns it off
  backup-completeness: {{severity: critical}}
  active-users: {{severity: high, allow: []}}
  record-ownership: {{severity: high, custodians: []}}
  notice-deadline: {{severity: critical}}

# A waiver needs a reason and an expiry; expired waivers stop applying.
waivers: []
#  - check: active-users
#    match: {{user: support@example.com}}
#    reason: Vendor support login, removed by Salesforce at termination
#    expires: 2026-12-31

plugins: []                     # local plugin files, e.g. plugins/our_checks.py
report:
  formats: [html, json, junit, md]
  output: reports/
  lang: en                      # or nl
fail_on: high                   # critical, high, medium, low, info or never
"""
