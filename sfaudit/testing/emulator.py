"""A local Salesforce emulator: real HTTPS on 127.0.0.1, Salesforce's response shapes.

It serves the endpoints sfaudit (and simple-salesforce) use, from an org model built
from :class:`~sfaudit.sources.model.OrgData` (for example ``OrgBuilder().build()``):

- login: SOAP ``/services/Soap/u/{ver}`` and OAuth ``/services/oauth2/token``
  (password, JWT bearer with its signature checked, client credentials);
- ``query``/``queryMore`` with real pagination, ``COUNT()``, aggregates (``exprN``),
  ``GROUP BY``, semi-joins, relationship fields;
- ``sobjects`` (describe global), ``sobjects/{name}/describe``, ``sobjects/{name}/{id}``,
  ``limits``, ``limits/recordCount``, ``composite/batch``;
- ``tooling/query`` (and its ``queryMore``) for the metadata inventory, with
  ``entityTypeName``, from the org model's ``metadata`` (see :mod:`sfaudit.testing.metadata`);
- what the Salesforce CLI asks when it logs in with a token: ``/services/oauth2/userinfo``,
  ``/services/data`` (the API versions), a User by Id, and queries it tolerates failing;
- errors as JSON arrays of ``{"message", "errorCode"}``; a query of ``OwnerId`` (or
  ``Owner.``) on an object the model declares without an owner is 400 ``INVALID_FIELD``,
  "No such column 'OwnerId' on entity 'X'", as Salesforce answers it.

Every request is logged (:attr:`SalesforceEmulator.log`), and faults can be injected
(:attr:`SalesforceEmulator.faults`). Login URLs name ``https://{domain}.salesforce.com``;
point the product at the emulator with ``SF_LOGIN_URL`` (see docs/live-orgs.md), which sends
login requests to the emulator with the original host in the ``Host`` header.

>>> from sfaudit.testing import OrgBuilder
>>> with SalesforceEmulator(OrgBuilder().build()) as emu:  # doctest: +SKIP
...     print(emu.url, emu.ca_path)
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import html
import itertools
import json
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

from ..sources.model import OrgData, Storage
from . import _soql
from ._orgmodel import OrgModel

API_VERSION = "59.0"
#: The newest API version the emulator lists at ``/services/data`` (Winter '25).
MAX_API_VERSION = "62.0"
DEFAULT_PAGE_SIZE = 2000
MAX_BATCH = 25
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Faults that are not consumed per request but where the emulator builds an answer.
_ANSWER_FAULTS = frozenset({"deny", "locator", "uncounted", "stale", "reject"})
#: The status :meth:`SalesforceEmulator.handle` returns for "close without answering".
DROP = 0
#: ``UserPermissionAccess`` of the API user by default: an administrator's.
DEFAULT_USER_PERMISSIONS = {
    "PermissionsCustomizeApplication": True,
    "PermissionsViewSetup": True,
    "PermissionsModifyAllData": True,
    "PermissionsViewAllData": True,
}


class SfError(Exception):
    """An error the emulator answers in Salesforce's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status} {code}: {message}")

    def body(self) -> list[dict[str, Any]]:
        return [{"message": self.message, "errorCode": self.code}]


@dataclass
class LoggedRequest:
    """One request as the emulator received it."""

    method: str
    host: str
    path: str
    query: str
    body: str
    status: int = 0
    subrequests: list[str] = field(default_factory=list)
    user_agent: str = ""
    """The client's ``User-Agent`` (tells sfaudit's requests from the Salesforce CLI's)."""

    @property
    def is_write(self) -> bool:
        """A request that could change data: any non-GET other than a login or an all-GET batch."""
        if self.method in ("GET", "HEAD"):
            return False
        if self.path.startswith("/services/Soap/u/") or self.path == "/services/oauth2/token":
            return False
        if self.path.endswith("/composite/batch") and self.subrequests:
            return not all(s == "GET" for s in self.subrequests)
        return True

    @property
    def is_login(self) -> bool:
        return self.path.startswith("/services/Soap/u/") or self.path == "/services/oauth2/token"

    @property
    def soql(self) -> str:
        return parse_qs(self.query).get("q", [""])[0]


@dataclass
class Fault:
    """An injected fault: applies to the next ``times`` requests that ``match``."""

    # "error", "expire", "timeout", "malformed", "drop", "deny", "locator", "uncounted", "stale",
    # "reject"
    kind: str
    times: int | None = 1
    match: str | None = None
    status: int = 500
    code: str = "UNKNOWN_EXCEPTION"
    message: str = "An unexpected error occurred."
    seconds: float = 0.0
    sobject: str | None = None
    count: int = 0
    hits: int = 0

    def matches(self, text: str) -> bool:
        return self.match is None or self.match.lower() in text.lower()


class Faults:
    """Fault injection: ``emu.faults.unavailable(times=2)``, ``emu.faults.deny("UserLogin")``..."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self.items.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.items.clear()

    def error(
        self,
        status: int,
        code: str,
        message: str,
        *,
        times: int | None = 1,
        match: str | None = None,
    ) -> Fault:
        """Answer ``status`` with a Salesforce error body."""
        return self.add(Fault("error", times, match, status=status, code=code, message=message))

    def unavailable(self, *, times: int = 2, match: str | None = None) -> Fault:
        """503 Service Unavailable, ``times`` times."""
        return self.error(
            503, "SERVER_UNAVAILABLE", "Service temporarily unavailable", times=times, match=match
        )

    def request_limit_exceeded(
        self, *, times: int | None = None, match: str | None = None
    ) -> Fault:
        """403 REQUEST_LIMIT_EXCEEDED (from now on, unless ``times`` is given)."""
        return self.error(
            403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", times=times, match=match
        )

    def expire_session(self, *, times: int = 1, match: str | None = None) -> Fault:
        """401 INVALID_SESSION_ID, and the session presented is revoked."""
        return self.add(Fault("expire", times, match))

    def timeout(self, seconds: float, *, times: int = 1, match: str | None = None) -> Fault:
        """Hold the response for ``seconds`` before answering."""
        return self.add(Fault("timeout", times, match, seconds=seconds))

    def malformed_json(self, *, times: int = 1, match: str | None = None) -> Fault:
        """Answer 200 with a truncated JSON body."""
        return self.add(Fault("malformed", times, match))

    def drop(self, *, times: int | None = 1, match: str | None = None) -> Fault:
        """Close the connection without sending a response (a dropped connection)."""
        return self.add(Fault("drop", times, match))

    def invalid_locator(self, *, times: int | None = 1) -> Fault:
        """Hand out a ``nextRecordsUrl`` whose query locator the server does not know,
        so the ``queryMore`` that follows it gets 400 ``INVALID_QUERY_LOCATOR``."""
        return self.add(Fault("locator", times))

    def uncount(self, sobject: str) -> Fault:
        """``limits/recordCount`` leaves ``sobject`` out, as Salesforce does for some objects."""
        return self.add(Fault("uncounted", None, sobject=sobject))

    def stale_count(self, sobject: str, count: int) -> Fault:
        """``limits/recordCount`` reports ``count`` for ``sobject`` while ``COUNT()`` gives
        the truth: Salesforce's counts are cached and lag (a recorded org answered 1 while
        ``count()`` found 6)."""
        return self.add(Fault("stale", None, sobject=sobject, count=count))

    def stale_counts(self) -> dict[str, int]:
        """The counts ``limits/recordCount`` reports out of date (lower-case names)."""
        with self._lock:
            return {(f.sobject or "").lower(): f.count for f in self.items if f.kind == "stale"}

    def deny(
        self,
        sobject: str,
        *,
        status: int = 403,
        code: str = "INSUFFICIENT_ACCESS",
        message: str | None = None,
    ) -> Fault:
        """The API user cannot read ``sobject``: queries and describes of it fail."""
        text = message or f"insufficient access rights on object {sobject}"
        return self.add(
            Fault("deny", None, None, status=status, code=code, message=text, sobject=sobject)
        )

    def reject(
        self,
        match: str,
        *,
        status: int = 400,
        code: str = "MALFORMED_QUERY",
        message: str = "Aggregate query does not support queryMore(), use LIMIT to restrict "
        "the results to a single batch",
    ) -> Fault:
        """Queries whose SOQL contains ``match`` are refused with ``code``, also inside a
        ``composite/batch`` (where only that subrequest fails), while describes of their
        object still answer: Salesforce refusing one query for reasons of its own (an
        object that takes no aggregate, more than 2,000 groups...)."""
        return self.add(Fault("reject", None, match, status=status, code=code, message=message))

    def rejected(self, soql: str) -> Fault | None:
        """The ``reject`` fault for the query ``soql``, if any."""
        with self._lock:
            for fault in self.items:
                if fault.kind == "reject" and fault.matches(" ".join(soql.split())):
                    fault.hits += 1
                    return fault
        return None

    def take(self, text: str) -> Fault | None:
        """The first request-level fault matching ``text``, consumed once."""
        with self._lock:
            for fault in self.items:
                if fault.kind in _ANSWER_FAULTS or not fault.matches(text):
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                fault.hits += 1
                return fault
        return None

    def take_kind(self, kind: str) -> Fault | None:
        """The first unused fault of an answer-building ``kind``, consumed once."""
        with self._lock:
            for fault in self.items:
                if fault.kind != kind or (fault.times is not None and fault.hits >= fault.times):
                    continue
                fault.hits += 1
                return fault
        return None

    def uncounted(self, sobjects: Iterable[str]) -> set[str]:
        """Which of ``sobjects`` ``limits/recordCount`` leaves out (lower case)."""
        names = {s.lower() for s in sobjects}
        out: set[str] = set()
        with self._lock:
            for fault in self.items:
                name = (fault.sobject or "").lower()
                if fault.kind == "uncounted" and name in names:
                    fault.hits += 1
                    out.add(name)
        return out

    def denied(self, sobjects: Iterable[str]) -> Fault | None:
        names = {s.lower() for s in sobjects}
        with self._lock:
            for fault in self.items:
                if fault.kind == "deny" and (fault.sobject or "").lower() in names:
                    fault.hits += 1
                    return fault
        return None


@dataclass
class ConnectedApp:
    consumer_key: str
    consumer_secret: str
    public_key_pem: bytes | None = None
    run_as: str | None = None


class SalesforceEmulator:
    """An HTTPS Salesforce emulator on 127.0.0.1 serving one org model.

    :param data: the org to serve (``OrgBuilder(...).build()`` or a loaded snapshot).
    :param page_size: the largest query page it returns (a ``batchSize`` query option
        may lower it, never raise it).
    :param api_max: the org's daily API allowance (``DailyApiRequests.Max``).
    :param api_used: requests already used today.
    :param records: extra tables, ``{"Case": [{"Id": ..., "IsClosed": False}]}``.
    """

    def __init__(
        self,
        data: OrgData,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        api_max: int = 15000,
        api_used: int = 0,
        records: Mapping[str, Iterable[dict[str, Any]]] | None = None,
    ) -> None:
        import trustme

        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert(
            "127.0.0.1", "localhost", "*.salesforce.com", "*.my.salesforce.com"
        )
        self._tmp = tempfile.TemporaryDirectory(prefix="sfaudit-emulator-")
        self.ca_path = str(Path(self._tmp.name) / "emulator-ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        self.faults = Faults()
        self.log: list[LoggedRequest] = []
        self.logins: dict[str, tuple[str, str]] = {}
        self.apps: dict[str, ConnectedApp] = {}
        self.tokens: dict[str, str] = {}
        self.issued_tokens: list[str] = []
        self.max_api_version = MAX_API_VERSION
        """The newest version ``GET /services/data`` lists (the Salesforce CLI uses it)."""
        self.user_permissions: dict[str, bool] = dict(DEFAULT_USER_PERMISSIONS)
        """The API user's permissions, served as ``UserPermissionAccess``. Without
        ``PermissionsCustomizeApplication`` it sees only its own ``OauthToken`` rows
        (those of :attr:`api_user_id`)."""
        self.api_user_id: str | None = None
        self.jwt_key_file: str | None = None
        """A PEM private key matching a connected app (the pytest fixtures set it)."""
        self._lock = threading.Lock()
        self._cursors: dict[str, tuple[list[dict[str, Any]], int]] = {}
        self._entities: dict[str, str] = {}
        self._joins: dict[str, frozenset[Any]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.load(data, page_size=page_size, api_max=api_max, api_used=api_used, records=records)

    # --- set-up -----------------------------------------------------------------

    def load(
        self,
        data: OrgData,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        api_max: int = 15000,
        api_used: int = 0,
        records: Mapping[str, Iterable[dict[str, Any]]] | None = None,
    ) -> None:
        """Serve another org (tests share one server per session); logs and faults are kept."""
        self.model = OrgModel(data, records)
        self.page_size = page_size
        self.api_max = api_max
        self.api_used = api_used
        self._cursors.clear()
        self._joins = {}

    def reset(self) -> None:
        """Forget the request log, faults, sessions and cursors."""
        self.log.clear()
        self.faults.clear()
        self.tokens.clear()
        self._cursors.clear()
        self.user_permissions = dict(DEFAULT_USER_PERMISSIONS)
        self.api_user_id = None

    def add_login(self, username: str, password: str, security_token: str = "") -> None:
        """A user that may log in (SOAP: password + token; OAuth password grant)."""
        self.logins[username] = (password, security_token)

    def add_connected_app(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        public_key_pem: bytes | None = None,
        run_as: str | None = None,
    ) -> None:
        """A connected app: its secret, the certificate key JWTs must be signed with,
        and the user the client-credentials flow runs as."""
        self.apps[consumer_key] = ConnectedApp(
            consumer_key, consumer_secret, public_key_pem, run_as
        )

    def new_session(self, username: str = "") -> str:
        """Issue an access token, as a login would (for the session-id flow in tests)."""
        token = f"{self.model.data.info.id[:15]}!AQ{secrets.token_urlsafe(48)}"
        with self._lock:
            self.tokens[token] = username
            self.issued_tokens.append(token)
        return token

    # --- lifecycle ----------------------------------------------------------------

    def start(self) -> SalesforceEmulator:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        emulator = self

        class Handler(_Handler):
            pass

        Handler.emulator = emulator

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request: Any, client_address: Any) -> None:
                try:
                    request = context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
                super().finish_request(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sf-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._tmp.cleanup()

    def __enter__(self) -> SalesforceEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, ``https://127.0.0.1:PORT``: the instance URL it hands out too."""
        return f"https://127.0.0.1:{self.port}"

    # --- the log --------------------------------------------------------------------

    def api_requests(self) -> list[LoggedRequest]:
        """Logged requests other than logins."""
        return [r for r in self.log if not r.is_login]

    def writes(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.is_write]

    # --- handling -------------------------------------------------------------------

    def handle(
        self, method: str, host: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(target)
        text = body.decode("utf-8", "replace")
        agent = next((v for k, v in headers.items() if k.lower() == "user-agent"), "")
        entry = LoggedRequest(method, host, parts.path, parts.query, text, user_agent=agent)
        if parts.path.endswith("/composite/batch"):
            try:
                entry.subrequests = [
                    str(r.get("method", "")).upper() for r in json.loads(text)["batchRequests"]
                ]
            except (ValueError, KeyError, TypeError, AttributeError):
                entry.subrequests = []
        with self._lock:
            self.log.append(entry)
        status, out_headers, payload = self._dispatch(
            method, host, parts.path, parts.query, headers, text, entry
        )
        entry.status = status
        return status, out_headers, payload

    def _dispatch(
        self,
        method: str,
        host: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: str,
        entry: LoggedRequest,
    ) -> tuple[int, dict[str, str], bytes]:
        fault = self.faults.take(f"{method} {host}{path}?{unquote(query)}\n{body}")
        if fault is not None:
            if fault.kind == "timeout":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                return DROP, {}, b""
            elif fault.kind == "malformed":
                return (
                    200,
                    {"Content-Type": "application/json;charset=UTF-8"},
                    b'{"totalSize": 3, "done": true, "records": [{"attri',
                )
            elif fault.kind == "expire":
                token = _bearer(headers)
                with self._lock:
                    self.tokens.pop(token, None)
                return _json(
                    401, SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").body()
                )
            else:
                return _json(fault.status, SfError(fault.status, fault.code, fault.message).body())
        if path.startswith("/services/Soap/u/"):
            return self._soap_login(method, host, body)
        if path.rstrip("/") == "/services/oauth2/token":
            return self._token(method, host, headers, body)
        if path.rstrip("/") == "/services/oauth2/userinfo":
            return self._userinfo(method, headers)
        if path.rstrip("/") == "/services/data" and method in ("GET", "HEAD"):
            return _json(200, api_versions(self.max_api_version))
        match = re.fullmatch(r"/services/data/v(\d+\.\d+)(/.*)?", path.rstrip("/"))
        if not match:
            return _json(
                404, SfError(404, "NOT_FOUND", "The requested resource does not exist").body()
            )
        token = _bearer(headers)
        with self._lock:
            valid = token in self.tokens
        if not valid:
            return _json(
                401, SfError(401, "INVALID_SESSION_ID", "Session expired or invalid").body()
            )
        with self._lock:
            if self.api_used >= self.api_max:
                return _json(
                    403,
                    SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").body(),
                )
            self.api_used += 1
        version, rest = match.group(1), match.group(2) or "/"
        limit_header = {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_max}"}
        try:
            if method in ("GET", "HEAD"):
                result = self._get(version, rest, query, headers)
            elif method == "POST" and rest == "/composite/batch":
                result = self._batch(version, body)
            else:
                raise SfError(
                    405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed by the emulator"
                )
        except SfError as exc:
            status, hdrs, payload = _json(exc.status, exc.body())
            hdrs.update(limit_header)
            return status, hdrs, payload
        status, hdrs, payload = _json(200, result)
        hdrs.update(limit_header)
        return status, hdrs, payload

    def _base(self, version: str) -> str:
        return f"/services/data/v{version}"

    def _get(self, version: str, rest: str, query: str, headers: Mapping[str, str]) -> Any:
        params = {k: v[0] for k, v in parse_qs(query).items()}
        base = self._base(version)
        rest = rest.rstrip("/") or "/"
        if rest in ("/query", "/queryAll"):
            if "q" not in params:
                raise SfError(400, "MALFORMED_QUERY", "The q parameter is required")
            page = self.page_size
            options = headers.get("Sforce-Query-Options", "")
            size = re.search(r"batchSize\s*=\s*(\d+)", options)
            if size:
                page = max(200, min(page, int(size.group(1))))
            return self.run_query(params["q"], version, page)
        if rest == "/tooling/query":
            if "q" not in params:
                raise SfError(400, "MALFORMED_QUERY", "The q parameter is required")
            page = self.page_size
            size = re.search(r"batchSize\s*=\s*(\d+)", headers.get("Sforce-Query-Options", ""))
            if size:
                page = max(200, min(page, int(size.group(1))))
            return self.run_tooling_query(params["q"], version, page)
        more = re.fullmatch(r"/(?:tooling/)?query(?:All)?/([\w-]+)-(\d+)", rest)
        if more:
            return self._more(more.group(1), int(more.group(2)), version)
        if rest == "/sobjects":
            return self.model.describe_global(base)
        described = re.fullmatch(r"/sobjects/(\w+)/describe", rest)
        if described:
            name = described.group(1)
            self._check_access([name])
            result = self.model.describe(name, base)
            if result is None:
                raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
            return result
        retrieved = re.fullmatch(r"/sobjects/(\w+)/(\w{15}|\w{18})", rest)
        if retrieved:
            return self._retrieve(retrieved.group(1), retrieved.group(2), base)
        if rest == "/limits":
            return self.limits()
        if rest == "/limits/recordCount":
            wanted = {n.strip().lower() for n in params.get("sObjects", "").split(",") if n.strip()}
            left_out = self.faults.uncounted(self.model.objects)
            stale = self.faults.stale_counts()
            # Empty objects are left out, as in every recorded answer.
            counts = [
                {"count": stale.get(o.name.lower(), o.count), "name": o.name}
                for o in self.model.objects.values()
                if o.count
                and (not wanted or o.name.lower() in wanted)
                and o.name.lower() not in left_out
            ]
            return {"sObjects": counts}
        if rest == "/":
            return {
                "sobjects": f"{base}/sobjects",
                "query": f"{base}/query",
                "limits": f"{base}/limits",
            }
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")

    def limits(self) -> dict[str, Any]:
        """``GET /limits/``: the allowance, and the storage the org data sets
        (:meth:`OrgBuilder.storage`; left out when it sets none)."""
        storage = Storage.from_limits(self.model.data.limits)
        return {
            "DailyApiRequests": {
                "Max": self.api_max,
                "Remaining": max(0, self.api_max - self.api_used),
            },
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            **(storage.to_limits() if storage is not None else {}),
        }

    def _batch(self, version: str, body: str) -> dict[str, Any]:
        try:
            requests = json.loads(body)["batchRequests"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SfError(
                400, "JSON_PARSER_ERROR", f"Cannot parse the batch request: {exc}"
            ) from None
        if not isinstance(requests, list) or not 0 < len(requests) <= MAX_BATCH:
            raise SfError(
                400, "INVALID_BATCH_REQUEST", f"A batch holds 1 to {MAX_BATCH} subrequests"
            )
        results = []
        has_errors = False
        for sub in requests:
            method = str(sub.get("method", "")).upper()
            url = str(sub.get("url", ""))
            parts = urlsplit(url if url.startswith("/") else "/services/data/" + url)
            try:
                if method != "GET":
                    raise SfError(
                        400,
                        "INVALID_BATCH_REQUEST",
                        f"the emulator runs GET subrequests only, not {method}",
                    )
                sub_version = re.match(r"/services/data/v(\d+\.\d+)(/.*)?", parts.path)
                if sub_version is None:
                    raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
                result = self._get(
                    sub_version.group(1), sub_version.group(2) or "/", parts.query, {}
                )
                results.append({"statusCode": 200, "result": result})
            except SfError as exc:
                has_errors = True
                results.append({"statusCode": exc.status, "result": exc.body()})
        return {"hasErrors": has_errors, "results": results}

    def _retrieve(self, sobject: str, record_id: str, base: str) -> dict[str, Any]:
        """``GET sobjects/{name}/{id}``: one record with its fields (parents left out)."""
        self._check_access([sobject])
        rows = self.model.table(sobject)
        if rows is None:
            raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
        row = next((r for r in rows if str(r.get("Id", ""))[:15] == record_id[:15]), None)
        if row is None:
            raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
        name = self.model.canonical_name(sobject)
        out: dict[str, Any] = {
            "attributes": {"type": name, "url": f"{base}/sobjects/{name}/{row['Id']}"}
        }
        out.update(
            (k, v)
            for k, v in row.items()
            if k not in ("attributes", "_weight") and not isinstance(v, dict)
        )
        return out

    def _userinfo(
        self, method: str, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """``GET /services/oauth2/userinfo``: the OpenID Connect user info of the token's user
        (the Salesforce CLI reads ``user_id`` and ``organization_id`` from it)."""
        token = _bearer(headers)
        with self._lock:
            username = self.tokens.get(token)
        if username is None or method not in ("GET", "POST"):
            # Salesforce answers a bad token here with 403 and a plain-text body.
            return 403, {"Content-Type": "text/plain;charset=UTF-8"}, b"Bad_OAuth_Token"
        users = self.model.table("User") or []
        user = next((u for u in users if u.get("Username") == username), None) or (
            users[0] if users else {}
        )
        return _json(200, self.userinfo(user))

    def userinfo(self, user: Mapping[str, Any]) -> dict[str, Any]:
        """The userinfo body for ``user`` (a User row): the fields a real one carries."""
        info = self.model.data.info
        org15, user_id = info.id[:15], str(user.get("Id") or "005000000000001AAA")
        login = "https://login.salesforce.com"
        name = str(user.get("Name") or user.get("Username") or "")
        first, _, last = name.rpartition(" ")
        rest = f"{self.url}/services/data/v{{version}}"
        return {
            "sub": f"{login}/id/{info.id}/{user_id}",
            "user_id": user_id,
            "organization_id": info.id,
            "preferred_username": user.get("Username"),
            "nickname": str(user.get("Username") or "").split("@")[0],
            "name": name,
            "email": user.get("Email") or user.get("Username"),
            "email_verified": True,
            "given_name": first or None,
            "family_name": last,
            "zoneinfo": "Europe/Amsterdam",
            "photos": {
                "picture": f"{self.url}/profilephoto/005/F",
                "thumbnail": f"{self.url}/profilephoto/005/T",
            },
            "profile": f"{self.url}/{user_id}",
            "picture": f"{self.url}/profilephoto/005/F",
            "address": {"country": "NL"},
            "mobile_phone": None,
            "mobile_phone_verified": False,
            "urls": {
                "enterprise": f"{self.url}/services/Soap/c/{{version}}/{org15}",
                "metadata": f"{self.url}/services/Soap/m/{{version}}/{org15}",
                "partner": f"{self.url}/services/Soap/u/{{version}}/{org15}",
                "rest": f"{rest}/",
                "sobjects": f"{rest}/sobjects/",
                "search": f"{rest}/search/",
                "query": f"{rest}/query/",
                "recent": f"{rest}/recent/",
                "tooling_soap": f"{self.url}/services/Soap/T/{{version}}/{org15}",
                "tooling_rest": f"{rest}/tooling/",
                "profile": f"{self.url}/{user_id}",
                "feeds": f"{rest}/chatter/feeds",
                "groups": f"{rest}/chatter/groups",
                "users": f"{rest}/chatter/users",
                "feed_items": f"{rest}/chatter/feed-items",
                "feed_elements": f"{rest}/chatter/feed-elements",
                "custom_domain": self.url,
            },
            "active": bool(user.get("IsActive", True)),
            "user_type": str(user.get("UserType") or "Standard").upper(),
            "language": "en_US",
            "locale": "nl_NL",
            "utcOffset": 3600000,
            "updated_at": "2026-11-02T09:12:44Z",
            "is_app_installed": True,
        }

    def _check_access(self, sobjects: Iterable[str]) -> None:
        fault = self.faults.denied(sobjects)
        if fault is not None:
            raise SfError(fault.status, fault.code, fault.message)

    def run_query(
        self, soql: str, version: str = API_VERSION, page_size: int | None = None
    ) -> dict[str, Any]:
        """Answer one SOQL query (first page), as ``GET .../query?q=`` would."""
        base = self._base(version)
        recorded = self.model.recorded.get(" ".join(soql.split()).lower())
        try:
            query = _soql.parse(soql)
        except _soql.SoqlError as exc:
            if recorded is not None:
                return dict(recorded)
            raise SfError(400, "MALFORMED_QUERY", str(exc)) from None
        self._check_access(query.objects())
        if recorded is not None:
            return dict(recorded)
        rejected = self.faults.rejected(soql)
        if rejected is not None:
            raise SfError(rejected.status, rejected.code, rejected.message)
        self._check_owner(query, soql)
        rows = self._rows(query, soql)
        if query.is_count:
            if query.where is None:
                declared = self.model.declared_count(query.sobject)
                if declared is not None:
                    return {"totalSize": declared, "done": True, "records": []}
            total = sum(int(r.get("_weight", 1)) for r in rows)
            return {"totalSize": total, "done": True, "records": []}
        if query.is_aggregate:
            records = _soql.aggregate(query, rows)
            if query.group_by and len(records) > 2000:
                raise SfError(
                    400,
                    "MALFORMED_QUERY",
                    "Aggregate query does not support queryMore(), "
                    "use LIMIT to restrict the results to a single batch",
                )
            return {"totalSize": len(records), "done": True, "records": records}
        rows = self._expand(rows, query.sobject)
        for path, desc in reversed(query.order_by):
            rows.sort(key=_soql.sort_key(path), reverse=desc)
        if query.limit is not None:
            rows = rows[: query.limit]
        sobject = self.model.canonical_name(query.sobject)
        paths = [i.path for i in query.items if i.path]
        records = [_soql.project(r, paths, sobject, base) for r in rows]
        return self._page(records, 0, page_size or self.page_size, version)

    def run_tooling_query(
        self, soql: str, version: str = API_VERSION, page_size: int | None = None
    ) -> dict[str, Any]:
        """Answer one Tooling API query (first page), as ``GET .../tooling/query?q=``
        would: the query shape plus ``entityTypeName``, paged with ``nextRecordsUrl``."""
        try:
            query = _soql.parse(soql)
        except _soql.SoqlError as exc:
            raise SfError(400, "MALFORMED_QUERY", str(exc)) from None
        self._check_access(query.objects())
        table = self.model.tooling.get(query.sobject.lower())
        if table is None:
            raise SfError(400, "INVALID_TYPE", invalid_type_message(soql, query.sobject))
        rows = [r for r in table if _soql.matches(query.where, r, self._semijoin)]
        entity = next((str(r["attributes"]["type"]) for r in table), query.sobject)
        if query.is_count:
            return {"size": len(rows), "totalSize": len(rows), "done": True, "records": [],
                    "entityTypeName": entity, "queryLocator": None}  # fmt: skip
        base = self._base(version) + "/tooling"
        paths = [i.path for i in query.items if i.path]
        records = [_soql.project(r, paths, entity, base) for r in rows]
        return self._page(records, 0, page_size or self.page_size, version, entity=entity)

    def _check_owner(self, query: _soql.Query, soql: str) -> None:
        """``OwnerId`` on an object declared without an owner: 400 ``INVALID_FIELD``."""
        obj = self.model.objects.get(query.sobject.lower())
        if obj is None or obj.ownable:
            return
        for path in query.fields():
            head = path.split(".")[0]
            if head.lower() in ("ownerid", "owner"):
                raise SfError(400, "INVALID_FIELD", no_such_column_message(soql, head, obj.name))

    def _rows(self, query: _soql.Query, soql: str = "") -> list[dict[str, Any]]:
        name = query.sobject.lower()
        if name == "userpermissionaccess":
            table: list[dict[str, Any]] | None = [
                {"attributes": {"type": "UserPermissionAccess"}, **self.user_permissions}
            ]
        else:
            table = self.model.table(query.sobject)
        if table is None:
            raise SfError(400, "INVALID_TYPE", invalid_type_message(soql, query.sobject))
        if name == "oauthtoken" and not self.user_permissions.get(
            "PermissionsCustomizeApplication"
        ):
            own = (self.api_user_id or "")[:15]
            table = [r for r in table if str(r.get("UserId") or "")[:15] == own]
        return [r for r in table if _soql.matches(query.where, r, self._semijoin)]

    def _semijoin(self, sub: _soql.Query) -> frozenset[Any]:
        """The values a sub-select yields; the model does not change, so keep them."""
        key = repr(sub)
        with self._lock:
            found = self._joins.get(key)
        if found is None:
            path = sub.items[0].path or "Id"
            rows = self._expand(self._rows(sub), sub.sobject)
            found = frozenset(_soql.value_key(_soql.get_path(r, path)) for r in rows)
            with self._lock:
                self._joins[key] = found
        return found

    def _expand(self, rows: list[dict[str, Any]], sobject: str) -> list[dict[str, Any]]:
        """Weighted (virtual) rows become records with generated Ids."""
        if not any("_weight" in r for r in rows):
            return rows
        out: list[dict[str, Any]] = []
        counter = itertools.count(1)
        for row in rows:
            for _ in range(int(row.get("_weight", 1))):
                record = {k: v for k, v in row.items() if k != "_weight"}
                record["Id"] = f"a0V{next(counter):015d}"
                out.append(record)
        return out

    def _page(
        self,
        records: list[dict[str, Any]],
        start: int,
        size: int,
        version: str,
        entity: str | None = None,
    ) -> dict[str, Any]:
        """One page; ``entity`` makes it a Tooling API page (``entityTypeName``)."""
        end = start + size
        page: dict[str, Any] = {
            "totalSize": len(records),
            "done": end >= len(records),
            "records": records[start:end],
        }
        if entity is not None:
            page = {"size": len(page["records"]), **page, "entityTypeName": entity}
        if end < len(records):
            locator = f"01g{uuid.uuid4().hex[:15]}"
            if self.faults.take_kind("locator") is None:
                with self._lock:
                    self._cursors[locator] = (records, size)
                    if entity is not None:
                        self._entities[locator] = entity
            where = "/tooling/query" if entity is not None else "/query"
            page["nextRecordsUrl"] = f"{self._base(version)}{where}/{locator}-{end}"
        return page

    def _more(self, locator: str, start: int, version: str) -> dict[str, Any]:
        with self._lock:
            cursor = self._cursors.get(locator)
            entity = self._entities.get(locator)
        if cursor is None:
            raise SfError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, size = cursor
        return self._page(records, start, size, version, entity=entity)

    # --- login ----------------------------------------------------------------------

    def _soap_login(self, method: str, host: str, body: str) -> tuple[int, dict[str, str], bytes]:
        if method != "POST":
            return _soap_fault("INVALID_OPERATION", "SOAP login is a POST")
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            return _soap_fault("INVALID_SOAP_REQUEST", f"cannot parse the envelope: {exc}")
        username = password = None
        for el in root.iter():
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "username":
                username = html.unescape(el.text or "")
            elif tag == "password":
                password = html.unescape(el.text or "")
        known = self.logins.get(username or "")
        if known is None or password != known[0] + known[1]:
            return _soap_fault(
                "INVALID_LOGIN", "Invalid username, password, security token; or user locked out."
            )
        token = self.new_session(username or "")
        info = self.model.data.info
        server = f"{self.url}/services/Soap/u/{API_VERSION}/{info.id[:15]}"
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<soapenv:Body><loginResponse><result>"
            f"<metadataServerUrl>{self.url}/services/Soap/m/{API_VERSION}/{info.id[:15]}</metadataServerUrl>"
            "<passwordExpired>false</passwordExpired>"
            f"<sandbox>{str(info.is_sandbox).lower()}</sandbox>"
            f"<serverUrl>{server}</serverUrl>"
            f"<sessionId>{token}</sessionId>"
            f"<userId>005000000000001AAA</userId>"
            f"<userInfo><organizationId>{info.id}</organizationId><organizationName>{html.escape(info.name)}</organizationName>"
            f"<userName>{html.escape(username or '')}</userName></userInfo>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, xml.encode()

    def _token(
        self, method: str, host: str, headers: Mapping[str, str], body: str
    ) -> tuple[int, dict[str, str], bytes]:
        if method != "POST":
            return _oauth_error(400, "invalid_request", "must use HTTP POST")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        username: str | None
        if grant == "password":
            app = self.apps.get(form.get("client_id", ""))
            if app is None:
                return _oauth_error(400, "invalid_client_id", "client identifier invalid")
            if form.get("client_secret") != app.consumer_secret:
                return _oauth_error(400, "invalid_client", "invalid client credentials")
            username = form.get("username", "")
            known = self.logins.get(username)
            if known is None or form.get("password") not in (known[0], known[0] + known[1]):
                return _oauth_error(400, "invalid_grant", "authentication failure")
        elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            checked = self._check_jwt(form.get("assertion", ""), host)
            if isinstance(checked, tuple):
                return checked
            username = checked
        elif grant == "client_credentials":
            if not host.split(":")[0].endswith(".my.salesforce.com"):
                return _oauth_error(400, "invalid_grant", "request not supported on this domain")
            key, secret = _basic(headers)
            app = self.apps.get(key or form.get("client_id", ""))
            if app is None or (secret or form.get("client_secret")) != app.consumer_secret:
                return _oauth_error(400, "invalid_client", "invalid client credentials")
            if not app.run_as:
                return _oauth_error(400, "invalid_grant", "no client credentials user enabled")
            username = app.run_as
        else:
            return _oauth_error(400, "unsupported_grant_type", "grant type not supported")
        token = self.new_session(username or "")
        info = self.model.data.info
        payload = {
            "access_token": token,
            "instance_url": self.url,
            "id": f"https://login.salesforce.com/id/{info.id}/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
            "scope": "api",
        }
        return _json(200, payload)

    def _check_jwt(self, assertion: str, host: str) -> str | tuple[int, dict[str, str], bytes]:
        import jwt

        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error(400, "invalid_grant", "invalid assertion")
        if header.get("alg") != "RS256":
            return _oauth_error(400, "invalid_grant", "invalid assertion: alg must be RS256")
        missing = [c for c in ("iss", "sub", "aud", "exp") if c not in claims]
        if missing:
            return _oauth_error(
                400, "invalid_grant", f"invalid assertion: missing {', '.join(missing)}"
            )
        app = self.apps.get(str(claims["iss"]))
        if app is None or app.public_key_pem is None:
            return _oauth_error(400, "invalid_client_id", "client identifier invalid")
        audience = f"https://{host.split(':')[0]}"
        if not host.startswith("127.0.0.1") and claims["aud"] != audience:
            return _oauth_error(400, "invalid_grant", f"audience is invalid: expected {audience}")
        try:
            jwt.decode(
                assertion,
                app.public_key_pem,
                algorithms=["RS256"],
                audience=str(claims["aud"]),
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            return _oauth_error(400, "invalid_grant", "expired authorization code")
        except jwt.PyJWTError as exc:
            return _oauth_error(400, "invalid_grant", f"invalid assertion: {exc}")
        if float(claims["exp"]) > time.time() + 5 * 60 + 30:
            return _oauth_error(
                400, "invalid_grant", "invalid assertion: exp is more than 5 minutes ahead"
            )
        if str(claims["sub"]) not in self.logins:
            return _oauth_error(400, "invalid_grant", "user hasn't approved this consumer")
        return str(claims["sub"])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    emulator: SalesforceEmulator
    server_version = "SalesforceEmulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the emulator keeps its own log."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host", "")
        status, headers, payload = self.emulator.handle(
            self.command, host, self.path, dict(self.headers), body
        )
        if status == DROP:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header(
                "Date", dt.datetime.now(dt.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
            )
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(payload).encode()


def invalid_type_message(soql: str, sobject: str) -> str:
    """The INVALID_TYPE message of a query on an unknown object, shaped like the one
    recorded from a real org (SFDO-Tooling/CumulusCI, TestCountSObjects cassettes): the
    query echoed, a caret under the object, its row and column, then the explanation."""
    text = " ".join(soql.split()) or f"SELECT Id FROM {sobject}"
    found = re.search(rf"\bFROM\s+({re.escape(sobject)})\b", text, re.IGNORECASE)
    column = found.start(1) if found else 0
    return (
        f"\n{text}\n{' ' * column}^\nERROR at Row:1:Column:{column + 1}\n"
        f"sObject type '{sobject}' is not supported. If you are attempting to use a "
        "custom object, be sure to append the '__c' after the entity name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )


def no_such_column_message(soql: str, written: str, entity: str) -> str:
    """The INVALID_FIELD message of a query naming a field (or a relationship, with a
    dot after it) the object lacks, in the shape of :func:`invalid_type_message` (the
    query, a caret under the field, its row and column) and Salesforce's wording:
    "No such column 'OwnerId' on entity 'Product2'", or "Didn't understand relationship
    'Owner' in field path"."""
    text = " ".join(soql.split())
    found = re.search(rf"\b{re.escape(written)}(\.?)", text, re.IGNORECASE)
    at = found.start() if found else 0
    if found and found.group(1):
        said = (
            f"Didn't understand relationship '{written}' in field path. If you are "
            "attempting to use a custom relationship, be sure to append the '__r' after "
            "the custom relationship name."
        )
    else:
        said = (
            f"No such column '{written}' on entity '{entity}'. If you are attempting to use "
            "a custom field, be sure to append the '__c' after the custom field name."
        )
    return (
        f"\n{text}\n{' ' * at}^\nERROR at Row:1:Column:{at + 1}\n{said} Please "
        "reference your WSDL or the describe call for the appropriate names."
    )


def api_versions(newest: str) -> list[dict[str, str]]:
    """``GET /services/data``: every API version up to ``newest``, oldest first, as
    ``{"label": "Winter '11", "url": "/services/data/v20.0", "version": "20.0"}``
    (three releases a year; v20.0 was Winter '11)."""
    out = []
    for number in range(20, int(float(newest)) + 1):
        n = number - 20
        season = ("Winter", "Spring", "Summer")[n % 3]
        out.append(
            {
                "label": f"{season} '{11 + n // 3:02d}",
                "url": f"/services/data/v{number}.0",
                "version": f"{number}.0",
            }
        )
    return out


def _oauth_error(status: int, error: str, description: str) -> tuple[int, dict[str, str], bytes]:
    return _json(status, {"error": error, "error_description": description})


def _soap_fault(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode>"
        f"<faultstring>{code}: {html.escape(message)}</faultstring><detail>"
        f'<sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode>'
        f"<sf:exceptionMessage>{html.escape(message)}</sf:exceptionMessage></sf:LoginFault>"
        "</detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return 500, {"Content-Type": "text/xml; charset=utf-8"}, xml.encode()


def _bearer(headers: Mapping[str, str]) -> str:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


def _basic(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if not value.lower().startswith("basic "):
        return None, None
    try:
        key, _, secret = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None, None
    return key, secret


__all__ = [
    "API_VERSION",
    "MAX_API_VERSION",
    "Fault",
    "Faults",
    "LoggedRequest",
    "SalesforceEmulator",
    "SfError",
    "api_versions",
]
