//! The REST API: every resource, its shapes, and its errors.

mod common;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test]
async fn versions_resources_and_unknown_versions() {
    let org = Org::start().await;
    let list: Value = org
        .http
        .get(org.url("/services/data/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let versions: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions.first(), Some(&"31.0"));
    assert_eq!(versions.last(), Some(&"62.0"));
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["version"] == "59.0")
            .unwrap()["label"],
        "Winter '24"
    );
    for v in ["v31.0", "v46.0", "v62.0"] {
        let (s, r) = org.get(&format!("/services/data/{v}/")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r["query"], format!("/services/data/{v}/query"));
    }
    for v in ["v30.0", "v63.0", "v59.1", "59.0"] {
        let (s, r) = org.get(&format!("/services/data/{v}/limits")).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(code(&r), "NOT_FOUND");
    }
}

#[tokio::test]
async fn every_call_is_counted_in_sforce_limit_info() {
    let org = Org::start().await;
    let r = org
        .req(Method::GET, &format!("{V}/limits"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=1/15000");
    let limits: Value = r.json().await.unwrap();
    assert_eq!(
        limits["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    let r = org
        .req(Method::GET, &format!("{V}/sobjects"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=2/15000");
    // Unauthenticated requests are not counted and say why.
    let r = org
        .http
        .get(org.url(&format!("{V}/limits")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(org.emu.api_used(), 2);
}

#[tokio::test]
async fn the_daily_limit_is_enforced() {
    let org = Org::start().await;
    org.emu.set_daily_api_limit(3);
    for _ in 0..3 {
        assert_eq!(org.get(&format!("{V}/limits")).await.0, StatusCode::OK);
    }
    let (s, body) = org.get(&format!("{V}/limits")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        body,
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
}

#[tokio::test]
async fn describe_global_and_every_standard_object() {
    let org = Org::start().await;
    let (s, g) = org.get(&format!("{V}/sobjects")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(g["maxBatchSize"], 200);
    let objects = g["sobjects"].as_array().unwrap();
    let inv = objects
        .iter()
        .find(|o| o["name"] == "Invoice__c")
        .expect("custom object listed");
    assert_eq!(inv["custom"], true);
    assert!(inv["keyPrefix"].as_str().unwrap().starts_with("a0"));
    for (name, prefix) in [
        ("Account", "001"),
        ("Contact", "003"),
        ("Lead", "00Q"),
        ("Opportunity", "006"),
        ("Case", "500"),
        ("Task", "00T"),
        ("Campaign", "701"),
        ("Product2", "01t"),
        ("Pricebook2", "01s"),
        ("PricebookEntry", "01u"),
        ("User", "005"),
        ("ContentVersion", "068"),
    ] {
        let (s, d) = org.get(&format!("{V}/sobjects/{name}/describe")).await;
        assert_eq!(s, StatusCode::OK, "{name}");
        assert_eq!(d["keyPrefix"], prefix);
        let fields = d["fields"].as_array().unwrap();
        for sys in [
            "Id",
            "IsDeleted",
            "CreatedDate",
            "CreatedById",
            "LastModifiedDate",
            "LastModifiedById",
            "SystemModstamp",
        ] {
            assert!(fields.iter().any(|f| f["name"] == sys), "{name}.{sys}");
        }
        for f in fields {
            for key in [
                "name",
                "label",
                "type",
                "length",
                "nillable",
                "createable",
                "updateable",
                "externalId",
                "referenceTo",
                "picklistValues",
                "soapType",
                "precision",
                "scale",
                "unique",
                "idLookup",
                "calculated",
                "defaultedOnCreate",
            ] {
                assert!(f.get(key).is_some(), "{name}.{} lacks {key}", f["name"]);
            }
        }
    }
    let (_, d) = org.get(&format!("{V}/sobjects/Invoice__c/describe")).await;
    let f = |n: &str| {
        d["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(f("Number__c")["externalId"], true);
    assert_eq!(f("Account__c")["referenceTo"], json!(["Account"]));
    assert_eq!(f("Account__c")["relationshipName"], "Account__r");
    assert_eq!(
        f("Status__c")["picklistValues"].as_array().unwrap().len(),
        3
    );
    assert_eq!(f("Name")["nameField"], true);
    let (_, acc) = org.get(&format!("{V}/sobjects/Account/describe")).await;
    assert!(
        acc["childRelationships"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["childSObject"] == "Invoice__c" && c["relationshipName"] == "Invoices__r")
    );
    let (s, body) = org.get(&format!("{V}/sobjects/Nope__c/describe")).await;
    assert_eq!((s, code(&body)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (s, info) = org.get(&format!("{V}/sobjects/Account")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["objectDescribe"]["name"], "Account");
}

#[tokio::test]
async fn record_lifecycle_with_system_fields_and_ids() {
    let org = Org::start().await;
    let id = org.create("Account", json!({"Name": "Lifecycle", "NumberOfEmployees": 12, "AnnualRevenue": 1500.5, "Website": "https://x.example"})).await;
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("001"));
    let (s, rec) = org.get(&format!("{V}/sobjects/Account/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        rec["attributes"],
        json!({"type": "Account", "url": format!("{V}/sobjects/Account/{id}")})
    );
    assert_eq!(rec["NumberOfEmployees"], 12);
    assert_eq!(rec["AnnualRevenue"], 1500.5);
    assert_eq!(rec["IsDeleted"], false);
    assert!(rec["OwnerId"].as_str().unwrap().starts_with("005"));
    let stamp = rec["SystemModstamp"].as_str().unwrap();
    assert!(regex_like_datetime(stamp), "{stamp}");
    // 15-character and case-mangled 18-character ids find the same record.
    let (s, by15) = org
        .get(&format!("{V}/sobjects/Account/{}?fields=Name", &id[..15]))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(by15["Name"], "Lifecycle");
    assert_eq!(
        by15.as_object().unwrap().len(),
        2,
        "only attributes and the asked field: {by15}"
    );
    let (s, _) = org
        .get(&format!("{V}/sobjects/Account/{}", id.to_lowercase()))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = org
        .get(&format!("{V}/sobjects/Account/{id}?fields=Name,Bogus"))
        .await;
    assert_eq!((s, code(&body)), (StatusCode::BAD_REQUEST, "INVALID_FIELD"));
    // Update stamps LastModifiedDate and SystemModstamp.
    org.emu.advance_clock(std::time::Duration::from_secs(5));
    let r = org
        .req(Method::PATCH, &format!("{V}/sobjects/Account/{id}"))
        .json(&json!({"Name": "Renamed", "Website": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, rec2) = org.get(&format!("{V}/sobjects/Account/{id}")).await;
    assert_eq!(rec2["Name"], "Renamed");
    assert_eq!(rec2["Website"], Value::Null);
    assert_ne!(rec2["SystemModstamp"], rec["SystemModstamp"]);
    assert_eq!(rec2["CreatedDate"], rec["CreatedDate"]);
    // Delete moves it to the recycle bin.
    let r = org
        .req(Method::DELETE, &format!("{V}/sobjects/Account/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, body) = org.get(&format!("{V}/sobjects/Account/{id}")).await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::NOT_FOUND, "ENTITY_IS_DELETED")
    );
    let (s, body) = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Account/{id}"),
            json!({"Name": "x"}),
        )
        .await;
    assert_eq!(
        (s, code(&body)),
        (StatusCode::NOT_FOUND, "ENTITY_IS_DELETED")
    );
    // Undelete through the control API brings it back.
    let res = org.control("/undelete", json!({"ids": [id]})).await;
    assert_eq!(res[0]["success"], true);
    assert_eq!(
        org.get(&format!("{V}/sobjects/Account/{id}")).await.0,
        StatusCode::OK
    );
}

fn regex_like_datetime(s: &str) -> bool {
    s.len() == 28
        && &s[4..5] == "-"
        && &s[10..11] == "T"
        && &s[19..20] == "."
        && s.ends_with("+0000")
}

#[tokio::test]
async fn validation_errors_use_salesforce_codes() {
    let org = Org::start().await;
    let acct = org.create("Account", json!({"Name": "Parent"})).await;
    let cases: Vec<(&str, Value, &str, Option<&str>)> = vec![
        (
            "Account",
            json!({"Phone": "1"}),
            "REQUIRED_FIELD_MISSING",
            Some("Name"),
        ),
        (
            "Account",
            json!({"Name": "x".repeat(256)}),
            "STRING_TOO_LONG",
            Some("Name"),
        ),
        (
            "Account",
            json!({"Name": "x", "NumberOfEmployees": "many"}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            Some("NumberOfEmployees"),
        ),
        (
            "Account",
            json!({"Name": "x", "NumberOfEmployees": 1.5}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            None,
        ),
        (
            "Account",
            json!({"Name": "x", "Foo__c": 1}),
            "INVALID_FIELD",
            None,
        ),
        (
            "Account",
            json!({"Name": "x", "CreatedDate": "2024-01-01T00:00:00Z"}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            None,
        ),
        (
            "Account",
            json!({"Name": "x", "ParentId": "garbage"}),
            "MALFORMED_ID",
            None,
        ),
        (
            "Contact",
            json!({"LastName": "x", "AccountId": "003Dn0000000001IAA"}),
            "FIELD_INTEGRITY_EXCEPTION",
            None,
        ),
        (
            "Contact",
            json!({"LastName": "x", "AccountId": sf_emulator::ids::make_id("001", 99_999)}),
            "INVALID_CROSS_REFERENCE_KEY",
            None,
        ),
        (
            "Contact",
            json!({"LastName": "x", "Email": "not-an-email"}),
            "INVALID_EMAIL_ADDRESS",
            None,
        ),
        (
            "Opportunity",
            json!({"Name": "x", "StageName": "Bogus", "CloseDate": "2025-01-01"}),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            None,
        ),
        (
            "Opportunity",
            json!({"Name": "x", "StageName": "Prospecting", "CloseDate": "January"}),
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            None,
        ),
        (
            "Account",
            json!({"Name": "x", "Id": acct}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            None,
        ),
    ];
    for (object, body, want, field) in cases {
        let (s, e) = org
            .send(
                Method::POST,
                &format!("{V}/sobjects/{object}"),
                body.clone(),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(code(&e), want, "{body}: {e}");
        if let Some(f) = field {
            assert_eq!(e[0]["fields"], json!([f]));
        }
    }
    org.create("Account", json!({"Name": "Dup", "ERP_Id__c": "E1"}))
        .await;
    let (s, e) = org
        .send(
            Method::POST,
            &format!("{V}/sobjects/Account"),
            json!({"Name": "Dup2", "ERP_Id__c": "e1"}),
        )
        .await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "DUPLICATE_VALUE"));
    // Unknown objects and malformed ids.
    let (s, e) = org
        .send(Method::POST, &format!("{V}/sobjects/Nope__c"), json!({}))
        .await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    let (s, e) = org
        .get(&format!("{V}/sobjects/Account/003Dn0000000001IAA"))
        .await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "MALFORMED_ID"));
    let (s, e) = org
        .get(&format!(
            "{V}/sobjects/Account/{}",
            sf_emulator::ids::make_id("001", 99_999)
        ))
        .await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}

#[tokio::test]
async fn bad_bodies_are_answered_not_crashed_on() {
    let org = Org::start().await;
    let path = format!("{V}/sobjects/Account");
    let r = org
        .req(Method::POST, &path)
        .header("content-type", "application/json")
        .body("{\"Name\": ")
        .send()
        .await
        .unwrap();
    let (s, e) = json_of(r).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR")
    );
    let r = org
        .req(Method::POST, &path)
        .header("content-type", "application/json")
        .body("[1,2]")
        .send()
        .await
        .unwrap();
    let (s, e) = json_of(r).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR")
    );
    let r = org
        .req(Method::POST, &path)
        .header("content-type", "text/plain")
        .body("Name=x")
        .send()
        .await
        .unwrap();
    let (s, e) = json_of(r).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
    );
    let big = format!("{{\"Name\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    let r = org
        .req(Method::POST, &path)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r = org
        .req(Method::PUT, &format!("{V}/query"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let (s, e) = org.get(&format!("{V}/nothing/here")).await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
}

#[tokio::test]
async fn upsert_by_external_id_answers_like_salesforce() {
    let org = Org::start().await;
    let path = format!("{V}/sobjects/Account/ERP_Id__c/E-77");
    let (s, b) = org
        .send(Method::PATCH, &path, json!({"Name": "Upsert"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(b["created"], true);
    let id = b["id"].as_str().unwrap().to_string();
    let (s, b) = org
        .send(Method::PATCH, &path, json!({"Name": "Upsert 2"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let r = org
        .req(
            Method::PATCH,
            "/services/data/v45.0/sobjects/Account/ERP_Id__c/E-77",
        )
        .json(&json!({"Name": "Old API"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (s, rec) = org.get(&path).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(rec["Name"], "Old API");
    // Not an external id field: 404.
    let (s, e) = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Account/Name/x"),
            json!({"Phone": "1"}),
        )
        .await;
    assert_eq!((s, code(&e)), (StatusCode::NOT_FOUND, "NOT_FOUND"));
    // A non-unique external id matching several records: 300 with their URLs.
    let a = org
        .create("Invoice__c", json!({"Name": "A", "Ref__c": "R1"}))
        .await;
    let b = org
        .create("Invoice__c", json!({"Name": "B", "Ref__c": "R1"}))
        .await;
    let (s, urls) = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Invoice__c/Ref__c/R1"),
            json!({"Name": "C"}),
        )
        .await;
    assert_eq!(s, StatusCode::MULTIPLE_CHOICES);
    let urls: Vec<&str> = urls
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        vec![
            format!("{V}/sobjects/Invoice__c/{a}"),
            format!("{V}/sobjects/Invoice__c/{b}")
        ]
    );
    // A lookup set by the parent's external id in the body.
    let inv = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Invoice__c/Number__c/INV-1"),
            json!({"Name": "Inv", "Account__r": {"ERP_Id__c": "E-77"}}),
        )
        .await;
    assert_eq!(inv.0, StatusCode::CREATED, "{}", inv.1);
    let (_, rec) = org
        .get(&format!(
            "{V}/sobjects/Invoice__c/{}",
            inv.1["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(rec["Account__c"], id);
    // Upsert by Id updates that record.
    let (s, _) = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Account/Id/{id}"),
            json!({"Name": "By Id"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // Delete by external id.
    let r = org.req(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn updated_and_deleted_cover_whole_minutes() {
    let org = Org::start().await;
    let start = org.emu.now_ms();
    let kept = org
        .create("Lead", json!({"LastName": "Kept", "Company": "C"}))
        .await;
    let gone = org
        .create("Lead", json!({"LastName": "Gone", "Company": "C"}))
        .await;
    org.req(Method::DELETE, &format!("{V}/sobjects/Lead/{gone}"))
        .send()
        .await
        .unwrap();
    let iso = |ms: i64| sf_emulator::values::format_datetime(ms).replace('+', "%2B");
    // Still in the current minute: not covered yet.
    let (_, now) = org
        .get(&format!(
            "{V}/sobjects/Lead/updated/?start={}&end={}",
            iso(start - 60_000),
            iso(start + 3_600_000)
        ))
        .await;
    assert!(
        !now["ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == &json!(kept))
    );
    org.emu.advance_clock(std::time::Duration::from_secs(120));
    let (s, upd) = org
        .get(&format!(
            "{V}/sobjects/Lead/updated/?start={}&end={}",
            iso(start - 60_000),
            iso(start + 3_600_000)
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(upd["ids"], json!([kept]));
    assert!(
        upd["latestDateCovered"]
            .as_str()
            .unwrap()
            .ends_with(":00.000+0000")
    );
    let (_, del) = org
        .get(&format!(
            "{V}/sobjects/Lead/deleted/?start={}&end={}",
            iso(start - 60_000),
            iso(start + 3_600_000)
        ))
        .await;
    assert_eq!(del["deletedRecords"][0]["id"], gone);
    let (s, e) = org.get(&format!("{V}/sobjects/Lead/updated/")).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "MISSING_ARGUMENT"));
    let (s, e) = org
        .get(&format!(
            "{V}/sobjects/Lead/updated/?start={}&end={}",
            iso(start - 40 * 86_400_000),
            iso(start)
        ))
        .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "INVALID_REPLICATION_DATE")
    );
}

#[tokio::test]
async fn query_pages_with_next_records_url_and_batch_size() {
    let org = Org::demo().await;
    let (s, first) = org
        .query("SELECT Id, Name FROM Contact ORDER BY Name")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(first["totalSize"], 600);
    assert_eq!(first["done"], true);
    // 600 contacts in pages of 200.
    let url = reqwest::Url::parse_with_params(
        &org.url(&format!("{V}/query")),
        &[("q", "SELECT Id FROM Contact")],
    )
    .unwrap();
    let mut page: Value = org
        .http
        .get(url)
        .bearer_auth(&org.token)
        .header("Sforce-Query-Options", "batchSize=200")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        pages += 1;
        for r in page["records"].as_array().unwrap() {
            assert!(seen.insert(r["Id"].as_str().unwrap().to_string()));
        }
        if page["done"] == true {
            break;
        }
        let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
        assert!(next.starts_with(&format!("{V}/query/01g")), "{next}");
        page = org.get(&next).await.1;
    }
    assert_eq!((pages, seen.len()), (3, 600));
    let (s, e) = org.get(&format!("{V}/query/01gDn0000000001AAA-2000")).await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR")
    );
    // Over 2,000 rows: the default page is 2,000.
    for chunk in 0..11 {
        let records: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Task"}, "Subject": format!("Bulk task {}", chunk * 200 + i)})).collect();
        let (s, _) = org
            .send(
                Method::POST,
                &format!("{V}/composite/sobjects"),
                json!({"records": records}),
            )
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (_, big) = org
        .query("SELECT Id FROM Task WHERE Subject LIKE 'Bulk task%'")
        .await;
    assert_eq!(
        (
            big["totalSize"].as_u64(),
            big["records"].as_array().unwrap().len()
        ),
        (Some(2200), 2000)
    );
    assert!(big["nextRecordsUrl"].as_str().unwrap().ends_with("-2000"));
}

#[tokio::test]
async fn soql_filters_sorts_and_relationships() {
    let org = Org::start().await;
    let a1 = org.create("Account", json!({"Name": "Alpha", "Industry": "Banking", "NumberOfEmployees": 10, "ERP_Id__c": "A"})).await;
    let a2 = org
        .create(
            "Account",
            json!({"Name": "beta", "Industry": "Technology", "NumberOfEmployees": 50}),
        )
        .await;
    org.create(
        "Account",
        json!({"Name": "Gamma's", "NumberOfEmployees": 30}),
    )
    .await;
    org.create("Contact", json!({"LastName": "One", "AccountId": a1}))
        .await;
    org.create("Contact", json!({"LastName": "Two", "AccountId": a2}))
        .await;
    org.create("Contact", json!({"LastName": "Orphan"})).await;
    let names = |v: &Value| {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Name"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
    };
    let by_id = format!("SELECT Name FROM Account WHERE Id = '{}'", &a2[..15]);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "SELECT Name FROM Account ORDER BY Name",
            vec!["Alpha", "beta", "Gamma's"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name DESC",
            vec!["Gamma's", "beta", "Alpha"],
        ),
        (
            "SELECT Name FROM Account WHERE name = 'ALPHA'",
            vec!["Alpha"],
        ),
        (
            "SELECT Name FROM Account WHERE Name LIKE 'gam%'",
            vec!["Gamma's"],
        ),
        (
            "SELECT Name FROM Account WHERE Name = 'Gamma\\'s'",
            vec!["Gamma's"],
        ),
        (
            "SELECT Name FROM Account WHERE NumberOfEmployees > 10 AND NumberOfEmployees <= 50 ORDER BY NumberOfEmployees",
            vec!["Gamma's", "beta"],
        ),
        (
            "SELECT Name FROM Account WHERE Industry IN ('Banking', 'Technology') ORDER BY Name",
            vec!["Alpha", "beta"],
        ),
        (
            "SELECT Name FROM Account WHERE Industry NOT IN ('Banking') ORDER BY Name",
            vec!["beta", "Gamma's"],
        ),
        (
            "SELECT Name FROM Account WHERE Industry = null",
            vec!["Gamma's"],
        ),
        (
            "SELECT Name FROM Account WHERE NOT (Industry = 'Banking' OR Industry = null)",
            vec!["beta"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Industry NULLS LAST, Name LIMIT 2",
            vec!["Alpha", "beta"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Industry DESC NULLS FIRST",
            vec!["Gamma's", "beta", "Alpha"],
        ),
        (
            "SELECT Name FROM Account ORDER BY Name LIMIT 1 OFFSET 1",
            vec!["beta"],
        ),
        (
            "SELECT Name FROM Account WHERE CreatedDate = TODAY AND CreatedDate = LAST_N_DAYS:2 AND CreatedDate > YESTERDAY AND CreatedDate < TOMORROW ORDER BY Name",
            vec!["Alpha", "beta", "Gamma's"],
        ),
        (
            "SELECT Name FROM Account WHERE CreatedDate < YESTERDAY",
            vec![],
        ),
        ("SELECT Name FROM Account WHERE CreatedDate > TODAY", vec![]),
        (
            "SELECT Name FROM Account WHERE CreatedDate > 2000-01-01T00:00:00Z ORDER BY Name LIMIT 1",
            vec!["Alpha"],
        ),
        (by_id.as_str(), vec!["beta"]),
    ];
    for (soql, want) in cases {
        let (s, v) = org.query(soql).await;
        assert_eq!(s, StatusCode::OK, "{soql}: {v}");
        assert_eq!(names(&v), want, "{soql}");
    }
    let (_, v) = org
        .query("SELECT LastName, Account.Name, Account.Owner.Email FROM Contact ORDER BY LastName")
        .await;
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs[0]["LastName"], "One");
    assert_eq!(recs[0]["Account"]["Name"], "Alpha");
    assert_eq!(recs[0]["Account"]["attributes"]["type"], "Account");
    assert_eq!(
        recs[0]["Account"]["Owner"]["Email"],
        "admin@playground.syncstudio"
    );
    assert_eq!(recs[1]["Account"], Value::Null);
    let (_, v) = org
        .query("SELECT LastName FROM Contact WHERE Account.Name = 'beta'")
        .await;
    assert_eq!(v["records"][0]["LastName"], "Two");
    let (_, v) = org
        .query("SELECT COUNT() FROM Contact WHERE AccountId != null")
        .await;
    assert_eq!(
        (
            v["totalSize"].as_u64(),
            v["records"].as_array().map(Vec::len)
        ),
        (Some(2), Some(0))
    );
    let (_, v) = org.query("SELECT COUNT(Id) FROM Contact").await;
    assert_eq!(v["records"][0]["expr0"], 3);
    // Dates and datetimes come back in Salesforce's formats.
    org.create(
        "Opportunity",
        json!({"Name": "O", "StageName": "Closed Won", "CloseDate": "2024-01-31", "Amount": 100}),
    )
    .await;
    let (_, v) = org
        .query("SELECT CloseDate, Amount, IsWon, IsClosed FROM Opportunity")
        .await;
    assert_eq!(v["records"][0]["CloseDate"], "2024-01-31");
    assert_eq!(v["records"][0]["Amount"], 100.0);
    assert_eq!(v["records"][0]["IsWon"], true);
    let (_, v) = org
        .query("SELECT Tags__c FROM Invoice__c WHERE Tags__c INCLUDES ('a;b')")
        .await;
    assert_eq!(v["totalSize"], 0);
}

#[tokio::test]
async fn soql_errors() {
    let org = Org::start().await;
    let cases = [
        (
            "SELEC Id FROM Account",
            "MALFORMED_QUERY",
            "unexpected token: 'SELEC'",
        ),
        (
            "SELECT Id FROM Account WHERE",
            "MALFORMED_QUERY",
            "unexpected token: '<EOF>'",
        ),
        (
            "SELECT Id FROM Account LIMIT x",
            "MALFORMED_QUERY",
            "unexpected token: 'x'",
        ),
        (
            "SELECT Idd FROM Account",
            "INVALID_FIELD",
            "No such column 'Idd' on entity 'Account'",
        ),
        (
            "SELECT Id FROM Acount",
            "INVALID_TYPE",
            "sObject type 'Acount' is not supported",
        ),
        (
            "SELECT Id FROM Contact WHERE Acount.Name = 'x'",
            "INVALID_FIELD",
            "Didn't understand relationship 'Acount'",
        ),
        (
            "SELECT Id FROM Account WHERE NumberOfEmployees = '5'",
            "INVALID_FIELD",
            "must be of type int and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE Name = 5",
            "INVALID_FIELD",
            "must be of type string and should be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Account WHERE CreatedDate > 2024-01-01",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        (
            "SELECT Id FROM Account WHERE Id = 'xyz'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: xyz",
        ),
    ];
    for (soql, want, msg) in cases {
        let (s, e) = org.query(soql).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{soql}");
        assert_eq!(code(&e), want, "{soql}: {e}");
        let m = e[0]["message"].as_str().unwrap();
        assert!(m.contains(msg), "{soql}: {m}");
        assert!(m.contains("ERROR at Row:1:Column:"), "{m}");
    }
    let (s, e) = org.get(&format!("{V}/query")).await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "MALFORMED_QUERY"));
}

#[tokio::test]
async fn query_all_sees_the_recycle_bin() {
    let org = Org::start().await;
    let id = org.create("Case", json!({"Subject": "Recycled"})).await;
    org.req(Method::DELETE, &format!("{V}/sobjects/Case/{id}"))
        .send()
        .await
        .unwrap();
    let (_, live) = org.query("SELECT Id FROM Case").await;
    assert_eq!(live["totalSize"], 0);
    let all = org
        .query_all("SELECT Id, IsDeleted, CaseNumber FROM Case")
        .await;
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["IsDeleted"], true);
    assert_eq!(all["records"][0]["CaseNumber"], "00001000");
}

#[tokio::test]
async fn sosl_search() {
    let org = Org::demo().await;
    org.create(
        "Contact",
        json!({"LastName": "Zanzibar", "Email": "z@zanzibar.example"}),
    )
    .await;
    org.create("Lead", json!({"LastName": "Zanzibar", "Company": "Spice"}))
        .await;
    let url = reqwest::Url::parse_with_params(&org.url(&format!("{V}/search")), &[("q", "FIND {zanzibar} IN ALL FIELDS RETURNING Contact(Id, LastName), Lead(Id, Company WHERE Company = 'Spice')")]).unwrap();
    let (s, v) = json_of(
        org.http
            .get(url)
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let recs = v["searchRecords"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["attributes"]["type"], "Contact");
    assert_eq!(recs[1]["Company"], "Spice");
    let url =
        reqwest::Url::parse_with_params(&org.url(&format!("{V}/search")), &[("q", "FIND {Zanz*}")])
            .unwrap();
    let (_, v) = json_of(
        org.http
            .get(url)
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["searchRecords"].as_array().unwrap().len(), 2);
    let url = reqwest::Url::parse_with_params(
        &org.url(&format!("{V}/search")),
        &[("q", "SEARCH nothing")],
    )
    .unwrap();
    let (s, _) = json_of(
        org.http
            .get(url)
            .bearer_auth(&org.token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn sobject_collections() {
    let org = Org::start().await;
    let path = format!("{V}/composite/sobjects");
    let (s, res) = org
        .send(
            Method::POST,
            &path,
            json!({"records": [
                {"attributes": {"type": "Account"}, "Name": "C1", "ERP_Id__c": "C1"},
                {"attributes": {"type": "Contact"}, "LastName": "Mixed types"},
                {"attributes": {"type": "Account"}, "Phone": "no name"}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(res[0]["success"], true);
    assert_eq!(res[1]["success"], true);
    assert_eq!(res[2]["success"], false);
    assert_eq!(res[2]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    let a = res[0]["id"].as_str().unwrap().to_string();
    // allOrNone: the good ones are rolled back.
    let (_, res) = org.send(Method::POST, &path, json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Account"}, "Name": "Rolled"}, {"attributes": {"type": "Account"}}
    ]})).await;
    assert_eq!(
        res[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(res[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(
        org.query("SELECT COUNT() FROM Account WHERE Name = 'Rolled'")
            .await
            .1["totalSize"],
        0
    );
    // An id handed out in a rolled-back request is never given to another
    // record, and asking for it finds no record rather than another one.
    let rolled = res[0]["id"]
        .as_str()
        .expect("the rolled-back id")
        .to_string();
    let next = org
        .create("Account", json!({"Name": "After rollback"}))
        .await;
    assert!(next > a);
    assert_ne!(next, rolled);
    let (s, _) = org.get(&format!("{V}/sobjects/Account/{rolled}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // An 18-character id is case-insensitive: lower-cased, it is answered as
    // the same record, with its own id.
    let (s, same) = org
        .get(&format!("{V}/sobjects/Account/{}", next.to_lowercase()))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(same["Id"], next.as_str());
    // Update, upsert, retrieve, delete.
    let (_, res) = org.send(Method::PATCH, &path, json!({"records": [{"attributes": {"type": "Account"}, "Id": a, "Name": "C1 updated"}, {"attributes": {"type": "Account"}, "Id": sf_emulator::ids::make_id("001", 99_999), "Name": "x"}]})).await;
    assert_eq!(
        (
            res[0]["success"].clone(),
            res[1]["errors"][0]["statusCode"].clone()
        ),
        (json!(true), json!("NOT_FOUND"))
    );
    let (_, res) = org.send(Method::PATCH, &format!("{path}/Account/ERP_Id__c"), json!({"records": [{"attributes": {"type": "Account"}, "ERP_Id__c": "C1", "Name": "C1 upserted"}, {"attributes": {"type": "Account"}, "ERP_Id__c": "C2", "Name": "C2"}]})).await;
    assert_eq!(
        (res[0]["created"].clone(), res[1]["created"].clone()),
        (json!(false), json!(true))
    );
    let c2 = res[1]["id"].as_str().unwrap().to_string();
    let (s, got) = org
        .get(&format!(
            "{path}/Account?ids={a},{c2},{}&fields=Name,ERP_Id__c",
            sf_emulator::ids::make_id("001", 99_999)
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(got[0]["Name"], "C1 upserted");
    assert_eq!(got[1]["ERP_Id__c"], "C2");
    assert_eq!(got[2], Value::Null);
    let (s, got) = org
        .send(
            Method::POST,
            &format!("{path}/Account"),
            json!({"ids": [a], "fields": ["Name"]}),
        )
        .await;
    assert_eq!(
        (s, got[0]["Name"].clone()),
        (StatusCode::OK, json!("C1 upserted"))
    );
    let r = org
        .req(
            Method::DELETE,
            &format!("{path}?ids={a},{c2}&allOrNone=true"),
        )
        .send()
        .await
        .unwrap();
    let (_, res) = json_of(r).await;
    assert!(res.as_array().unwrap().iter().all(|r| r["success"] == true));
    // More than 200 records is refused whole.
    let many: Vec<Value> = (0..201)
        .map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("N{i}")}))
        .collect();
    let (s, e) = org
        .send(Method::POST, &path, json!({"records": many}))
        .await;
    assert_eq!(
        (s, code(&e)),
        (StatusCode::BAD_REQUEST, "EXCEEDED_ID_LIMIT")
    );
}

#[tokio::test]
async fn composite_with_references_and_rollback() {
    let org = Org::start().await;
    let (s, res) = org.send(Method::POST, &format!("{V}/composite"), json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "acct", "body": {"Name": "Comp"}},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "ct", "body": {"LastName": "Ref", "AccountId": "@{acct.id}"}},
        {"method": "GET", "url": format!("{V}/query?q=SELECT+Id,Account.Name+FROM+Contact+WHERE+Id='@{{ct.id}}'"), "referenceId": "q"},
        {"method": "GET", "url": format!("{V}/sobjects/Contact/@{{q.records[0].Id}}?fields=LastName"), "referenceId": "byIndex"},
        {"method": "POST", "url": format!("{V}/sobjects/Contact"), "referenceId": "bad", "body": {"FirstName": "No last"}},
        {"method": "GET", "url": format!("{V}/sobjects/Contact/@{{bad.id}}"), "referenceId": "dangling"}
    ]})).await;
    assert_eq!(s, StatusCode::OK);
    let r = res["compositeResponse"].as_array().unwrap();
    assert_eq!(r[0]["httpStatusCode"], 201);
    assert_eq!(
        r[0]["httpHeaders"]["Location"],
        format!(
            "{V}/sobjects/Account/{}",
            r[0]["body"]["id"].as_str().unwrap()
        )
    );
    assert_eq!(r[2]["body"]["records"][0]["Account"]["Name"], "Comp");
    assert_eq!(r[3]["body"]["LastName"], "Ref");
    assert_eq!(r[4]["httpStatusCode"], 400);
    assert_eq!(r[5]["body"][0]["errorCode"], "PROCESSING_HALTED");
    // allOrNone rolls every earlier write back.
    let (_, res) = org.send(Method::POST, &format!("{V}/composite"), json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "a", "body": {"Name": "Undone"}},
        {"method": "PATCH", "url": format!("{V}/sobjects/Account/@{{a.id}}"), "referenceId": "b", "body": {"Name": ""}},
        {"method": "POST", "url": format!("{V}/sobjects/Account"), "referenceId": "c", "body": {"Name": "Never"}}
    ]})).await;
    let r = res["compositeResponse"].as_array().unwrap();
    assert_eq!(r[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(r[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(r[2]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(
        org.query("SELECT COUNT() FROM Account WHERE Name IN ('Undone', 'Never')")
            .await
            .1["totalSize"],
        0
    );
    let subs: Vec<Value> = (0..26).map(|i| json!({"method": "GET", "url": format!("{V}/limits"), "referenceId": format!("r{i}")})).collect();
    let (s, e) = org
        .send(
            Method::POST,
            &format!("{V}/composite"),
            json!({"compositeRequest": subs}),
        )
        .await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "LIMIT_EXCEEDED"));
    // One composite request counts as one API call.
    let before = org.emu.api_used();
    let subs: Vec<Value> = (0..5).map(|i| json!({"method": "GET", "url": format!("{V}/limits"), "referenceId": format!("r{i}")})).collect();
    org.send(
        Method::POST,
        &format!("{V}/composite"),
        json!({"compositeRequest": subs}),
    )
    .await;
    assert_eq!(org.emu.api_used(), before + 1);
}

/// A change still in an open transaction (not visible to queries yet)
/// holds `latestDateCovered` back to before its stamp: a client resuming
/// from there sees the record once it commits, never misses it.
#[tokio::test]
async fn latest_date_covered_stays_before_a_change_not_yet_visible() {
    let org = Org::start().await;
    let iso = |ms: i64| sf_emulator::values::format_datetime(ms).replace('+', "%2B");
    let t0 = org.emu.now_ms();
    let early = org
        .create("Lead", json!({"LastName": "Early", "Company": "C"}))
        .await;
    org.control("/settings", json!({"visibilityDelaySecs": 180}))
        .await;
    let late = org
        .create("Lead", json!({"LastName": "Late", "Company": "C"}))
        .await;
    org.control("/settings", json!({"visibilityDelaySecs": 0}))
        .await;
    let updated = |start: i64| {
        format!(
            "{V}/sobjects/Lead/updated/?start={}&end={}",
            iso(start),
            iso(t0 + 3_600_000)
        )
    };
    org.emu.advance_clock(std::time::Duration::from_secs(120));
    let (_, first) = org.get(&updated(t0 - 60_000)).await;
    let covered =
        sf_emulator::values::parse_datetime(first["latestDateCovered"].as_str().unwrap()).unwrap();
    assert!(
        covered <= t0,
        "covered up to {covered}, past the open change at {t0}"
    );
    assert!(
        !first["ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i == &json!(late))
    );
    // Committed: the next window, from where the last one ended, has it.
    org.emu.advance_clock(std::time::Duration::from_secs(120));
    let (_, second) = org.get(&updated(covered)).await;
    let ids = second["ids"].as_array().unwrap();
    assert!(
        ids.contains(&json!(late)) && ids.contains(&json!(early)),
        "{second}"
    );
    let now_covered =
        sf_emulator::values::parse_datetime(second["latestDateCovered"].as_str().unwrap()).unwrap();
    assert!(now_covered > t0 + 180_000, "{second}");
}

/// A record written again inside the transaction that created it (not
/// visible yet) holds `latestDateCovered` back to the transaction's start,
/// not its last write: a client resuming from there reads its creation.
#[tokio::test]
async fn latest_date_covered_stays_before_an_open_transaction_s_first_write() {
    let org = Org::start().await;
    let iso = |ms: i64| sf_emulator::values::format_datetime(ms).replace('+', "%2B");
    let t0 = org.emu.now_ms();
    org.control("/settings", json!({"visibilityDelaySecs": 600}))
        .await;
    let id = org
        .create("Lead", json!({"LastName": "Open", "Company": "C"}))
        .await;
    org.emu.advance_clock(std::time::Duration::from_secs(180));
    let (status, _) = org
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Lead/{id}"),
            json!({"Company": "Still open"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, v) = org
        .get(&format!(
            "{V}/sobjects/Lead/updated/?start={}&end={}",
            iso(t0 - 60_000),
            iso(t0 + 3_600_000)
        ))
        .await;
    let covered =
        sf_emulator::values::parse_datetime(v["latestDateCovered"].as_str().unwrap()).unwrap();
    assert!(
        covered <= t0,
        "covered up to {covered}, past the transaction's start at {t0}"
    );
}
