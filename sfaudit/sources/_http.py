"""The HTTP session the live source hands to simple-salesforce: read-only by construction.

:class:`ReadOnlySession` refuses every request that could change an org before it
leaves the process. It allows GET and HEAD, the two login endpoints (a SOAP
``login`` call and an OAuth token grant), and a ``composite/batch`` whose
subrequests are all GETs. Transient failures (5xx, timeouts, dropped connections)
are retried by urllib3 with a bounded backoff.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ..errors import SourceError

_SOAP_LOGIN = re.compile(r"/services/Soap/[uc]/\d+\.\d+/?")
_TOKEN = re.compile(r"/services/oauth2/token/?")
_BATCH = re.compile(r"/services/data/v\d+\.\d+/composite/batch/?")
_LOGIN_GRANTS = frozenset(
    {
        "password",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "client_credentials",
        "refresh_token",
    }
)
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


class WriteRefused(SourceError):
    """sfaudit tried to send a request that could change the org; it never leaves the process."""


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body)


def _is_soap_login(body: Any) -> bool:
    """A SOAP envelope whose body is a single ``login`` call."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(_text(body))
    except ElementTree.ParseError:
        return False
    bodies = [el for el in root if el.tag.rsplit("}", 1)[-1] == "Body"]
    if len(bodies) != 1:
        return False
    calls = list(bodies[0])
    return len(calls) == 1 and calls[0].tag.rsplit("}", 1)[-1] == "login"


def _is_token_grant(body: Any) -> bool:
    grants = parse_qs(_text(body)).get("grant_type", [])
    return len(grants) == 1 and grants[0] in _LOGIN_GRANTS


def _is_read_batch(body: Any) -> bool:
    try:
        subrequests = json.loads(_text(body))["batchRequests"]
    except (ValueError, KeyError, TypeError):
        return False
    return (
        isinstance(subrequests, list)
        and len(subrequests) > 0
        and all(
            isinstance(s, dict) and str(s.get("method", "")).upper() == "GET" for s in subrequests
        )
    )


def check_read_only(request: requests.PreparedRequest) -> None:
    """Raise :class:`WriteRefused` unless ``request`` is a read or a login."""
    method = (request.method or "GET").upper()
    if method in ("GET", "HEAD"):
        return
    path = urlsplit(request.url or "").path
    if method == "POST" and (
        (_SOAP_LOGIN.fullmatch(path) and _is_soap_login(request.body))
        or (_TOKEN.fullmatch(path) and _is_token_grant(request.body))
        or (_BATCH.fullmatch(path) and _is_read_batch(request.body))
    ):
        return
    raise WriteRefused(
        f"sfaudit refused to send {method} {path}: it only reads from an org "
        "(GET, a login, or a composite/batch of GETs)",
        hint="this is a bug in sfaudit or in a plugin; please report it",
    )


def is_login_request(request: requests.PreparedRequest) -> bool:
    path = urlsplit(request.url or "").path
    return bool(_SOAP_LOGIN.fullmatch(path) or _TOKEN.fullmatch(path))


class ReadOnlySession(requests.Session):
    """A ``requests`` session that only reads, retries transient failures, and counts.

    :param timeout: seconds to wait for a connection or a response, per attempt.
    :param retries: attempts after the first for 5xx answers, timeouts and dropped
        connections; the backoff doubles from ``backoff`` seconds, capped at 8.
    :param login_url: send login requests (``https://{domain}.salesforce.com``) to this
        base URL instead, keeping the original host in the ``Host`` header: how tests
        and the local emulator stand in for Salesforce (``SF_LOGIN_URL``).

    It keeps ``trust_env``: ``REQUESTS_CA_BUNDLE`` and the proxy variables apply.
    """

    def __init__(
        self,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        login_url: str | None = None,
    ) -> None:
        super().__init__()
        self.timeout = timeout
        self.retries = retries
        self.login_url = login_url.rstrip("/") if login_url else None
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=backoff,
            backoff_max=8.0,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD", "POST"}),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.mount("https://", adapter)
        self.mount("http://", adapter)
        self.requests_sent = 0
        self.logins = 0
        self.max_logins: int | None = None
        """Refuse logins beyond this many: an expired session is renewed once, not forever."""
        self.api_usage: tuple[int, int] | None = None
        """(used, max) from the latest ``Sforce-Limit-Info`` header."""

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if not args and kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        check_read_only(request)
        login = is_login_request(request)
        if login and self.login_url:
            self._redirect_login(request)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if login:
            if self.max_logins is not None and self.logins >= self.max_logins:
                raise SourceError(
                    "Salesforce ended the session again after sfaudit logged in again",
                    hint="check that the user is active, not frozen, and that its sessions "
                    "are not revoked by a session policy",
                )
            self.logins += 1
        else:
            self.requests_sent += 1
        response = super().send(request, **kwargs)
        match = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = (int(match.group(1)), int(match.group(2)))
        return response

    def _redirect_login(self, request: requests.PreparedRequest) -> None:
        assert self.login_url is not None
        original = urlsplit(request.url or "")
        target = urlsplit(self.login_url)
        request.url = urlunsplit(
            (target.scheme, target.netloc, target.path + original.path, original.query, "")
        )
        request.headers["Host"] = original.netloc
