"""simple-salesforce, unmodified, against the emulator over HTTPS. When
simple-salesforce and the emulator disagree, the emulator is wrong."""

import datetime
import io
import csv

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)


def token(playground, **form):
    res = requests.post(f"{playground.base_url}/services/oauth2/token", data=form, timeout=30)
    return res.status_code, res.json()


@pytest.fixture(scope="session")
def sf(playground):
    status, body = token(playground, grant_type="client_credentials", client_id="simple-salesforce", client_secret="s3cret")
    assert status == 200, body
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], version="59.0")


def test_token_endpoint_shapes(playground):
    status, body = token(playground, grant_type="password", client_id="ss", username="admin@playground.syncstudio", password="playground")
    assert status == 200
    for key in ("access_token", "instance_url", "id", "token_type", "issued_at", "signature"):
        assert key in body, key
    assert body["token_type"] == "Bearer"
    assert body["instance_url"] == playground.base_url
    assert body["issued_at"].isdigit()
    status, body = token(playground, grant_type="password", client_id="ss", username="admin@playground.syncstudio", password="wrong")
    assert status == 400
    assert body == {"error": "invalid_grant", "error_description": "authentication failure"}
    status, body = token(playground, grant_type="refresh_token", client_id="ss", refresh_token="nope")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = token(playground, grant_type="magic", client_id="ss")
    assert (status, body["error"]) == (400, "unsupported_grant_type")


def test_userinfo(playground, sf):
    res = requests.get(f"{playground.base_url}/services/oauth2/userinfo", headers={"Authorization": f"Bearer {sf.session_id}"}, timeout=30)
    assert res.status_code == 200
    info = res.json()
    assert info["preferred_username"] == "admin@playground.syncstudio"
    assert info["organization_id"].startswith("00D")


def test_describe(sf):
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Account", "Contact", "Lead", "Opportunity", "Case", "User"} <= names
    fields = {f["name"]: f for f in sf.Opportunity.describe()["fields"]}
    assert fields["StageName"]["type"] == "picklist"
    assert fields["StageName"]["restrictedPicklist"] is True
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert sf.Account.metadata()["objectDescribe"]["keyPrefix"] == "001"


def test_crud(sf):
    created = sf.Contact.create({"LastName": "Lovelace", "FirstName": "Ada", "Email": "ada@example.com"})
    assert created["success"] is True
    got = sf.Contact.get(created["id"])
    assert got["Name"] == "Ada Lovelace"
    assert got["attributes"]["type"] == "Contact"
    assert sf.Contact.update(created["id"], {"Title": "Countess"}) == 204
    assert sf.Contact.get(created["id"])["Title"] == "Countess"
    assert sf.Contact.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as err:
        sf.Contact.get(created["id"])
    assert err.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_validation_errors(sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Opportunity.create({"Name": "No stage", "CloseDate": "2026-01-01"})
    assert err.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert err.value.content[0]["fields"] == ["StageName"]
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Opportunity.create({"Name": "Bad stage", "CloseDate": "2026-01-01", "StageName": "Dreaming"})
    assert err.value.content[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.create({"Name": "x" * 256})
    assert err.value.content[0]["errorCode"] == "STRING_TOO_LONG"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.create({"Name": "Nope", "Bogus__c": 1})
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"


def test_upsert_by_external_id(sf):
    assert sf.Account.upsert("ERP_Id__c/ERP-9", {"Name": "Upsert Co"}) == 201
    assert sf.Account.upsert("ERP_Id__c/ERP-9", {"Name": "Upsert Co 2"}) == 200
    got = sf.Account.get_by_custom_id("ERP_Id__c", "ERP-9")
    assert got["Name"] == "Upsert Co 2"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.Account.create({"Name": "Dup", "ERP_Id__c": "ERP-9"})
    assert err.value.content[0]["errorCode"] == "DUPLICATE_VALUE"


def test_collections_then_query_paging(sf):
    ids = []
    for chunk in range(11):
        records = [{"attributes": {"type": "Case"}, "Subject": f"Paging {chunk * 200 + i}", "Origin": "Web"} for i in range(200)]
        res = sf.restful("composite/sobjects", method="POST", json={"allOrNone": True, "records": records})
        assert all(r["success"] for r in res)
        ids += [r["id"] for r in res]
    assert len(set(ids)) == 2200
    first = sf.query("SELECT Id, CaseNumber FROM Case WHERE Subject LIKE 'Paging %'")
    assert first["totalSize"] == 2200
    assert first["done"] is False
    assert len(first["records"]) == 2000
    everything = sf.query_all("SELECT Id, CaseNumber FROM Case WHERE Subject LIKE 'Paging %'")
    assert len(everything["records"]) == 2200
    assert len({r["CaseNumber"] for r in everything["records"]}) == 2200
    streamed = list(sf.query_all_iter("SELECT Id FROM Case WHERE Subject LIKE 'Paging %'"))
    assert {r["Id"] for r in streamed} == set(ids)


def test_query_all_includes_deleted(sf):
    created = sf.Lead.create({"LastName": "Gone", "Company": "Deleted Co"})
    sf.Lead.delete(created["id"])
    assert sf.query_all("SELECT Id FROM Lead WHERE Company = 'Deleted Co'")["totalSize"] == 0
    res = sf.query_all("SELECT Id, IsDeleted FROM Lead WHERE Company = 'Deleted Co'", include_deleted=True)
    assert res["totalSize"] == 1
    assert res["records"][0]["IsDeleted"] is True


def test_composite_with_references(sf):
    res = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "acct", "body": {"Name": "Composite Co"}},
                {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "ct", "body": {"LastName": "Ref", "AccountId": "@{acct.id}"}},
                {"method": "GET", "url": "/services/data/v59.0/sobjects/Contact/@{ct.id}?fields=AccountId", "referenceId": "read"},
            ],
        },
    )
    out = {r["referenceId"]: r for r in res["compositeResponse"]}
    assert out["acct"]["httpStatusCode"] == 201
    assert out["ct"]["httpStatusCode"] == 201
    assert out["read"]["body"]["AccountId"] == out["acct"]["body"]["id"]
    rolled = sf.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": True,
            "compositeRequest": [
                {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Rolled Back Co"}},
                {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "b", "body": {"FirstName": "No last name"}},
            ],
        },
    )
    codes = [r["httpStatusCode"] for r in rolled["compositeResponse"]]
    assert codes == [400, 400]
    assert rolled["compositeResponse"][0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled Back Co'")["totalSize"] == 0


def test_bulk2_insert_and_query(sf, tmp_path):
    path = tmp_path / "accounts.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Name", "AnnualRevenue", "ERP_Id__c"])
        for i in range(3000):
            w.writerow([f"Bulk2 {i}", i * 10, f"B2-{i}"])
        w.writerow(["", 1, "B2-bad"])
    results = sf.bulk2.Account.insert(csv_file=str(path), wait=1)
    assert sum(r["numberRecordsProcessed"] for r in results) == 3001
    assert sum(r["numberRecordsFailed"] for r in results) == 1
    failed = sf.bulk2.Account.get_failed_records(results[0]["job_id"])
    rows = list(csv.DictReader(io.StringIO(failed)))
    assert len(rows) == 1
    assert rows[0]["sf__Error"].startswith("REQUIRED_FIELD_MISSING")
    assert rows[0]["ERP_Id__c"] == "B2-bad"
    pages = list(sf.bulk2.Account.query("SELECT Id, Name, ERP_Id__c FROM Account WHERE Name LIKE 'Bulk2 %'", max_records=1000))
    total = sum(len(list(csv.DictReader(io.StringIO(p)))) for p in pages)
    assert total == 3000
    assert len(pages) == 3


def test_bulk2_upsert(sf):
    csv_data = "ERP_Id__c,Name\nB2-1,Bulk2 renamed\nNEW-1,Brand new\n"
    results = sf.bulk2.Account.upsert(records=list(csv.DictReader(io.StringIO(csv_data))), external_id_field="ERP_Id__c", wait=1)
    assert results[0]["numberRecordsFailed"] == 0
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(results[0]["job_id"]))))
    assert sorted(r["sf__Created"] for r in ok) == ["false", "true"]
    assert sf.Account.get_by_custom_id("ERP_Id__c", "B2-1")["Name"] == "Bulk2 renamed"


def test_search_limits_updated_deleted(playground, sf):
    found = sf.search("FIND {Lovelace} RETURNING Contact(Id, Name)")
    assert isinstance(found["searchRecords"], list)
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    start = end - datetime.timedelta(days=1)
    created = sf.Campaign.create({"Name": "Replication"})
    sf.Campaign.delete(created["id"])
    # Salesforce covers whole minutes only: let this one pass.
    playground.control("/clock", {"advanceSecs": 120})
    updated = sf.Campaign.updated(start, end)
    assert "latestDateCovered" in updated
    deleted = sf.Campaign.deleted(start, end)
    assert created["id"] in [d["id"] for d in deleted["deletedRecords"]]


def test_bad_query_and_expired_session(playground, sf):
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id FROM Account WHERE")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"
    playground.control("/tokens/expire")
    with pytest.raises(SalesforceExpiredSession):
        sf.query("SELECT Id FROM Account LIMIT 1")
