//! Query rows to CSV and JSON, read back exactly.

use serde_json::json;
use sf_emulator::Emulator;
use studio::export::{Format, write_query};

async fn client(org: &Emulator) -> salesforce::Client {
    let tokens: salesforce::Tokens = serde_json::from_value(org.issue_token("export")).unwrap();
    salesforce::Client::connect(
        salesforce::Config::new(
            org.base_url(),
            salesforce::App {
                client_id: "export".into(),
                client_secret: None,
            },
        ),
        tokens,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn csv_and_json_hold_exactly_what_salesforce_sent() {
    let org = Emulator::start(sf_emulator::Config::default())
        .await
        .unwrap();
    let c = client(&org).await;
    let acct = c
        .create(
            "Account",
            &json!({"Name": "Quotes \"and\", commas\nand lines \\ ü"}),
        )
        .await
        .unwrap();
    c.create(
        "Contact",
        &json!({"LastName": "Child", "AccountId": acct, "Birthdate": "1990-05-01"}),
    )
    .await
    .unwrap();
    c.create("Contact", &json!({"LastName": "Orphan"}))
        .await
        .unwrap();

    let mut out = Vec::new();
    let n = write_query(
        &c,
        "SELECT LastName, account.name, Birthdate FROM Contact ORDER BY LastName",
        false,
        Format::Csv,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let mut r = csv::Reader::from_reader(&out[..]);
    assert_eq!(
        r.headers().unwrap(),
        vec!["LastName", "account.name", "Birthdate"],
        "columns as the user wrote them"
    );
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows[0],
        vec![
            "Child",
            "Quotes \"and\", commas\nand lines \\ ü",
            "1990-05-01"
        ]
    );
    assert_eq!(
        rows[1],
        vec!["Orphan", "", ""],
        "a null parent gives empty cells"
    );

    // A query across lines keeps its columns even when the first row's
    // parent is null.
    let mut out = Vec::new();
    write_query(
        &c,
        "SELECT LastName,\n  Account.Name\nFROM Contact\nORDER BY LastName DESC",
        false,
        Format::Csv,
        &mut out,
    )
    .await
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "LastName,Account.Name\nOrphan,\nChild,\"Quotes \"\"and\"\", commas\nand lines \\ ü\"\n"
    );
    // Salesforce judges a bad query, and its error comes back typed.
    let mut out = Vec::new();
    let err = write_query(&c, "SELECT Nope FROM Contact", false, Format::Csv, &mut out)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), studio::ErrorKind::Api);
    let mut out = Vec::new();
    let n = write_query(
        &c,
        "SELECT Id, Account.Name FROM Contact ORDER BY LastName",
        false,
        Format::Json,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        rows[0]["Account"],
        json!({"Name": "Quotes \"and\", commas\nand lines \\ ü"}),
        "attributes removed"
    );
    assert_eq!(rows[1]["Account"], serde_json::Value::Null);

    let mut out = Vec::new();
    write_query(
        &c,
        "SELECT COUNT() FROM Contact",
        false,
        Format::Csv,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "2\n");
}
