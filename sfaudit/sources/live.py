"""The live org source (a built-in plugin): ``live`` and ``sf:ALIAS``, through simple-salesforce.

Read-only by construction (:class:`~sfaudit.sources._http.ReadOnlySession`) and
economical: a full audit makes :func:`audit_requests` requests, which grow with the
org as ``5 + ⌈users ÷ page size⌉ + ⌈objects with records ÷ 25⌉``. Everything is
fetched when a check first asks for it, and kept for the run:

- on opening: one ``composite/batch`` with ``/limits`` (and the data and file
  storage), ``limits/recordCount`` and a ``COUNT()`` of the users (the allowance
  floor: :func:`audit_requests`), and the small tables (Organization, UserLicense,
  queues, CronTrigger);
- ``objects()``: describe global, a ``COUNT()`` of each custom object the record
  counts leave out, then, for every object holding records, the ownership aggregate
  ``SELECT OwnerId, COUNT(Id) ... GROUP BY OwnerId`` (restricted server-side to owners
  that are not active custodians: an anti-join), 25 per ``composite/batch``. An
  ``INVALID_FIELD`` "No such column 'OwnerId'" answer means the object has no owner;
  an object whose aggregate fails for any other reason is described instead, so
  ownability is never guessed. No describe otherwise: ``queue_ownable`` is read from
  the describes of ownable objects when something first asks for it;
- ``users()``: User, the Modify-All-Data PermissionSetAssignments and frozen
  UserLogins, first pages in one batch, then ``queryMore``;
- ``ownership()``: the answers of those aggregates, when they were asked for the same
  custodians (or ``ownership()`` asks for none); otherwise one query per object,
  25 per batch;
- ``loose_ends()``: installed packages and their licences, connected apps, named
  credentials, remote sites, outbound messages, inbound addresses, sites, networks and
  the API user's permissions, in one batch of 13; ``oauth_usage()``: one aggregate
  query, in that batch when asked first.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from ..config import Config
from ..errors import DataUnavailable, SfauditError, SourceError
from ..hookspecs import hookimpl
from . import Org, aggregate_tokens
from . import _loose_ends as loose
from ._auth import RELOGIN_FLOWS, Credentials, from_env, from_sf_cli
from .model import (
    License,
    OAuthUsage,
    OrgInfo,
    OwnershipCount,
    Queue,
    ScheduledJob,
    SObjectInfo,
    Storage,
    User,
    _parse_date,
    _parse_dt,
)

if TYPE_CHECKING:
    from ._http import ReadOnlySession

T = TypeVar("T")

DEFAULT_API_VERSION = "59.0"
BATCH_SIZE = 25
DEFAULT_PAGE_SIZE = 2000
#: The requests of every full audit that do not grow with the org: the opening batch,
#: describe global, the metadata inventory and the loose-ends batch of
#: installed-packages, integrations, inbound-email and public-sites (besides the login).
FIXED_REQUESTS = 4


def audit_requests(
    objects: int,
    users: int,
    page_size: int | None = None,
    *,
    uncounted: int = 0,
    login: bool = True,
) -> int:
    """The requests a full audit makes, as the README states it:
    ``login + 4 + ⌈objects ÷ 25⌉ + ⌈users ÷ page size⌉ (+ ⌈uncounted ÷ 25⌉)``.
    The allowance floor keeps this many in hand before an audit starts (see
    benchmarks/api_calls.py, which measures it).

    :param objects: objects with records that may have an owner: one ``GROUP BY OwnerId``
        aggregate each, 25 per ``composite/batch``.
    :param users: users in the org: one page of ``page_size`` (default 2,000) per request,
        the first one inside a batch.
    :param uncounted: custom objects ``limits/recordCount`` leaves out (the empty ones,
        mostly), counted with ``COUNT()``, 25 per batch. The floor cannot know them when
        the audit opens (they show in describe global): it takes 0.
    :param login: whether the credentials log in (not a session id or ``sf:ALIAS``).

    Not counted, because rare: describes of objects whose aggregate fails for a reason
    other than having no owner, ``queryMore`` pages of a metadata type past its first
    2,000 components, ownership asked for other custodians than ``record-ownership``
    names, and the queries of checks that ask their own (``org.count()``, ``org.query()``).
    """
    pages = max(1, math.ceil(max(0, users) / (page_size or DEFAULT_PAGE_SIZE)))
    per_object = math.ceil(max(0, objects) / BATCH_SIZE) + math.ceil(max(0, uncounted) / BATCH_SIZE)
    return int(login) + FIXED_REQUESTS + per_object + pages


USERS_SOQL = (
    "SELECT Id, Username, Name, Email, IsActive, UserType, LastLoginDate, "
    "Profile.Name, Profile.UserLicense.Name FROM User"
)
ADMINS_SOQL = (
    "SELECT AssigneeId, PermissionSet.Name, PermissionSet.IsOwnedByProfile, "
    "PermissionSet.Profile.Name FROM PermissionSetAssignment "
    "WHERE PermissionSet.PermissionsModifyAllData = true"
)
FROZEN_SOQL = "SELECT UserId FROM UserLogin WHERE IsFrozen = true"
ORG_SOQL = (
    "SELECT Id, Name, OrganizationType, IsSandbox, TrialExpirationDate, InstanceName, "
    "CreatedDate FROM Organization"
)
LICENSES_SOQL = "SELECT Name, MasterLabel, Status, TotalLicenses, UsedLicenses FROM UserLicense"
QUEUES_SOQL = "SELECT Id, Name FROM Group WHERE Type = 'Queue'"
JOBS_SOQL = (
    "SELECT Id, CronJobDetail.Name, CronJobDetail.JobType, State, NextFireTime, "
    "PreviousFireTime, CronExpression, OwnerId FROM CronTrigger"
)

#: What to grant when the API user cannot read an object.
GRANTS = {
    "UserLogin": "the 'Manage Users' permission (UserLogin tells frozen users apart)",
    "PermissionSetAssignment": "'View Setup and Configuration' (to see who holds Modify All Data)",
    "PermissionSet": "'View Setup and Configuration'",
    "CronTrigger": "'View Setup and Configuration' (to list scheduled jobs)",
    "UserLicense": "'View Setup and Configuration' (to read licence counts)",
    "Organization": "'View Setup and Configuration'",
    "User": "'View All Users'",
    "Group": "'View Setup and Configuration' (to list queues)",
    "OauthToken": loose.TOKEN_GRANT,
    **{r.sobject: r.grant for r in loose.BATCH},
}
_PERMISSION_CODES = frozenset(
    {"INSUFFICIENT_ACCESS", "INSUFFICIENT_ACCESS_OR_READONLY", "INVALID_TYPE"}
)
#: Objects that never have an owner, by their suffix: never asked.
_NEVER_OWNABLE = ("__mdt", "__e", "__b", "__x", "History", "Share", "Feed", "ChangeEvent", "__Tag")
USERS_COUNT_SOQL = "SELECT COUNT() FROM User"
ACTIVE_USERS_SOQL = "SELECT Id FROM User WHERE IsActive = true"


class LiveOrg(Org):
    """The org facade over a live Salesforce org.

    :param credentials: how to log in (:func:`~sfaudit.sources._auth.from_env`).
    :param api_version: REST API version, without a ``v``; default: the one the
        credentials report (the Salesforce CLI's ``apiVersion``), else 59.0.
    :param page_size: query page size (200 to 2000): the ``batchSize`` query option.
    :param min_api_remaining_pct: stop (:class:`SourceError`, exit 3) rather than let
        the daily API allowance fall below this share.
    :param timeout: seconds per HTTP attempt; :param retries: attempts after the first.
    :param login_url: ``SF_LOGIN_URL``, for the local emulator.
    :param custodians: usernames the ownership aggregates keep out (the ones
        ``record-ownership`` names), so that ``ownership()`` for them costs nothing more.
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_version: str | None = None,
        page_size: int | None = None,
        min_api_remaining_pct: float = 10.0,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        login_url: str | None = None,
        custodians: Sequence[str] = (),
    ) -> None:
        super().__init__()
        from ._http import ReadOnlySession

        self.credentials = credentials
        self.source = "sf" if credentials.flow == "sf-cli" else "live"
        version = api_version or credentials.api_version or DEFAULT_API_VERSION
        self.api_version = version.lstrip("vV")
        self.page_size = page_size
        self.min_api_remaining_pct = min_api_remaining_pct
        self.session: ReadOnlySession = ReadOnlySession(
            timeout=timeout, retries=retries, backoff=backoff, login_url=login_url
        )
        self._fatal: SourceError | None = None
        self._limits: dict[str, Any] = {}
        self._storage: Storage | None = None
        self._custodians = tuple(dict.fromkeys(str(c) for c in custodians if str(c)))
        #: the opening batch's ``limits/recordCount`` answer, for :meth:`_fetch_objects`
        self._record_counts: tuple[int, Any] = (0, None)
        #: object -> its ownership aggregate's rows (for ``self._custodians``)
        self._owner_rows: dict[str, list[dict[str, Any]]] = {}
        #: ownable object -> whether queues can own it (from its describe, when asked)
        self._queue_ownable: dict[str, bool] = {}
        self.sf = self._login()
        if credentials.flow in RELOGIN_FLOWS:
            self.session.max_logins = self.session.logins + 1
        self._open()

    # --- plumbing -----------------------------------------------------------------

    def _login(self) -> Any:
        from simple_salesforce.api import Salesforce

        kwargs = dict(self.credentials.kwargs)
        if self.credentials.flow not in ("session", "sf-cli"):
            kwargs["domain"] = self.credentials.domain
        return self._call(
            "logging in",
            lambda: Salesforce(session=self.session, version=self.api_version, **kwargs),
        )

    def _call(self, what: str, func: Callable[[], T], sobject: str | None = None) -> T:
        """Run one client call; turn every failure into a clear sfaudit error."""
        import requests
        from simple_salesforce import exceptions as sfe

        if self._fatal is not None:
            raise self._fatal
        self._check_floor()
        try:
            return func()
        except SfauditError:
            raise
        except sfe.SalesforceAuthenticationFailed as exc:
            raise self._stop(
                _auth_error(self.credentials, str(exc.code), str(exc.message))
            ) from None
        except sfe.SalesforceError as exc:
            raise self._translate(exc, what, sobject) from None
        except json.JSONDecodeError:
            raise SourceError(
                f"Salesforce answered {what} with a body that is not valid JSON",
                hint="a proxy or an outage may be answering for Salesforce; try again later",
            ) from None
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            if not _timed_out(exc):
                raise SourceError(
                    f"could not reach Salesforce for {what}: {type(exc).__name__}",
                    hint="check the network, proxy variables and REQUESTS_CA_BUNDLE",
                ) from None
            raise SourceError(
                f"Salesforce did not answer {what} within {self.session.timeout:g}s "
                f"({self.session.retries} retries)",
                hint="try again later, or raise SF_TIMEOUT (seconds)",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise SourceError(
                f"could not reach Salesforce for {what}: {type(exc).__name__}",
                hint="check the network, proxy variables and REQUESTS_CA_BUNDLE",
            ) from None

    def _stop(self, error: SourceError) -> SourceError:
        """A failure after which no further request is made."""
        self._fatal = error
        return error

    def _translate(self, exc: Any, what: str, sobject: str | None) -> Exception:
        status = int(getattr(exc, "status", 0) or 0)
        code, message = _error_of(getattr(exc, "content", None))
        if code == "REQUEST_LIMIT_EXCEEDED":
            return self._stop(
                SourceError(
                    "the org's daily API request allowance is used up (REQUEST_LIMIT_EXCEEDED); "
                    f"sfaudit stopped at {what}",
                    hint="wait for the 24-hour window to free requests, or ask Salesforce "
                    "(or your admin) to raise the org's API limit",
                )
            )
        if status == 401:
            if self.credentials.flow in RELOGIN_FLOWS:
                return self._stop(
                    SourceError(
                        f"Salesforce ended the session during {what} "
                        "and logging in again did not help",
                        hint="check that the user is active and the credentials are still valid",
                    )
                )
            hint = (
                f"refresh it: `sf org login web --alias {self.credentials.alias}`"
                if self.credentials.flow == "sf-cli"
                else "get a fresh SF_ACCESS_TOKEN, or use a flow that can log in again "
                "(username + password, JWT or client credentials)"
            )
            return self._stop(
                SourceError(
                    f"the session expired or is invalid ({code or 401}) during {what}", hint=hint
                )
            )
        if code in ("API_DISABLED_FOR_ORG", "API_CURRENTLY_DISABLED"):
            return self._stop(
                SourceError(
                    f"the API is not available to this user ({code}: {message})",
                    hint="grant the 'API Enabled' permission to the user "
                    "(profile or permission set); "
                    "Professional Edition needs the API add-on",
                )
            )
        if code in _PERMISSION_CODES or (status == 403 and sobject):
            name = sobject or "the data"
            grant = GRANTS.get(sobject or "", f"read access to {name} (object permission 'Read')")
            return DataUnavailable(
                f"the API user cannot read {name} ({code or status}: {message}); grant {grant}",
                permission=True,
            )
        if status == 403:
            return self._stop(
                SourceError(
                    f"Salesforce refused {what} ({code or 403}: {message})",
                    hint="grant the user 'API Enabled' and 'View Setup and Configuration'",
                )
            )
        if status == 404:
            return DataUnavailable(f"Salesforce has no resource for {what} ({message})")
        if code == "INVALID_QUERY_LOCATOR":
            return SourceError(
                f"Salesforce no longer knows the queryMore cursor of {what} "
                f"(INVALID_QUERY_LOCATOR: {message.strip()})",
                hint="run the audit again; cursors expire after 15 idle minutes and a user "
                "holds at most 10 open, so avoid running other jobs as the same API user",
            )
        if status == 400:
            return SourceError(f"Salesforce rejected {what} ({code}: {message.strip()})")
        return SourceError(
            f"Salesforce answered {status} to {what} after {self.session.retries} retries "
            f"({code or message})",
            hint="Salesforce may be having an outage (status.salesforce.com); try again later",
        )

    def _check_floor(self) -> None:
        usage = self.session.api_usage
        if usage is None or usage[1] <= 0:
            return
        used, limit = usage
        remaining_pct = 100.0 * (limit - used) / limit
        if remaining_pct < self.min_api_remaining_pct:
            raise self._stop(
                _floor_error(limit - used, limit, self.min_api_remaining_pct, stopped=True)
            )

    def _query_headers(self) -> dict[str, str]:
        return {"Sforce-Query-Options": f"batchSize={self.page_size}"} if self.page_size else {}

    def _pages(
        self, page: dict[str, Any], what: str, sobject: str | None
    ) -> Iterator[dict[str, Any]]:
        """A query's first ``page``, then every next one (following ``nextRecordsUrl``)."""
        yield page
        while not page.get("done", True) and page.get("nextRecordsUrl"):
            url = str(page["nextRecordsUrl"])
            page = self._call(
                what,
                functools.partial(
                    self.sf.query_more, url, identifier_is_url=True, headers=self._query_headers()
                ),
                sobject,
            )
            yield page

    def _more(self, page: dict[str, Any], what: str, sobject: str | None) -> list[dict[str, Any]]:
        """Every record of a query, following ``nextRecordsUrl``."""
        return [r for p in self._pages(page, what, sobject) for r in p.get("records") or []]

    def query_all(self, soql: str, sobject: str | None = None) -> dict[str, Any]:
        """One query, every page: ``{"totalSize", "done": True, "records"}``."""
        what = f"the query {soql!r}"
        first = self._call(
            what, lambda: self.sf.query(soql, headers=self._query_headers()), sobject
        )
        return {
            "totalSize": first.get("totalSize", 0),
            "done": True,
            "records": self._more(first, what, sobject),
        }

    def batch(self, paths: Sequence[str], what: str) -> list[tuple[int, Any]]:
        """GET ``paths`` (relative to ``/services/data/vXX.X/``) through ``composite/batch``,
        25 per request: ``[(status, result)]`` in order."""
        out: list[tuple[int, Any]] = []
        for start in range(0, len(paths), BATCH_SIZE):
            chunk = paths[start : start + BATCH_SIZE]
            body = {
                "batchRequests": [
                    {"method": "GET", "url": f"v{self.api_version}/{p}"} for p in chunk
                ],
                "haltOnError": False,
            }
            answer = self._call(
                what,
                functools.partial(self.sf.restful, "composite/batch", method="POST", json=body),
            )
            results = (answer or {}).get("results") or []
            if len(results) != len(chunk):
                raise SourceError(
                    f"Salesforce answered {what} with {len(results)} results "
                    f"for {len(chunk)} requests"
                )
            out.extend((int(r.get("statusCode", 0)), r.get("result")) for r in results)
        return out

    def _batch_queries(
        self, queries: Sequence[tuple[str, str]], what: str
    ) -> dict[str, dict[str, Any] | DataUnavailable]:
        """First pages of several queries in one batch, then ``queryMore`` for each.

        :param queries: ``(soql, object it reads)`` pairs.
        :return: soql → full result, or the :class:`DataUnavailable` its error means.
        """
        paths = [f"query?q={quote(soql)}" for soql, _ in queries]
        out: dict[str, dict[str, Any] | DataUnavailable] = {}
        for (soql, sobject), (status, result) in zip(queries, self.batch(paths, what), strict=True):
            if status >= 300:
                error = self._subrequest_error(status, result, f"the query {soql!r}", sobject)
                if isinstance(error, DataUnavailable):
                    out[soql] = error
                    continue
                raise error
            records = self._more(result, f"the query {soql!r}", sobject)
            out[soql] = {"totalSize": result.get("totalSize", 0), "done": True, "records": records}
        return out

    def _subrequest_error(
        self, status: int, result: Any, what: str, sobject: str | None
    ) -> Exception:
        from simple_salesforce.exceptions import SalesforceError

        exc = SalesforceError(what, status, what, result)
        return self._translate(exc, what, sobject)

    # --- opening ------------------------------------------------------------------

    def _open(self) -> None:
        """One batch: the allowance (checked against the floor), the record counts, the
        number of users (what :func:`audit_requests` needs) and the small tables."""
        small = [
            (ORG_SOQL, "Organization"),
            (LICENSES_SOQL, "UserLicense"),
            (QUEUES_SOQL, "Group"),
            (JOBS_SOQL, "CronTrigger"),
        ]
        paths = ["limits", "limits/recordCount", f"query?q={quote(USERS_COUNT_SOQL)}"]
        answers = self.batch(
            paths + [f"query?q={quote(soql)}" for soql, _ in small],
            "the org's limits and settings",
        )
        (status, limits), self._record_counts, (u_status, u_count) = answers[: len(paths)]
        if status < 300 and isinstance(limits, dict):
            self._storage = Storage.from_limits(limits)
            self._limits = dict(limits.get("DailyApiRequests") or {})
            limit = int(self._limits.get("Max") or 0)
            remaining = int(self._limits.get("Remaining") or 0)
            users = int(u_count.get("totalSize") or 0) if isinstance(u_count, dict) else 0
            needed = audit_requests(
                len(_owner_candidates(_counts_of(self._record_counts))),
                users if u_status < 300 else 0,
                self.page_size,
                login=self.credentials.flow in RELOGIN_FLOWS,
            )
            if limit > 0 and 100.0 * (remaining - needed) / limit < self.min_api_remaining_pct:
                raise self._stop(
                    _floor_error(
                        remaining, limit, self.min_api_remaining_pct, stopped=False, needed=needed
                    )
                )
        for (soql, sobject), (status, result) in zip(small, answers[len(paths) :], strict=True):
            key = {
                "Organization": "raw-info",
                "UserLicense": "raw-licenses",
                "Group": "raw-queues",
                "CronTrigger": "raw-jobs",
            }[sobject]
            if status >= 300:
                error = self._subrequest_error(status, result, f"the query {soql!r}", sobject)
                if not isinstance(error, DataUnavailable):
                    raise error
                self._cache[key] = error
                continue
            self._cache[key] = self._more(result, f"the query {soql!r}", sobject)

    def _small(self, key: str, soql: str, sobject: str) -> list[dict[str, Any]]:
        cached = self._cache.get(key)
        if isinstance(cached, DataUnavailable):
            raise cached
        if cached is None:
            cached = self.query_all(soql, sobject)["records"]
        return list(cached)

    # --- the facade's sources ---------------------------------------------------------

    def _fetch_info(self) -> OrgInfo:
        rows = self._small("raw-info", ORG_SOQL, "Organization")
        if not rows:
            raise DataUnavailable("Salesforce returned no Organization row")
        row = rows[0]
        return OrgInfo(
            id=str(row.get("Id") or ""),
            name=str(row.get("Name") or ""),
            edition=str(row.get("OrganizationType") or ""),
            is_sandbox=bool(row.get("IsSandbox")),
            instance=str(row.get("InstanceName") or ""),
            trial_expiration=_parse_date(row.get("TrialExpirationDate")),
            created_date=_parse_date(row.get("CreatedDate")),
        )

    def _fetch_storage(self) -> Storage:
        """From the ``/limits`` answer :meth:`_open` read: no request of its own."""
        if self._storage is None:
            raise DataUnavailable(
                "Salesforce's /limits answer held no DataStorageMB or FileStorageMB"
            )
        return self._storage

    def _fetch_licenses(self) -> list[License]:
        return [
            License(
                name=str(r.get("Name") or r.get("MasterLabel") or ""),
                status=str(r.get("Status") or ""),
                total=int(r.get("TotalLicenses") or 0),
                used=int(r.get("UsedLicenses") or 0),
            )
            for r in self._small("raw-licenses", LICENSES_SOQL, "UserLicense")
        ]

    def _fetch_queues(self) -> list[Queue]:
        return [
            Queue(id=str(r["Id"]), name=str(r.get("Name") or ""))
            for r in self._small("raw-queues", QUEUES_SOQL, "Group")
        ]

    def _fetch_scheduled_jobs(self) -> list[ScheduledJob]:
        jobs = []
        for r in self._small("raw-jobs", JOBS_SOQL, "CronTrigger"):
            detail = r.get("CronJobDetail") or {}
            jobs.append(
                ScheduledJob(
                    id=str(r.get("Id") or ""),
                    name=str(detail.get("Name") or ""),
                    job_type=str(detail.get("JobType") or ""),
                    state=str(r.get("State") or ""),
                    next_fire=_parse_dt(r.get("NextFireTime")),
                    previous_fire=_parse_dt(r.get("PreviousFireTime")),
                    cron=str(r.get("CronExpression") or ""),
                    owner_id=str(r.get("OwnerId") or ""),
                )
            )
        return jobs

    def _fetch_users(self) -> list[User]:
        answers = self._batch_queries(
            [
                (USERS_SOQL, "User"),
                (ADMINS_SOQL, "PermissionSetAssignment"),
                (FROZEN_SOQL, "UserLogin"),
            ],
            "the users",
        )
        for answer in answers.values():
            if isinstance(answer, DataUnavailable):
                raise answer
        admin_via: dict[str, list[str]] = {}
        for row in _records(answers[ADMINS_SOQL]):
            ps = row.get("PermissionSet") or {}
            if ps.get("IsOwnedByProfile"):
                grant = f"profile:{(ps.get('Profile') or {}).get('Name') or ps.get('Name')}"
            else:
                grant = f"permset:{ps.get('Name')}"
            grants = admin_via.setdefault(str(row.get("AssigneeId")), [])
            if grant not in grants:
                grants.append(grant)
        frozen = {str(r.get("UserId")) for r in _records(answers[FROZEN_SOQL])}
        users = []
        for row in _records(answers[USERS_SOQL]):
            uid = str(row.get("Id") or "")
            profile = row.get("Profile") or {}
            grants = admin_via.get(uid, [])
            users.append(
                User(
                    id=uid,
                    username=str(row.get("Username") or ""),
                    name=str(row.get("Name") or ""),
                    is_active=bool(row.get("IsActive")),
                    user_type=str(row.get("UserType") or ""),
                    last_login=_parse_dt(row.get("LastLoginDate")),
                    profile=str(profile.get("Name") or ""),
                    license=str((profile.get("UserLicense") or {}).get("Name") or ""),
                    is_frozen=uid in frozen,
                    is_admin=bool(grants),
                    admin_via=tuple(grants),
                    email=str(row.get("Email") or ""),
                )
            )
        return users

    def _fetch_objects(self) -> list[SObjectInfo]:
        ((g_status, described),) = self.batch(["sobjects"], "the object list")
        if g_status >= 300:
            raise self._subrequest_error(g_status, described, "the describe of all objects", None)
        c_status, counted = self._record_counts
        if c_status >= 300 or not isinstance(counted, dict):
            raise self._subrequest_error(
                c_status, counted, "the record counts (limits/recordCount)", None
            )
        counts = _counts_of(self._record_counts)
        sobjects = [s for s in (described or {}).get("sobjects") or [] if isinstance(s, dict)]
        counts.update(self._count_uncounted(sobjects, counts))
        queryable = {str(s["name"]): s for s in sobjects if s.get("queryable")}
        owned = self._find_owners(_owner_candidates(counts, queryable), counts)
        objects = []
        for s in sobjects:
            name = str(s["name"])
            info = SObjectInfo(
                name=name,
                label=str(s.get("label") or name),
                custom=bool(s.get("custom")),
                queryable=bool(s.get("queryable")),
                replicateable=bool(s.get("replicateable")),
                ownable=name in owned,
                queue_ownable=self._queue_ownable.get(name, False),
                count=_known_count(s, counts),
            )
            if name in owned and name not in self._queue_ownable:
                info = _LiveSObjectInfo.of(info, self._queue_ownable_of)
            objects.append(info)
        return objects

    def _ownership_soql(self, name: str, keep: str) -> str:
        return (
            f"SELECT OwnerId, COUNT(Id) FROM {name} WHERE OwnerId NOT IN ({keep}) GROUP BY OwnerId"
        )

    def _find_owners(self, names: Sequence[str], counts: Mapping[str, int]) -> set[str]:
        """Which of ``names`` have an owner, from their ownership aggregates (25 per batch),
        whose rows are kept for :meth:`_fetch_ownership`.

        An ``INVALID_FIELD`` "No such column 'OwnerId'" answer means no owner. An aggregate
        that fails for another reason (an object that takes no aggregate or no
        ``GROUP BY`` on its owner, more than 2,000 owner groups, no access) says nothing
        about the owner: those objects are described, and one that cannot be described
        stops the object list, as ownability is never guessed.
        """
        keep = ACTIVE_USERS_SOQL
        if self._custodians:
            keep += " AND Username IN (" + ", ".join(map(_soql_str, self._custodians)) + ")"
        paths = [f"query?q={quote(self._ownership_soql(n, keep))}" for n in names]
        owned: set[str] = set()
        unsure: list[str] = []
        answers = self.batch(paths, "the record ownership counts")
        for name, (status, result) in zip(names, answers, strict=True):
            if status < 300 and isinstance(result, dict) and result.get("done", True):
                owned.add(name)
                self._owner_rows[name] = list(result.get("records") or [])
            elif not _no_owner_field(status, result, name):
                unsure.append(name)
        if unsure:
            owned |= self._describe_owners(unsure, counts)
        return owned

    def _describe_owners(self, names: Sequence[str], counts: Mapping[str, int]) -> set[str]:
        """Describe ``names`` (25 per batch): those with an ``OwnerId`` field (queue-ownable
        when it references ``Group``, kept in ``self._queue_ownable``)."""
        owned: set[str] = set()
        answers = self.batch([f"sobjects/{n}/describe" for n in names], "the object describes")
        for name, (status, result) in zip(names, answers, strict=True):
            if status >= 300 or not isinstance(result, dict):
                # Unknown ownability could hide records to reassign: refuse to guess.
                error = self._subrequest_error(status, result, f"the describe of {name}", name)
                if isinstance(error, DataUnavailable):
                    held = f" (it holds {counts[name]} records)" if name in counts else ""
                    raise DataUnavailable(f"{error}{held}", permission=True)
                raise error
            owner = next(
                (f for f in result.get("fields") or [] if f.get("name") == "OwnerId"), None
            )
            if owner is not None:
                owned.add(name)
                self._queue_ownable[name] = "Group" in (owner.get("referenceTo") or [])
        return owned

    def _queue_ownable_of(self, name: str) -> bool:
        """Whether queues can own ``name``: the describes of every ownable object not
        described yet, on the first question (no built-in check asks)."""
        if name not in self._queue_ownable:
            ownable = [o.name for o in self.objects() if o.ownable]
            self._describe_owners([n for n in ownable if n not in self._queue_ownable], {})
        return self._queue_ownable.get(name, False)

    def _count_uncounted(
        self, sobjects: Sequence[dict[str, Any]], counts: dict[str, int]
    ) -> dict[str, int]:
        """``COUNT()`` the custom objects ``limits/recordCount`` left out (25 per batch).

        Salesforce omits objects from those cached counts (empty ones, History, Share,
        Feed...); a custom object omitted could still hold records whose owners would
        then go unchecked, so rather than read silence as "empty", sfaudit counts them.
        """
        names = [
            str(s["name"])
            for s in sobjects
            if s.get("queryable")
            and s.get("custom")
            and str(s["name"]) not in counts
            and not str(s["name"]).endswith(_NEVER_OWNABLE)
        ]
        if not names:
            return {}
        out: dict[str, int] = {}
        paths = [f"query?q={quote(f'SELECT COUNT() FROM {n}')}" for n in names]
        for name, (status, result) in zip(
            names,
            self.batch(paths, "the counts of objects limits/recordCount left out"),
            strict=True,
        ):
            if status >= 300 or not isinstance(result, dict):
                error = self._subrequest_error(status, result, f"the count of {name}", name)
                if isinstance(error, DataUnavailable):
                    raise DataUnavailable(
                        f"{error} (limits/recordCount leaves {name} out, so sfaudit must count it)",
                        permission=True,
                    )
                raise error
            out[name] = int(result.get("totalSize") or 0)
        return out

    def _fetch_ownership(
        self, objects: Sequence[str], custodian_ids: Sequence[str]
    ) -> list[OwnershipCount]:
        kept = self._owner_rows if self._aggregates_serve(custodian_ids) else {}
        keep = ACTIVE_USERS_SOQL
        if custodian_ids:
            keep += " AND Id IN (" + ", ".join(f"'{_soql_id(i)}'" for i in custodian_ids) + ")"
        queries = [(self._ownership_soql(n, keep), n) for n in objects if n not in kept]
        answers = self._batch_queries(queries, "the record ownership counts") if queries else {}
        out: list[OwnershipCount] = []
        for name in objects:
            if name in kept:
                rows = kept[name]
            else:
                answer = answers[self._ownership_soql(name, keep)]
                if isinstance(answer, DataUnavailable):
                    raise answer
                rows = _records(answer)
            for row in rows:
                owner = row.get("OwnerId")
                if owner:
                    out.append(
                        OwnershipCount(
                            object=name, owner_id=str(owner), count=int(row.get("expr0") or 0)
                        )
                    )
        return out

    def _aggregates_serve(self, custodian_ids: Sequence[str]) -> bool:
        """Whether the aggregates :meth:`_find_owners` ran hold every owner that
        ownership for ``custodian_ids`` needs: they left out the active users among
        ``self._custodians`` (all active users if none), which must be custodians here
        too (any set will do when none are asked: the caller keeps inactive users and
        queues only)."""
        if not custodian_ids:
            return True
        asked = {i[:15] for i in custodian_ids}
        named = {c.lower() for c in self._custodians}
        left_out = [
            u.id[:15]
            for u in self.users()
            if u.is_active and (not named or u.username.lower() in named)
        ]
        return all(i in asked for i in left_out)

    def _fetch_query(self, soql: str) -> dict[str, Any]:
        return self.query_all(soql, _from_object(soql))

    def _fetch_metadata(self, types: Sequence[str]) -> dict[str, dict[str, Any]]:
        """One query per type (Tooling API, or the data API where the type lives there),
        the first pages 25 per ``composite/batch``, then ``queryMore``."""
        from ..metadata.org import read_inventory

        return read_inventory(self._metadata_queries, types)

    def _metadata_queries(
        self, queries: Sequence[tuple[str, str]]
    ) -> dict[str, dict[str, Any] | DataUnavailable]:
        paths = [
            ("tooling/query?q=" if api == "tooling" else "query?q=") + quote(soql)
            for api, soql in queries
        ]
        out: dict[str, dict[str, Any] | DataUnavailable] = {}
        answers = self.batch(paths, "the metadata inventory")
        for (_, soql), (status, result) in zip(queries, answers, strict=True):
            sobject = _from_object(soql)
            what = f"the query {soql!r}"
            if status >= 300 or not isinstance(result, dict):
                error = self._subrequest_error(status, result, what, sobject)
                if isinstance(error, DataUnavailable):
                    out[soql] = error
                    continue
                raise error
            pages = list(self._pages(result, what, sobject))
            records = [r for p in pages for r in p.get("records") or []]
            out[soql] = {"records": records, "pages": len(pages)}
        return out

    # --- loose ends: packages, integrations, inbound mail, sites ----------------------

    def _fetch_loose_end(self, section: str) -> list[Any]:
        raw = self._loose_end_rows()
        reads = loose.NEEDS[section]
        for read in reads[: 2 if section == "packages" else 1]:
            failed = raw[read.key]
            if isinstance(failed, Exception):
                raise failed  # a package without its licence would look free: never guess

        def rows(read: loose.Read) -> list[dict[str, Any]]:
            value = raw[read.key]
            return [] if isinstance(value, Exception) else value

        if section == "packages":
            return loose.packages(rows(loose.PACKAGES), rows(loose.LICENSES))
        if section in ("sites", "networks"):
            found = loose.sites(rows(loose.SITES), rows(loose.SITE_URLS), rows(loose.NETWORKS))
            return found[0] if section == "sites" else found[1]
        parse: dict[str, Callable[[list[dict[str, Any]]], list[Any]]] = {
            "connected_apps": loose.connected_apps,
            "named_credentials": loose.named_credentials,
            "remote_sites": loose.remote_sites,
            "outbound_messages": loose.outbound_messages,
            "email_services": loose.email_services,
            "email_to_case": lambda r: loose.simple_addresses(r, "email-to-case"),
            "org_wide_addresses": lambda r: loose.simple_addresses(r, "org-wide"),
        }
        return parse[section](rows(reads[0]))

    def _fetch_oauth_usage(self, since: dt.date) -> OAuthUsage:
        read = loose.Read("oauth", "data", loose.token_soql(since), loose.TOKEN_GRANT, False)
        raw = self._loose_end_rows([read])
        answer = raw.pop(read.key)
        complete, note = self._token_visibility(raw)
        if isinstance(answer, SourceError) and any(
            code in str(answer) for code in ("MALFORMED_QUERY", "INVALID_FIELD")
        ):
            # An org that refuses the aggregate: the same tokens one row each.
            rows = self.query_all(loose.token_rows_soql(since), "OauthToken")["records"]
            return aggregate_tokens(loose.tokens(rows), since, complete=complete, note=note)
        if isinstance(answer, Exception):
            raise answer
        return OAuthUsage(since=since, apps=loose.app_usage(answer), complete=complete, note=note)

    def _token_visibility(self, raw: Mapping[str, Any]) -> tuple[bool, str]:
        perms = raw.get(loose.PERMISSIONS.key)
        if isinstance(perms, Exception) or not perms:
            why = f" ({perms})" if isinstance(perms, Exception) else ""
            return False, (
                f"the API user's permissions could not be read{why}, so other users' "
                f"OAuth tokens may be missing; grant {loose.TOKEN_GRANT}"
            )
        if not perms[0].get("PermissionsCustomizeApplication"):
            return False, (
                "the API user lacks 'Customize Application', so it sees only its own "
                "OAuth tokens: the list of connected apps in use is partial; grant "
                f"{loose.TOKEN_GRANT} and run again"
            )
        return True, ""

    def not_in_org(self) -> tuple[str, ...]:
        return tuple(sorted(self._cache.get("loose-absent") or ()))

    def _loose_end_rows(
        self, extra: Sequence[loose.Read] = ()
    ) -> dict[str, list[dict[str, Any]] | Exception]:
        """The loose-ends batch (once per run), plus ``extra`` reads in the same request
        (or in one of their own once the batch was made): key → rows, or the error.

        ``INVALID_TYPE`` means the org has no such object (an edition or a feature
        without it: an empty section), unless the API user lacks 'View Setup and
        Configuration', when it may mean the object is hidden from it."""
        cached: dict[str, Any] | None = self._cache.get("raw-loose-ends")
        if cached is not None and not extra:
            return dict(cached)
        reads = [*(() if cached is not None else loose.BATCH), *extra]
        paths = [
            ("tooling/query?q=" if r.api == "tooling" else "query?q=") + quote(r.soql)
            for r in reads
        ]
        answers = dict(
            zip(
                [r.key for r in reads],
                self.batch(paths, "the installed packages, integrations, inbound mail and sites"),
                strict=True,
            )
        )
        out: dict[str, Any] = dict(cached or {})
        absent: set[str] = self._cache.setdefault("loose-absent", set())
        order = sorted(reads, key=lambda r: r.key != loose.PERMISSIONS.key)
        for read in order:
            status, result = answers[read.key]
            what = f"the query {read.soql!r}"
            if status < 300 and isinstance(result, dict):
                try:
                    out[read.key] = [
                        r
                        for p in self._pages(result, what, read.sobject)
                        for r in p.get("records") or []
                    ]
                except (DataUnavailable, SfauditError) as exc:
                    out[read.key] = exc
                continue
            perms = out.get(loose.PERMISSIONS.key)
            sees_setup = isinstance(perms, list) and bool(
                perms and perms[0].get("PermissionsViewSetup")
            )
            if read.optional and _error_of(result)[0] == "INVALID_TYPE" and sees_setup:
                absent.add(read.sobject)
                out[read.key] = []
                continue
            out[read.key] = self._subrequest_error(status, result, what, read.sobject)
        self._cache["raw-loose-ends"] = {k: v for k, v in out.items() if k != "oauth"}
        return out

    def count(self, sobject: str, where: str | None = None) -> int:
        """Exact, with ``SELECT COUNT()`` (one request, kept for the run): the counts of
        ``limits/recordCount`` behind :meth:`objects` are cached and lag (a recorded org
        answered 1 where ``count()`` found 6), so an asked-for count never comes from them."""
        soql = f"SELECT COUNT() FROM {sobject}" + (f" WHERE {where}" if where else "")
        return int(self.query_result(soql).get("totalSize") or 0)

    # --- figures ----------------------------------------------------------------------

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "api_requests": self.session.requests_sent,
            "api_logins": self.session.logins,
        }
        limit, remaining = self._limits.get("Max"), self._limits.get("Remaining")
        if self.session.api_usage is not None:
            used, limit = self.session.api_usage
            remaining = limit - used
        if limit is not None:
            out["api_daily_max"] = int(limit)
            out["api_daily_remaining"] = int(remaining or 0)
        return out

    def close(self) -> None:
        self.session.close()


def _records(answer: dict[str, Any] | DataUnavailable) -> list[dict[str, Any]]:
    assert not isinstance(answer, DataUnavailable)
    return list(answer.get("records") or [])


def _timed_out(exc: Exception) -> bool:
    """A timeout, also when urllib3 gave up retrying one (a ConnectionError around it)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(exc, requests.exceptions.Timeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError, TimeoutError))


def _soql_id(value: str) -> str:
    return "".join(c for c in value if c.isalnum())


def _soql_str(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _counts_of(answer: tuple[int, Any]) -> dict[str, int]:
    """Record counts by object from a ``limits/recordCount`` answer (none if it failed)."""
    status, result = answer
    if status >= 300 or not isinstance(result, dict):
        return {}
    return {
        str(o["name"]): int(o.get("count") or 0)
        for o in result.get("sObjects") or []
        if isinstance(o, dict) and o.get("name")
    }


def _owner_candidates(
    counts: Mapping[str, int], queryable: Mapping[str, Any] | None = None
) -> list[str]:
    """The objects whose owners an audit asks for: with records, queryable (when the
    describe global is known) and not named as never owned (``__mdt``, ``History``...)."""
    names = queryable if queryable is not None else counts
    return [
        str(n) for n in names if counts.get(str(n), 0) > 0 and not str(n).endswith(_NEVER_OWNABLE)
    ]


_NO_OWNER = re.compile(r"No such column 'OwnerId' on entity '([^']+)'", re.IGNORECASE)


def _no_owner_field(status: int, result: Any, sobject: str) -> bool:
    """Salesforce's answer to a query of ``OwnerId`` on an object without one: 400
    ``INVALID_FIELD``, "No such column 'OwnerId' on entity 'X'". The same code with
    another message (a field restriction, say) tells nothing about the owner."""
    code, message = _error_of(result)
    found = _NO_OWNER.search(message)
    return (
        status == 400
        and code == "INVALID_FIELD"
        and found is not None
        and found.group(1).lower() == sobject.lower()
    )


class _LiveSObjectInfo(SObjectInfo):
    """An ownable object of a live org whose ``queue_ownable`` comes from its describe,
    made only when something reads it (no built-in check does)."""

    @classmethod
    def of(cls, info: SObjectInfo, lookup: Callable[[str], bool]) -> SObjectInfo:
        import dataclasses

        out = cls(**{f.name: getattr(info, f.name) for f in dataclasses.fields(info)})
        object.__setattr__(out, "_lookup", lookup)
        return out

    def __getattribute__(self, name: str) -> Any:
        if name == "queue_ownable":
            lookup = object.__getattribute__(self, "__dict__").get("_lookup")
            if lookup is not None:
                return lookup(object.__getattribute__(self, "name"))
        return object.__getattribute__(self, name)


def _from_object(soql: str) -> str | None:
    words = soql.replace("(", " ( ").split()
    depth = 0
    for i, word in enumerate(words):
        depth += word == "("
        depth -= word == ")"
        if depth == 0 and word.upper() == "FROM" and i + 1 < len(words):
            return words[i + 1]
    return None


def _error_of(content: Any) -> tuple[str, str]:
    """(errorCode, message) from a Salesforce error body (a JSON array, usually)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode") or ""), _one_line(content[0].get("message"))
    if isinstance(content, dict):
        return str(content.get("errorCode") or content.get("error") or ""), _one_line(
            content.get("message") or content.get("error_description")
        )
    return "", _one_line(str(content or "")[:200])


def _one_line(message: Any) -> str:
    """A Salesforce error message on one line. A query error echoes the query on a line
    of its own, then a caret under the fault, then ``ERROR at Row:1:Column:N`` and the
    explanation (as recorded from a real org): the echo and the caret go."""
    kept: list[str] = []
    for line in str(message or "").splitlines():
        if line.strip() == "^":
            if kept:
                kept.pop()
            continue
        if line.strip():
            kept.append(" ".join(line.split()))
    return " ".join(kept)


def _floor_error(
    remaining: int, limit: int, floor: float, *, stopped: bool, needed: int = 0
) -> SourceError:
    pct = 100.0 * remaining / limit if limit else 0.0
    when = (
        "sfaudit stopped mid-run"
        if stopped
        else f"an audit of this org needs about {needed} requests "
        "(5 + users ÷ page size + objects with records ÷ 25)"
    )
    return SourceError(
        f"the org has {remaining} of {limit} daily API requests left ({pct:.1f}%); {when}, "
        f"and org.min_api_remaining_pct keeps {floor:g}% in reserve",
        hint="run the audit later (the allowance is a rolling 24 hours), "
        "or lower org.min_api_remaining_pct",
    )


def _auth_error(credentials: Credentials, code: str, message: str) -> SourceError:
    from .._redact import redact

    how = credentials.describe()
    code_u = code.upper()
    if credentials.flow == "password" or code_u == "INVALID_LOGIN":
        hint = (
            "check SF_USERNAME, SF_PASSWORD and SF_SECURITY_TOKEN (reset the token under "
            "Settings > Reset My Security Token); a sandbox needs SF_DOMAIN=test"
        )
    elif credentials.flow == "jwt":
        hint = (
            "check SF_CONSUMER_KEY, that SF_JWT_KEY_FILE matches the connected app's certificate, "
            "and that the user is pre-authorized for the app"
        )
    elif credentials.flow == "client-credentials":
        hint = (
            "check SF_CONSUMER_KEY/SF_CONSUMER_SECRET, the app's run-as user, "
            "and SF_DOMAIN (your My Domain)"
        )
    else:
        hint = "check SF_USERNAME, SF_PASSWORD, SF_CONSUMER_KEY and SF_CONSUMER_SECRET"
    return SourceError(
        f"Salesforce refused the login ({how}): {code}: {redact(message)}", hint=hint
    )


def open_live(spec: str, config: Config, env: dict[str, str] | None = None) -> LiveOrg:
    """Open ``live`` or ``sf:ALIAS`` with the config's ``org`` settings and the environment."""
    env = dict(os.environ) if env is None else env
    if spec.startswith("sf:"):
        credentials = from_sf_cli(spec[3:])
    else:
        credentials = from_env(env, domain=config.org.domain)
    timeout = env.get("SF_TIMEOUT")
    try:
        seconds = float(timeout) if timeout else 60.0
    except ValueError:
        from ..errors import UsageError

        raise UsageError(f"SF_TIMEOUT={timeout!r} is not a number of seconds") from None
    return LiveOrg(
        credentials,
        api_version=config.org.api_version,
        page_size=config.org.page_size,
        min_api_remaining_pct=config.org.min_api_remaining_pct,
        timeout=config.org.timeout_s or seconds,
        retries=config.org.retries,
        backoff=config.org.backoff_s,
        login_url=env.get("SF_LOGIN_URL") or None,
        custodians=_ownership_custodians(config),
    )


def _ownership_custodians(config: Config) -> list[str]:
    """The custodians ``record-ownership`` names: the ownership aggregates that tell which
    objects have an owner keep them out, so the check costs no request of its own."""
    named = config.check_block("record-ownership").get("custodians") or []
    return [str(c) for c in named] if isinstance(named, list) else []


@hookimpl
def sfaudit_org_source(spec: str, config: Config) -> Org | None:
    if spec == "live" or spec.startswith("sf:"):
        return open_live(spec, config)
    return None


def _known_count(sobject: Mapping[str, Any], counts: Mapping[str, int]) -> int | None:
    """The object's record count. ``limits/recordCount`` leaves out empty objects,
    and the custom ones it leaves out were counted with ``COUNT()``: a queryable
    standard object it omits is empty. Anything else stays unknown (None)."""
    name = str(sobject["name"])
    if name in counts:
        return counts[name]
    if sobject.get("queryable") and not sobject.get("custom"):
        return 0
    return None
