//! `syncstudio flows import | export | list | enable | disable` against the
//! playground: a flow file is checked (its shape and what it names in the
//! org) before it is saved, and comes back out as it went in.

mod common;
use common::*;

use serde_json::{Value, json};

fn example(connection: &str) -> Value {
    json!({
        "version": 1,
        "name": "Contacts to the ERP",
        "nodes": [
            {"id": "t", "type": "salesforce.trigger", "params": {
                "connection": connection, "object": "Contact",
                "on": "created_or_updated", "every_seconds": 60,
                "fields": ["Id", "FirstName", "LastName", "Email", "SystemModstamp"],
                "where": "Email != null", "start": "now"}},
            {"id": "f", "type": "filter", "params": {"condition": "record.LastName != 'Test' and record.Email is not none"}},
            {"id": "post", "type": "http.request", "params": {
                "method": "POST", "url": "https://erp.example.com/contacts",
                "headers": {"Content-Type": "application/json"},
                "body": "{\"id\": \"{{ record.Id }}\", \"email\": \"{{ record.Email }}\"}"}}
        ],
        "edges": [{"from": "t", "to": "f"}, {"from": "f", "to": "post"}],
        "layout": {"t": {"x": 0.0, "y": 0.0}, "f": {"x": 240.0, "y": 0.0}}
    })
}

fn import(home: &std::path::Path, flow: &Value) -> std::process::Output {
    let file = home.join("flow.json");
    std::fs::write(&file, serde_json::to_string_pretty(flow).unwrap()).unwrap();
    syncstudio(home, &["flows", "import", file.to_str().unwrap()])
}

fn listed(home: &std::path::Path) -> Value {
    let o = syncstudio(home, &["flows", "list", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn a_flow_is_checked_saved_listed_enabled_and_exported_as_written() {
    let home = temp("flows");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());

    let o = import(&home, &example("Play"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("3 nodes, starts on Contact created_or_updated every 60 s"));
    let list = listed(&home);
    assert_eq!(list[0]["name"], "Contacts to the ERP");
    assert_eq!(list[0]["enabled"], false, "a flow starts disabled");

    let o = syncstudio(&home, &["flows", "enable", "Contacts to the ERP"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(listed(&home)[0]["enabled"], true);

    // Saved again (edited in git), it stays enabled.
    let mut edited = example("Play");
    edited["nodes"][0]["params"]["every_seconds"] = json!(30);
    assert!(import(&home, &edited).status.success());
    let list = listed(&home);
    assert_eq!(
        (list.as_array().unwrap().len(), &list[0]["enabled"]),
        (1, &json!(true))
    );
    assert!(list[0]["start"].as_str().unwrap().ends_with("every 30 s"));

    let out = home.join("out.json");
    let o = syncstudio(
        &home,
        &[
            "flows",
            "export",
            "Contacts to the ERP",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let back: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(back, edited, "the file comes back as it went in");

    let o = syncstudio(&home, &["flows", "disable", "Contacts to the ERP"]);
    assert!(o.status.success());
    assert_eq!(listed(&home)[0]["enabled"], false);
}

#[test]
fn what_the_org_lacks_is_named_with_its_node_and_nothing_is_saved() {
    let home = temp("flows-org");
    let org = playground(&home);
    assert!(add_quick(&home, "Play", &org.url, &[]).status.success());
    let cases: Vec<(Value, &str)> = vec![
        (
            example("Nowhere"),
            "node t: there is no connection named \"Nowhere\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["fields"] = json!(["Id", "Emial"]);
                f["nodes"][1]["params"]["condition"] = json!("true");
                f["nodes"][2]["params"]["body"] = json!("{{ record.Id }}");
                f
            },
            "node t: Contact has no field \"Emial\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["object"] = json!("Contract__x");
                f
            },
            "node t: the org has no object \"Contract__x\"",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][0]["params"]["where"] = json!("Email !!= null");
                f
            },
            "node t: where \"Email !!= null\" is not a SOQL condition the org takes",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][2] = json!({"id": "post", "type": "salesforce.upsert", "params": {
                    "connection": "Play", "object": "Account", "external_id": "Name",
                    "fields": {"Name": "{{ record.LastName }}", "CreatedDate": "{{ record.Id }}"}}});
                f
            },
            "node post: Account.Name is not an external id field",
        ),
        (
            {
                let mut f = example("Play");
                f["nodes"][2] = json!({"id": "post", "type": "salesforce.create", "params": {
                    "connection": "Play", "object": "Account",
                    "fields": {"Name": "{{ record.LastName }}", "CreatedDate": "{{ record.Id }}"}}});
                f
            },
            "node post: Account.CreatedDate cannot be written",
        ),
    ];
    for (flow, expected) in cases {
        let o = import(&home, &flow);
        assert_eq!(o.status.code(), Some(2), "{expected}");
        let err = text(&o.stderr);
        assert!(err.contains(expected), "expected {expected:?} in {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    assert_eq!(listed(&home), json!([]), "nothing saved");
    let o = syncstudio(&home, &["flows", "export", "Nothing"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no flow named \"Nothing\""));
}
