//! Bulk API 2.0 ingest and query jobs.

mod common;
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test]
async fn insert_with_results_and_row_errors() {
    let org = Org::start().await;
    let parent = org
        .create("Account", json!({"Name": "Parent", "ERP_Id__c": "P-1"}))
        .await;
    let csv = "Name,Status__c,Total__c,Account__r.ERP_Id__c,Due__c\n\"Inv, one\",Draft,10.5,P-1,2025-02-01\nInv two,Bogus,1,,\nInv three,Paid,x,,\nInv four,Sent,2,P-404,\n";
    let (id, info) = run(&org, json!({"object": "Invoice__c", "operation": "insert", "contentType": "CSV", "lineEnding": "LF"}), csv).await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["numberRecordsProcessed"], 4);
    assert_eq!(info["numberRecordsFailed"], 3);
    assert_eq!(info["jobType"], "V2Ingest");
    let ok = results(&org, &id, "successfulResults").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(&ok[0][1], "true");
    assert_eq!(&ok[0][2], "Inv, one");
    let (_, rec) = org
        .get(&format!("{V}/sobjects/Invoice__c/{}", &ok[0][0]))
        .await;
    assert_eq!(rec["Account__c"], parent);
    assert_eq!(rec["Total__c"], 10.5);
    assert_eq!(rec["Due__c"], "2025-02-01");
    let failed = results(&org, &id, "failedResults").await;
    assert_eq!(failed.len(), 3);
    assert!(
        failed[0][1].starts_with("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:"),
        "{:?}",
        failed[0]
    );
    assert!(failed[0][1].ends_with(" --"));
    assert!(failed[1][1].starts_with("INVALID_TYPE_ON_FIELD_IN_RECORD:"));
    assert!(failed[2][1].contains("P-404"));
    assert_eq!(&failed[2][2], "Inv four");
    assert!(results(&org, &id, "unprocessedrecords").await.is_empty());
}

#[tokio::test]
async fn update_upsert_delete_and_hard_delete() {
    let org = Org::start().await;
    let a = org
        .create(
            "Account",
            json!({"Name": "A", "ERP_Id__c": "E-A", "Phone": "1"}),
        )
        .await;
    let b = org
        .create("Account", json!({"Name": "B", "ERP_Id__c": "E-B"}))
        .await;
    // update: empty cells leave values alone, #N/A blanks them.
    let (_, info) = run(
        &org,
        json!({"object": "Account", "operation": "update"}),
        &format!("Id,Name,Phone\n{a},A2,#N/A\n{b},,5\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    let (_, ra) = org.get(&format!("{V}/sobjects/Account/{a}")).await;
    assert_eq!(
        (ra["Name"].clone(), ra["Phone"].clone()),
        (json!("A2"), Value::Null)
    );
    let (_, rb) = org.get(&format!("{V}/sobjects/Account/{b}")).await;
    assert_eq!(
        (rb["Name"].clone(), rb["Phone"].clone()),
        (json!("B"), json!("5"))
    );
    // upsert on the external id: one update, one insert.
    let (id, info) = run(
        &org,
        json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "ERP_Id__c"}),
        "ERP_Id__c,Name\nE-A,A3\nE-C,C\n",
    )
    .await;
    assert_eq!(info["externalIdFieldName"], "ERP_Id__c");
    let ok = results(&org, &id, "successfulResults").await;
    assert_eq!((&ok[0][0], &ok[0][1]), (a.as_str(), "false"));
    assert_eq!(&ok[1][1], "true");
    // delete sends to the recycle bin, hardDelete removes for good.
    let (_, info) = run(
        &org,
        json!({"object": "Account", "operation": "delete"}),
        &format!("Id\n{a}\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    let all = org
        .query_all("SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true")
        .await;
    assert_eq!(all["records"][0]["Id"], a);
    let (id, info) = run(
        &org,
        json!({"object": "Account", "operation": "hardDelete"}),
        &format!("Id\n{b}\n{}\n", &b[..15]),
    )
    .await;
    assert_eq!(
        info["numberRecordsFailed"], 1,
        "the second delete of the same record fails"
    );
    assert!(results(&org, &id, "failedResults").await[0][1].starts_with("NOT_FOUND"));
    let all = org
        .query_all("SELECT Id FROM Account WHERE Name = 'B'")
        .await;
    assert_eq!(all["totalSize"], 0);
}

#[tokio::test]
async fn job_level_failures() {
    let org = Org::start().await;
    let (_, info) = run(
        &org,
        json!({"object": "Account", "operation": "insert"}),
        "Name,Nope__c\nx,1\n",
    )
    .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Nope__c"
    );
    let (_, info) = run(
        &org,
        json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
        "Name\r\nx\r\n",
    )
    .await;
    assert_eq!(info["state"], "Failed");
    assert!(
        info["errorMessage"]
            .as_str()
            .unwrap()
            .contains("LineEnding is invalid")
    );
    let (_, info) = run(&org, json!({"object": "Account", "operation": "insert", "lineEnding": "CRLF", "columnDelimiter": "SEMICOLON"}), "Name;Phone\r\nSemi;1\r\n").await;
    assert_eq!(
        (info["state"].clone(), info["numberRecordsFailed"].clone()),
        (json!("JobComplete"), json!(0))
    );
    let (_, info) = run(
        &org,
        json!({"object": "Account", "operation": "update"}),
        "Name\nx\n",
    )
    .await;
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Id"
    );
    for (spec, msg) in [
        (
            json!({"object": "Nope__c", "operation": "insert"}),
            "Unable to find object",
        ),
        (
            json!({"object": "Account", "operation": "merge"}),
            "Invalid operation",
        ),
        (
            json!({"object": "Account", "operation": "upsert"}),
            "External ID was blank",
        ),
        (
            json!({"object": "Account", "operation": "upsert", "externalIdFieldName": "Name"}),
            "is not an External ID",
        ),
        (
            json!({"object": "Account", "operation": "insert", "columnDelimiter": "DASH"}),
            "Invalid columnDelimiter",
        ),
    ] {
        let (s, e) = org
            .send(Method::POST, &format!("{V}/jobs/ingest"), spec)
            .await;
        assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "INVALIDJOB"));
        assert!(e[0]["message"].as_str().unwrap().contains(msg), "{e}");
    }
    let id = job(&org, json!({"object": "Account", "operation": "insert"})).await;
    let r = org
        .req(Method::PUT, &format!("{V}/jobs/ingest/{id}/batches"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (s, _) = org
        .get(&format!("{V}/jobs/ingest/750Dn0000000999AAA"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn gzip_upload_several_uploads_abort_and_list() {
    use std::io::Write;
    let org = Org::start().await;
    let id = job(&org, json!({"object": "Contact", "operation": "insert"})).await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"LastName,Email\nZip,zip@example.com\n")
        .unwrap();
    let r = org
        .req(Method::PUT, &format!("{V}/jobs/ingest/{id}/batches"))
        .header("content-type", "text/csv")
        .header("content-encoding", "gzip")
        .body(gz.finish().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        upload(&org, &id, "LastName,Email\nSecond,second@example.com\n").await,
        StatusCode::CREATED
    );
    let info = close_and_wait(&org, &id).await;
    assert_eq!(info["numberRecordsProcessed"], 2);
    assert_eq!(
        upload(&org, &id, "LastName\nlate\n").await,
        StatusCode::CONFLICT
    );
    let aborted = job(&org, json!({"object": "Contact", "operation": "insert"})).await;
    let (s, info) = org
        .send(
            Method::PATCH,
            &format!("{V}/jobs/ingest/{aborted}"),
            json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(
        (s, info["state"].clone()),
        (StatusCode::OK, json!("Aborted"))
    );
    let (_, list) = org.get(&format!("{V}/jobs/ingest")).await;
    assert_eq!(list["records"].as_array().unwrap().len(), 2);
    assert_eq!(list["done"], true);
    let r = org
        .req(Method::DELETE, &format!("{V}/jobs/ingest/{aborted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn uploads_arrive_in_pieces_and_one_past_150_mb_is_refused_leaving_the_job_as_it_was() {
    let org = Org::start().await;
    let id = job(&org, json!({"object": "Contact", "operation": "insert"})).await;
    assert_eq!(
        upload(&org, &id, "LastName,Email\nFirst,first@example.com\n").await,
        StatusCode::CREATED
    );
    // A second upload whose repeated header is split across pieces.
    let pieces: Vec<Result<&'static str, std::io::Error>> = vec![
        Ok("Last"),
        Ok("Name,Em"),
        Ok("ail\nSec"),
        Ok("ond,second@example.com\n"),
    ];
    let r = org
        .req(Method::PUT, &format!("{V}/jobs/ingest/{id}/batches"))
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(pieces)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // 151 MB, streamed: refused whole, and nothing of it is kept.
    let row = "Big,big@example.com\n".repeat(50_000);
    let blocks = 151 * 1024 * 1024 / row.len() + 1;
    let big = futures::stream::iter(
        std::iter::once(Ok::<_, std::io::Error>("LastName,Email\n".to_string()))
            .chain((0..blocks).map(move |_| Ok(row.clone()))),
    );
    let r = org
        .req(Method::PUT, &format!("{V}/jobs/ingest/{id}/batches"))
        .header("content-type", "text/csv")
        .body(reqwest::Body::wrap_stream(big))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(r).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(code(&body), "REQUEST_ENTITY_TOO_LARGE", "{body}");
    let info = close_and_wait(&org, &id).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    assert_eq!(info["numberRecordsProcessed"], 2);
    let ok = results(&org, &id, "successfulResults").await;
    let names: Vec<&str> = ok.iter().map(|r| &r[2]).collect();
    assert_eq!(names, ["First", "Second"]);
    assert_eq!(&ok[1][3], "second@example.com");
}

#[tokio::test]
async fn query_jobs_page_with_locators() {
    let org = Org::demo().await;
    let (s, info) = org.send(Method::POST, &format!("{V}/jobs/query"), json!({"operation": "query", "query": "SELECT Id, Name, Account.Name FROM Contact ORDER BY Name"})).await;
    assert_eq!(s, StatusCode::OK, "{info}");
    assert_eq!(info["state"], "UploadComplete");
    let id = info["id"].as_str().unwrap().to_string();
    for _ in 0..300 {
        if org.get(&format!("{V}/jobs/query/{id}")).await.1["state"] == "JobComplete" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, info) = org.get(&format!("{V}/jobs/query/{id}")).await;
    assert_eq!(
        (
            info["state"].clone(),
            info["numberRecordsProcessed"].clone()
        ),
        (json!("JobComplete"), json!(600))
    );
    let mut locator = String::new();
    let mut rows = 0;
    let mut pages = 0;
    loop {
        let mut path = format!("{V}/jobs/query/{id}/results?maxRecords=250");
        if !locator.is_empty() {
            path.push_str(&format!("&locator={locator}"));
        }
        let r = org.req(Method::GET, &path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let next = r.headers()["sforce-locator"].to_str().unwrap().to_string();
        let n: usize = r.headers()["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let text = r.text().await.unwrap();
        assert!(
            text.starts_with("\"Id\",\"Name\",\"Account.Name\"\n"),
            "{}",
            &text[..60]
        );
        let count = csv::Reader::from_reader(text.as_bytes()).records().count();
        assert_eq!(count, n);
        rows += n;
        pages += 1;
        if next == "null" {
            break;
        }
        locator = next;
    }
    assert_eq!((rows, pages), (600, 3));
    let (s, e) = org
        .send(
            Method::POST,
            &format!("{V}/jobs/query"),
            json!({"query": "SELECT Nope FROM Contact"}),
        )
        .await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "INVALID_FIELD"));
    let (s, _) = org
        .get(&format!("{V}/jobs/query/{id}/results?locator=garbage!"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn query_jobs_list_abort_and_delete() {
    let org = Org::start().await;
    let (_, a) = org.send(Method::POST, &format!("{V}/jobs/query"), json!({"operation": "queryAll", "query": "SELECT Id FROM Account", "columnDelimiter": "PIPE", "lineEnding": "CRLF"})).await;
    assert_eq!(a["operation"], "queryAll");
    assert_eq!(a["columnDelimiter"], "PIPE");
    let (_, list) = org.get(&format!("{V}/jobs/query")).await;
    assert_eq!(list["records"].as_array().unwrap().len(), 1);
    let id = a["id"].as_str().unwrap();
    let (s, aborted) = org
        .send(
            Method::PATCH,
            &format!("{V}/jobs/query/{id}"),
            json!({"state": "Aborted"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(matches!(
        aborted["state"].as_str(),
        Some("Aborted" | "JobComplete")
    ));
    let r = org
        .req(Method::DELETE, &format!("{V}/jobs/query/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        org.get(&format!("{V}/jobs/query/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, e) = org
        .send(
            Method::POST,
            &format!("{V}/jobs/query"),
            json!({"query": "SELECT COUNT() FROM Account"}),
        )
        .await;
    assert_eq!((s, code(&e)), (StatusCode::BAD_REQUEST, "INVALIDJOB"));
    // Closing a REST query locator is accepted.
    let r = org
        .req(
            Method::DELETE,
            &format!("{V}/query/01gDn0000000001IAA-2000"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}
