"""The local Salesforce emulator: Salesforce's shapes over real HTTPS, with simple-salesforce."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceResourceNotFound

from sfaudit.testing import OrgBuilder
from sfaudit.testing._soql import SoqlError, parse
from sfaudit.testing.emulator import SalesforceEmulator
from sfaudit.testing.pytest_fixtures import EmulatorLogins, sample_org


@pytest.fixture
def sf(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> Salesforce:
    """simple-salesforce on a plain requests session, trusting the emulator's CA."""
    return Salesforce(session_id=emulator.new_session(), instance_url=emulator.url)


def test_https_with_its_own_ca(emulator: SalesforceEmulator) -> None:
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(emulator.url + "/services/data/v59.0/limits", verify=True, timeout=5)
    answer = requests.get(
        emulator.url + "/services/data/v59.0/limits", verify=emulator.ca_path, timeout=5
    )
    assert answer.status_code == 401
    assert answer.json() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_query_pages_follow_next_records_url(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.load(sample_org(users=450), page_size=200)
    first = sf.query("SELECT Id, Username FROM User")
    assert first["totalSize"] == 450 and first["done"] is False and len(first["records"]) == 200
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    records = list(sf.query_all_iter("SELECT Id, Username FROM User"))
    assert len(records) == 450 and len({r["Id"] for r in records}) == 450
    assert records[0]["attributes"]["type"] == "User"
    assert records[0]["attributes"]["url"].startswith("/services/data/v59.0/sobjects/User/005")


def test_batch_size_option_lowers_the_page(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.load(sample_org(users=450))
    page = sf.query("SELECT Id FROM User", headers={"Sforce-Query-Options": "batchSize=300"})
    assert len(page["records"]) == 300


def test_count_and_aggregates(sf: Salesforce) -> None:
    count = sf.query("SELECT COUNT() FROM User WHERE IsActive = false")
    assert count["records"] == [] and count["totalSize"] == sum(
        1 for u in sample_org().users or [] if not u.is_active
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1200
    grouped = sf.query("SELECT OwnerId, COUNT(Id) FROM Account GROUP BY OwnerId")
    rows = {r["OwnerId"]: r["expr0"] for r in grouped["records"]}
    assert sum(rows.values()) == 1260
    assert grouped["records"][0]["attributes"] == {"type": "AggregateResult"}
    aliased = sf.query(
        "SELECT IsActive, COUNT(Id) n, MAX(LastLoginDate) FROM User GROUP BY IsActive"
    )
    assert {tuple(sorted(r)) for r in aliased["records"]} == {
        ("IsActive", "attributes", "expr0", "n")
    }


def test_semi_and_anti_joins(sf: Salesforce) -> None:
    inactive = "SELECT Id FROM User WHERE IsActive = false"
    semi = sf.query(
        f"SELECT OwnerId, COUNT(Id) FROM Contact WHERE OwnerId IN ({inactive}) GROUP BY OwnerId"
    )
    anti = sf.query(
        "SELECT OwnerId, COUNT(Id) FROM Lead WHERE OwnerId NOT IN "
        "(SELECT Id FROM User WHERE IsActive = true) GROUP BY OwnerId"
    )
    assert [r["expr0"] for r in semi["records"]] == [1400]
    assert [r["OwnerId"][:3] for r in anti["records"]] == ["00G"]


def test_relationship_fields_come_nested(sf: Salesforce) -> None:
    rows = sf.query(
        "SELECT Username, Profile.Name, Profile.UserLicense.Name FROM User "
        "WHERE Username = 'admin@acme.example'"
    )["records"]
    profile = rows[0]["Profile"]
    assert profile["attributes"]["type"] == "Profile"
    assert profile["Name"] == "System Administrator"
    assert profile["UserLicense"]["Name"] == "Salesforce"
    jobs = sf.query(
        "SELECT CronJobDetail.Name FROM CronTrigger WHERE State IN ('WAITING', 'PAUSED')"
    )
    assert {r["CronJobDetail"]["Name"] for r in jobs["records"]} == {
        "Weekly Data Export",
        "NightlyInvoiceSync",
    }


def test_where_or_not_like_limit_order(sf: Salesforce) -> None:
    rows = sf.query(
        "SELECT Username FROM User WHERE (Username LIKE 'user0000%' OR Username = 'gone@acme.example') "
        "AND NOT IsActive = true ORDER BY Username DESC LIMIT 2"
    )["records"]
    assert [r["Username"] for r in rows] == ["user00009@acme.example", "user00006@acme.example"]


def test_errors_are_salesforce_shaped(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as bad:
        sf.query("SELECT Id FROM Nope__c")
    assert bad.value.content[0]["errorCode"] == "INVALID_TYPE"
    with pytest.raises(SalesforceMalformedRequest) as malformed:
        sf.query("SELECT FROM User")
    assert malformed.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in malformed.value.content[0]["message"]
    with pytest.raises(SalesforceResourceNotFound):
        sf.restful("sobjects/Nope__c/describe")


def test_describes_limits_and_record_counts(sf: Salesforce) -> None:
    described = sf.describe()
    names = {o["name"]: o for o in described["sobjects"]}
    assert names["Account"]["keyPrefix"] == "001" and names["Invoice__c"]["custom"] is True
    account = sf.Account.describe()
    owner = next(f for f in account["fields"] if f["name"] == "OwnerId")
    assert owner["referenceTo"] == ["User"] and owner["relationshipName"] == "Owner"
    lead_owner = next(f for f in sf.Lead.describe()["fields"] if f["name"] == "OwnerId")
    assert "Group" in lead_owner["referenceTo"]
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert 0 < limits["DailyApiRequests"]["Remaining"] < 15000
    counts = sf.restful("limits/recordCount")
    assert {"count": 1200, "name": "Account"} in counts["sObjects"]
    some = sf.restful("limits/recordCount", params={"sObjects": "Account,Nope"})
    assert some == {"sObjects": [{"count": 1200, "name": "Account"}]}
    assert sf.api_usage["api-usage"].total == 15000


def test_composite_batch(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    body = {
        "batchRequests": [
            {"method": "GET", "url": "v59.0/limits"},
            {"method": "GET", "url": "v59.0/query?q=SELECT+COUNT()+FROM+Lead"},
            {"method": "GET", "url": "v59.0/sobjects/Nope__c/describe"},
        ]
    }
    answer: dict[str, Any] = sf.restful("composite/batch", method="POST", json=body)
    assert answer["hasErrors"] is True
    assert [r["statusCode"] for r in answer["results"]] == [200, 200, 404]
    assert answer["results"][1]["result"]["totalSize"] == 900
    assert answer["results"][2]["result"][0]["errorCode"] == "NOT_FOUND"
    assert emulator.log[-1].subrequests == ["GET", "GET", "GET"] and not emulator.log[-1].is_write
    too_many = {"batchRequests": [{"method": "GET", "url": "v59.0/limits"}] * 26}
    with pytest.raises(SalesforceMalformedRequest):
        sf.restful("composite/batch", method="POST", json=too_many)


def test_owner_of_an_object_without_one_is_invalid_field(sf: Salesforce) -> None:
    soql = "SELECT OwnerId, COUNT(Id) FROM Product2 GROUP BY OwnerId"
    body = {
        "batchRequests": [
            {"method": "GET", "url": f"v59.0/query?q={requests.utils.quote(soql)}"},
            {"method": "GET", "url": "v59.0/query?q=SELECT+OwnerId,+COUNT(Id)+FROM+Account"
             "+GROUP+BY+OwnerId"},
            {"method": "GET", "url": "v59.0/query?q=SELECT+Owner.Name+FROM+Product2"},
        ]
    }  # fmt: skip
    answer: dict[str, Any] = sf.restful("composite/batch", method="POST", json=body)
    assert [r["statusCode"] for r in answer["results"]] == [400, 200, 400]
    (error,) = answer["results"][0]["result"]
    assert error["errorCode"] == "INVALID_FIELD"
    assert error["message"] == (
        f"\n{soql}\n       ^\nERROR at Row:1:Column:8\n"
        "No such column 'OwnerId' on entity 'Product2'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )
    (relationship,) = answer["results"][2]["result"]
    assert "Didn't understand relationship 'Owner' in field path" in relationship["message"]
    with pytest.raises(SalesforceMalformedRequest) as raised:
        sf.query("SELECT Id FROM Product2 WHERE OwnerId = '005000000000001AAA'")
    assert raised.value.content[0]["errorCode"] == "INVALID_FIELD"
    assert sf.query("SELECT COUNT() FROM Product2")["totalSize"] == 75


def test_rejected_queries_fail_alone(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.faults.reject("FROM Invoice__c GROUP BY")
    body = {
        "batchRequests": [
            {"method": "GET", "url": "v59.0/query?q=SELECT+OwnerId,+COUNT(Id)+FROM+Invoice__c"
             "+GROUP+BY+OwnerId"},
            {"method": "GET", "url": "v59.0/query?q=SELECT+COUNT()+FROM+Invoice__c"},
            {"method": "GET", "url": "v59.0/sobjects/Invoice__c/describe"},
        ]
    }  # fmt: skip
    answer: dict[str, Any] = sf.restful("composite/batch", method="POST", json=body)
    assert [r["statusCode"] for r in answer["results"]] == [400, 200, 200]
    assert answer["results"][0]["result"][0]["errorCode"] == "MALFORMED_QUERY"


def test_request_log_and_write_detection(emulator: SalesforceEmulator) -> None:
    token = emulator.new_session()
    headers = {"Authorization": f"Bearer {token}"}
    requests.patch(
        emulator.url + "/services/data/v59.0/sobjects/Account/001",
        json={},
        headers=headers,
        verify=emulator.ca_path,
        timeout=5,
    )
    entry = emulator.log[-1]
    assert (entry.method, entry.path, entry.status) == (
        "PATCH",
        "/services/data/v59.0/sobjects/Account/001",
        405,
    )
    assert emulator.writes() == [entry]


def test_faults_apply_then_clear(sf: Salesforce, emulator: SalesforceEmulator) -> None:
    emulator.faults.error(500, "UNKNOWN_EXCEPTION", "boom", times=1, match="limits")
    with pytest.raises(Exception, match="UNKNOWN_EXCEPTION"):
        sf.limits()
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000
    emulator.faults.deny("Account")
    with pytest.raises(Exception, match="INSUFFICIENT_ACCESS"):
        sf.query("SELECT COUNT() FROM Account")
    emulator.reset()
    assert emulator.log == []


def test_api_allowance_runs_out(sf_env: EmulatorLogins, emulator: SalesforceEmulator) -> None:
    emulator.load(OrgBuilder().build(), api_max=3)
    sf = Salesforce(session_id=emulator.new_session(), instance_url=emulator.url)
    for _ in range(3):
        sf.limits()
    with pytest.raises(Exception, match="REQUEST_LIMIT_EXCEEDED"):
        sf.limits()


def test_soql_parser_reports_the_column() -> None:
    query = parse(
        "SELECT Id, Owner.Name FROM Account WHERE OwnerId NOT IN (SELECT Id FROM User) LIMIT 5"
    )
    assert query.objects() == {"Account", "User"} and query.limit == 5
    with pytest.raises(SoqlError, match="Column:8"):
        parse("SELECT FROM User")


# --- what the Salesforce CLI asks when it logs in ---------------------------------------

#: The keys of a real ``/services/oauth2/userinfo`` answer (Salesforce help,
#: "UserInfo Endpoint", remoteaccess_using_userinfo_endpoint; the CLI reads ``user_id``
#: and ``organization_id``).
USERINFO_KEYS = {
    "sub", "user_id", "organization_id", "preferred_username", "nickname", "name",
    "email", "email_verified", "given_name", "family_name", "zoneinfo", "photos",
    "profile", "picture", "address", "urls", "active", "user_type", "language",
    "locale", "utcOffset", "updated_at", "is_app_installed",
}  # fmt: skip


def test_userinfo_names_the_tokens_user(
    emulator: SalesforceEmulator, sf_env: EmulatorLogins
) -> None:
    token = emulator.new_session(sf_env.username)
    answer = requests.get(
        emulator.url + "/services/oauth2/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        verify=emulator.ca_path,
        timeout=5,
    )
    assert answer.status_code == 200
    info = answer.json()
    assert set(info) >= USERINFO_KEYS
    user = next(u for u in sample_org().users or [] if u.username == sf_env.username)
    assert info["user_id"] == user.id and info["preferred_username"] == sf_env.username
    assert info["organization_id"] == sample_org().info.id
    assert info["sub"].endswith(f"/id/{info['organization_id']}/{user.id}")
    assert info["urls"]["rest"] == emulator.url + "/services/data/v{version}/"
    bad = requests.get(
        emulator.url + "/services/oauth2/userinfo",
        headers={"Authorization": "Bearer 00Dnope!nope"},
        verify=emulator.ca_path,
        timeout=5,
    )
    assert bad.status_code == 403 and bad.text == "Bad_OAuth_Token"
    assert not any(r.is_write for r in emulator.log)


def test_api_versions_need_no_session(emulator: SalesforceEmulator) -> None:
    versions = requests.get(emulator.url + "/services/data", verify=emulator.ca_path, timeout=5)
    listed = versions.json()
    assert listed[0] == {"label": "Winter '11", "url": "/services/data/v20.0", "version": "20.0"}
    assert {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"} in listed
    assert listed[-1]["version"] == emulator.max_api_version


def test_one_record_by_id(sf: Salesforce, sf_env: EmulatorLogins) -> None:
    user = next(u for u in sample_org().users or [] if u.username == sf_env.username)
    record = sf.User.get(user.id)
    assert record["attributes"] == {
        "type": "User",
        "url": f"/services/data/v59.0/sobjects/User/{user.id}",
    }
    assert record["Username"] == sf_env.username and record["IsActive"] is True
    assert "Profile" not in record  # a parent comes back only in queries
    assert sf.User.get(user.id[:15])["Id"] == user.id
    with pytest.raises(SalesforceResourceNotFound) as missing:
        sf.User.get("005000000000000AAA")
    assert missing.value.content == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
