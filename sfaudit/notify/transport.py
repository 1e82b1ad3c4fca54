"""Getting a message out: HTTP POSTs with urllib3's ``Retry``, and SMTP with STARTTLS.

Both retry transient failures (HTTP 429 and 5xx, failed connections, SMTP 4xx
replies) with a doubling backoff, honour ``Retry-After``, and stop at the channel's
``retries`` and ``max_time_s``, whichever comes first. A read timeout is not
retried: the server may already have posted the message. Errors are described
in words that never hold the URL or a password.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from urllib3.util.retry import Retry

from .._redact import redact
from .model import DeliveryError

if TYPE_CHECKING:
    import requests
    from urllib3.response import BaseHTTPResponse

    from ..config import NotifyConfig

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_MAX_BACKOFF = 30.0


class _OutOfTime(Exception):
    def __init__(self, wait: float) -> None:
        super().__init__(wait)
        self.wait = wait


class BoundedRetry(Retry):
    """urllib3's Retry that also stops at a deadline, and records each wait."""

    def __init__(
        self,
        *args: Any,
        deadline: float | None = None,
        waits: list[float] | None = None,
        sleeper: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.deadline = deadline
        self.waits = waits if waits is not None else []
        self.sleeper = sleeper

    def new(self, **kw: Any) -> BoundedRetry:
        new = super().new(**kw)
        new.deadline, new.waits, new.sleeper = self.deadline, self.waits, self.sleeper
        return new

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if wait is None:
            wait = min(self.backoff_factor * 2 ** len(self.history[:-1]), _MAX_BACKOFF)
        if self.deadline is not None and time.monotonic() + wait > self.deadline:
            raise _OutOfTime(wait)
        self.waits.append(wait)
        if wait > 0:
            self.sleeper(wait)


class Transport:
    """How notifiers reach the outside: :meth:`post_json` and :meth:`send_mail`.

    ``sleeper`` is what waits between retries (``time.sleep``; tests may record).
    """

    def __init__(self, sleeper: Callable[[float], None] = time.sleep) -> None:
        self.sleeper = sleeper

    def post_json(
        self,
        channel: NotifyConfig,
        body: Mapping[str, Any],
        *,
        ok: Callable[[int], bool] | None = None,
    ) -> tuple[requests.Response, int, tuple[float, ...]]:
        """POST ``body`` as JSON to the channel's URL, retrying as the module says.

        :return: the final answer, the number of attempts and the waits between them.
        :raises DeliveryError: the answer is still an error, or there was none.
        """
        import requests
        from requests.adapters import HTTPAdapter

        assert channel.url
        waits: list[float] = []
        retry = BoundedRetry(
            total=channel.retries,
            connect=channel.retries,
            read=0,
            status=channel.retries,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"POST"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=channel.backoff_s,
            raise_on_status=False,
            raise_on_redirect=False,
            respect_retry_after_header=True,
            deadline=time.monotonic() + channel.max_time_s,
            waits=waits,
            sleeper=self.sleeper,
        )
        session = requests.Session()
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            answer = session.post(
                channel.url,
                json=dict(body),
                timeout=(channel.timeout_s, channel.timeout_s),
                allow_redirects=False,
                headers={"User-Agent": "sfaudit-notify"},
            )
        except _OutOfTime as exc:
            raise DeliveryError(
                f"gave up: the next retry would wait {exc.wait:g} s, past max_time_s "
                f"({channel.max_time_s:g} s)",
                attempts=len(waits) + 1,
                waits=waits,
            ) from None
        except requests.RequestException as exc:
            raise DeliveryError(
                _request_error(exc, channel), attempts=len(waits) + 1, waits=waits
            ) from None
        finally:
            session.close()
        attempts = len(waits) + 1
        good = ok(answer.status_code) if ok else 200 <= answer.status_code < 300
        if not good:
            raise DeliveryError(
                _status_words(answer, attempts, channel), attempts=attempts, waits=waits
            )
        return answer, attempts, tuple(waits)

    def send_mail(
        self, channel: NotifyConfig, message: EmailMessage
    ) -> tuple[int, tuple[float, ...]]:
        """Send ``message`` over SMTP (STARTTLS unless ``starttls: false``), retrying
        refused connections and 4xx replies.

        :return: the number of attempts and the waits between them.
        :raises DeliveryError: the mail was refused, or the server could not be reached.
        """
        assert channel.host
        port = channel.port or (587 if channel.starttls else 25)
        deadline = time.monotonic() + channel.max_time_s
        waits: list[float] = []
        attempt = 0
        while True:
            attempt += 1
            try:
                self._smtp_once(channel, port, message)
                return attempt, tuple(waits)
            except smtplib.SMTPAuthenticationError as exc:
                raise DeliveryError(
                    f"the SMTP server refused the login: {_smtp_words(exc, channel)}",
                    attempts=attempt,
                    waits=waits,
                ) from None
            except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
                code = getattr(exc, "smtp_code", None) or _recipients_code(exc)
                words = _smtp_words(exc, channel)
                transient = code is not None and 400 <= code < 500
                if not transient or attempt > channel.retries:
                    raise DeliveryError(
                        f"the SMTP server answered {words}" + _after(attempt),
                        attempts=attempt,
                        waits=waits,
                    ) from None
            except ssl.SSLError as exc:
                raise DeliveryError(
                    f"TLS with the SMTP server failed: {redact(exc.reason or str(exc))}",
                    attempts=attempt,
                    waits=waits,
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                if attempt > channel.retries:
                    raise DeliveryError(
                        f"cannot reach the SMTP server {channel.host}:{port}: "
                        f"{type(exc).__name__}: {_smtp_words(exc, channel)}" + _after(attempt),
                        attempts=attempt,
                        waits=waits,
                    ) from None
            wait = min(channel.backoff_s * 2 ** (attempt - 1), _MAX_BACKOFF)
            if time.monotonic() + wait > deadline:
                raise DeliveryError(
                    f"gave up after {attempt} attempts: max_time_s ({channel.max_time_s:g} s)",
                    attempts=attempt,
                    waits=waits,
                )
            waits.append(wait)
            if wait > 0:
                self.sleeper(wait)

    def _smtp_once(self, channel: NotifyConfig, port: int, message: EmailMessage) -> None:
        with smtplib.SMTP(channel.host or "", port, timeout=channel.timeout_s) as smtp:
            smtp.ehlo()
            if channel.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"the SMTP server {channel.host}:{port} does not offer STARTTLS",
                        attempts=1,
                    )
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if channel.username:
                smtp.login(channel.username, channel.password or "")
            smtp.send_message(message)


def _after(attempts: int) -> str:
    return f" after {attempts} attempts" if attempts > 1 else ""


def _status_words(answer: requests.Response, attempts: int, channel: NotifyConfig) -> str:
    body = " ".join(answer.text[:200].split()) if answer.text else ""
    words = f"HTTP {answer.status_code}" + (f" {answer.reason}" if answer.reason else "")
    if body:
        words += f": {redact(body, channel.secrets())}"
    return words + _after(attempts)


def _request_error(exc: Exception, channel: NotifyConfig) -> str:
    """An HTTP failure in words, without the URL (urllib3's messages quote its path)."""
    import requests

    kinds = (
        (requests.exceptions.ConnectTimeout, "the connection timed out"),
        (requests.exceptions.ReadTimeout, "no answer within timeout_s (not retried)"),
        (requests.exceptions.SSLError, "TLS failed"),
        (requests.exceptions.ProxyError, "the proxy failed"),
        (requests.exceptions.ConnectionError, "cannot connect"),
        (requests.exceptions.TooManyRedirects, "too many redirects"),
    )
    words = next((w for k, w in kinds if isinstance(exc, k)), type(exc).__name__)
    reason = _reason(exc)
    return f"{words} to {_host(channel)}" + (f": {reason}" if reason else "")


def _reason(exc: BaseException | None) -> str:
    """The innermost cause in a few safe words (``Connection refused``), never a URL."""
    for _ in range(10):
        if exc is None:
            break
        if isinstance(exc, OSError) and exc.strerror:
            return str(exc.strerror)
        if isinstance(exc, socket.timeout):
            return "timed out"
        reason = getattr(exc, "reason", None)
        if isinstance(reason, BaseException):
            exc = reason
        elif exc.args and isinstance(exc.args[0], BaseException):
            exc = exc.args[0]
        else:
            exc = exc.__cause__ or exc.__context__
    return ""


def _host(channel: NotifyConfig) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(channel.url or "")
    return parts.hostname or "the channel's URL"


def _smtp_words(exc: BaseException, channel: NotifyConfig) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        return redact(f"{exc.smtp_code} {' '.join(text.split())[:200]}", channel.secrets())
    return redact(str(exc), channel.secrets())[:200]


def _recipients_code(exc: BaseException) -> int | None:
    recipients = getattr(exc, "recipients", None)
    if isinstance(recipients, dict) and recipients:
        first = next(iter(recipients.values()))
        if isinstance(first, tuple) and first and isinstance(first[0], int):
            return first[0]
    return None
