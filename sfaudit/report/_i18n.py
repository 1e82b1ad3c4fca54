"""Report languages: gettext catalogs in ``sfaudit/locale`` and Babel formatting.

Every writer that shows words to a person (HTML, Markdown, ICS) asks
:func:`language` for a :class:`Language`, so English and Dutch stay in one place.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

LANGUAGES: Mapping[str, str] = {"en": "en_GB", "nl": "nl_NL"}
"""Report language → the Babel locale used for dates, numbers and money."""

DOMAIN = "sfaudit"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def locale_dir() -> Path:
    return Path(str(resources.files("sfaudit").joinpath("locale")))


@functools.lru_cache(maxsize=8)
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(locale_dir()), languages=[lang])


class Language:
    """Translations plus locale-aware formatting for one report language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown report language {lang!r}; use one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self.locale = LANGUAGES[lang]
        self.translations = _translations(lang)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def date(self, value: dt.date | str | None, fmt: str = "long") -> str:
        """A date (or ISO string) in the locale's words; "" for None."""
        from babel.dates import format_date

        parsed = parse_date(value)
        if parsed is None:
            return "" if value is None else str(value)
        return str(format_date(parsed, format=fmt, locale=self.locale))

    def datetime(self, value: dt.datetime | str | None) -> str:
        from babel.dates import format_datetime

        if value is None:
            return ""
        if isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return value
        else:
            moment = value
        return str(
            format_datetime(moment, format="medium", locale=self.locale, tzinfo=dt.timezone.utc)
        )

    def number(self, value: float | int | None) -> str:
        from babel.numbers import format_decimal

        return "" if value is None else str(format_decimal(value, locale=self.locale))

    def money(self, amount: float | int | None, currency: str | None) -> str:
        from babel.numbers import format_currency

        if amount is None:
            return ""
        return str(format_currency(amount, currency or "EUR", locale=self.locale))

    def percent(self, value: float) -> str:
        from babel.numbers import format_percent

        return str(format_percent(value, locale=self.locale))

    def value(self, value: Any) -> str:
        """A metric value for people: numbers and dates localised, the rest as text."""
        if isinstance(value, bool):
            return self.gettext("yes") if value else self.gettext("no")
        if isinstance(value, (int, float)):
            return self.number(value)
        if isinstance(value, str) and parse_date(value) is not None and len(value) == 10:
            return self.date(value, "medium")
        if isinstance(value, (list, tuple)):
            return ", ".join(self.value(v) for v in value)
        if isinstance(value, Mapping):
            return ", ".join(f"{k}: {self.value(v)}" for k, v in value.items())
        return "" if value is None else str(value)


def parse_date(value: dt.date | str | None) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@functools.lru_cache(maxsize=8)
def language(lang: str) -> Language:
    return Language(lang)
