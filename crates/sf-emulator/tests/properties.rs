//! Property tests: arbitrary SOQL, JSON bodies and CSV never crash the org,
//! and WHERE evaluation agrees with a small reference model.

use proptest::prelude::*;
use serde_json::{Value, json};
use sf_emulator::Org;
use sf_emulator::query::Plan;
use sf_emulator::values::Val;

const WORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "IN",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "null",
    "true",
    "false",
    "COUNT",
    "(",
    ")",
    ",",
    ".",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "Id",
    "Name",
    "Account",
    "Contact",
    "Owner",
    "Email",
    "NumberOfEmployees",
    "CreatedDate",
    "TODAY",
    "LAST_N_DAYS",
    ":",
    "5",
    "-1.5",
    "'x'",
    "'it\\'s'",
    "'%a_'",
    "2024-01-31",
    "2024-01-31T09:15:00Z",
    "Industry",
    "INCLUDES",
    "Foo__c",
    "'",
    "\\",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..24).prop_map(|w| w.join(" "))
}

fn org_with_accounts(rows: &[(Option<i64>, &str)]) -> Org {
    let mut org = Org::new();
    let acc = org.object("Account").unwrap();
    let name = org.def(acc).field("Name").unwrap();
    let emp = org.def(acc).field("NumberOfEmployees").unwrap();
    for (n, nm) in rows {
        let mut vals = vec![(name, Val::str(*nm))];
        if let Some(n) = n {
            vals.push((emp, Val::Num(*n as f64)));
        }
        org.insert(acc, vals, 1).unwrap();
    }
    org
}

#[derive(Debug, Clone)]
enum Cond {
    Emp(&'static str, i64),
    EmpNull(bool),
    NameEq(&'static str),
    NameLike(&'static str),
    In(Vec<i64>, bool),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
}

const NAMES: &[&str] = &["alpha", "Beta", "gamma", "ALPHA", "delta"];

fn cond() -> impl Strategy<Value = Cond> {
    let leaf = prop_oneof![
        (
            prop::sample::select(&["=", "!=", "<", "<=", ">", ">="][..]),
            -3i64..8
        )
            .prop_map(|(op, n)| Cond::Emp(op, n)),
        any::<bool>().prop_map(Cond::EmpNull),
        prop::sample::select(NAMES).prop_map(Cond::NameEq),
        prop::sample::select(&["a%", "%a", "_eta", "%LPH%", "g_mm_"][..]).prop_map(Cond::NameLike),
        (prop::collection::vec(-2i64..6, 1..4), any::<bool>())
            .prop_map(|(v, neg)| Cond::In(v, neg)),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Cond::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Cond::Not(Box::new(a))),
        ]
    })
}

fn soql(c: &Cond) -> String {
    match c {
        Cond::Emp(op, n) => format!("NumberOfEmployees {op} {n}"),
        Cond::EmpNull(eq) => format!("NumberOfEmployees {} null", if *eq { "=" } else { "!=" }),
        Cond::NameEq(s) => format!("Name = '{s}'"),
        Cond::NameLike(p) => format!("Name LIKE '{p}'"),
        Cond::In(v, neg) => format!(
            "NumberOfEmployees {}IN ({})",
            if *neg { "NOT " } else { "" },
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        ),
        Cond::And(a, b) => format!("({} AND {})", soql(a), soql(b)),
        Cond::Or(a, b) => format!("({} OR {})", soql(a), soql(b)),
        Cond::Not(a) => format!("(NOT {})", soql(a)),
    }
}

fn like(p: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (
        p.to_lowercase().chars().collect(),
        s.to_lowercase().chars().collect(),
    );
    fn go(p: &[char], s: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('%') => (0..=s.len()).any(|i| go(&p[1..], &s[i..])),
            Some('_') => !s.is_empty() && go(&p[1..], &s[1..]),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..]),
        }
    }
    go(&p, &s)
}

/// SOQL's two-valued logic: a null only equals null; ordered comparisons
/// with null are false.
fn reference(c: &Cond, emp: Option<i64>, name: &str) -> bool {
    match c {
        Cond::Emp(op, n) => match (op, emp) {
            (&"=", e) => e == Some(*n),
            (&"!=", e) => e != Some(*n),
            (_, None) => false,
            (&"<", Some(e)) => e < *n,
            (&"<=", Some(e)) => e <= *n,
            (&">", Some(e)) => e > *n,
            (_, Some(e)) => e >= *n,
        },
        Cond::EmpNull(eq) => emp.is_none() == *eq,
        Cond::NameEq(s) => s.eq_ignore_ascii_case(name),
        Cond::NameLike(p) => like(p, name),
        Cond::In(v, neg) => emp.is_some_and(|e| v.contains(&e)) != *neg,
        Cond::And(a, b) => reference(a, emp, name) && reference(b, emp, name),
        Cond::Or(a, b) => reference(a, emp, name) || reference(b, emp, name),
        Cond::Not(a) => !reference(a, emp, name),
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,300}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_string_round_trips_through_the_json_writer(text in "\\PC*|[\"\\\\\\x00-\\x1f]{0,8}") {
        let mut out = String::new();
        sf_emulator::query::push_json_str(&mut out, &text);
        prop_assert_eq!(serde_json::from_str::<String>(&out).unwrap(), text);
    }

    #[test]
    fn any_text_parses_or_fails_cleanly(q in "\\PC{0,120}") {
        let org = Org::new();
        if let Err(e) = Plan::compile(&org, &q) {
            prop_assert!(["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "INVALID_QUERY_FILTER_OPERATOR", "NUMBER_OUTSIDE_VALID_RANGE"].contains(&e.code), "{}", e.code);
            prop_assert!(e.message.contains("ERROR at Row:") || e.code == "NUMBER_OUTSIDE_VALID_RANGE");
        }
    }

    #[test]
    fn soql_token_soup_never_panics(q in token_soup()) {
        let org = org_with_accounts(&[(Some(1), "a")]);
        for text in [q.clone(), format!("SELECT Id FROM Account WHERE {q}"), format!("SELECT {q} FROM Account")] {
            if let Ok(plan) = Plan::compile(&org, &text) {
                let _ = plan.execute(&org, true);
            }
        }
    }

    #[test]
    fn where_agrees_with_the_reference(
        rows in prop::collection::vec((prop::option::of(-3i64..8), prop::sample::select(NAMES)), 0..25),
        c in cond(),
    ) {
        let org = org_with_accounts(&rows);
        let q = format!("SELECT Id FROM Account WHERE {}", soql(&c));
        let plan = Plan::compile(&org, &q).map_err(|e| TestCaseError::fail(format!("{q}: {}", e.message)))?;
        let got = plan.execute(&org, false);
        let want: Vec<u64> = rows.iter().enumerate().filter(|(_, (e, n))| reference(&c, *e, n)).map(|(i, _)| i as u64 + 1).collect();
        prop_assert_eq!(got, want, "{}", q);
    }

    #[test]
    fn order_by_sorts_with_nulls_where_asked(
        rows in prop::collection::vec((prop::option::of(-3i64..8), prop::sample::select(NAMES)), 0..25),
        desc in any::<bool>(),
        nulls_last in any::<bool>(),
    ) {
        let org = org_with_accounts(&rows);
        let q = format!("SELECT Id FROM Account ORDER BY NumberOfEmployees {} NULLS {}", if desc { "DESC" } else { "ASC" }, if nulls_last { "LAST" } else { "FIRST" });
        let got: Vec<Option<i64>> = Plan::compile(&org, &q).unwrap().execute(&org, false).iter().map(|n| rows[*n as usize - 1].0).collect();
        let mut want: Vec<Option<i64>> = rows.iter().map(|r| r.0).collect();
        want.sort_by(|a, b| match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => if nulls_last { std::cmp::Ordering::Greater } else { std::cmp::Ordering::Less },
            (_, None) => if nulls_last { std::cmp::Ordering::Less } else { std::cmp::Ordering::Greater },
            (Some(x), Some(y)) => if desc { y.cmp(x) } else { x.cmp(y) },
        });
        prop_assert_eq!(got, want);
    }

    #[test]
    fn any_json_body_is_accepted_or_refused_cleanly(body in json_value()) {
        let mut org = Org::new();
        let acc = org.object("Account").unwrap();
        if let Value::Object(map) = &body {
            match org.json_to_values(acc, map, true).and_then(|v| org.insert(acc, v, 1)) {
                Ok(id) => prop_assert!(id.starts_with("001")),
                Err(e) => prop_assert!(!e.code.is_empty() && !e.message.is_empty()),
            }
        }
    }

    #[test]
    fn any_csv_upload_is_processed_or_failed_cleanly(data in "(Name|Phone|Id|NumberOfEmployees|,|\n|\r|\"|x|1| ){0,200}") {
        let mut org = Org::new();
        let mut job = sf_emulator::bulk::IngestJob {
            id: "750".into(), object: "Account".into(), key_prefix: "001".into(), operation: "insert".into(),
            external_id_field: None, line_ending: "LF".into(), column_delimiter: "COMMA".into(), state: "InProgress".into(),
            created: 0, modstamp: 0, created_by: 1, api_version: "59.0".into(),
            upload: sf_emulator::bulk::Spool::from_bytes(data.as_bytes()).unwrap(), uploading: false,
            results: None, processed: 0, failed: 0, error_message: None, processing_ms: 0,
        };
        if let Ok(mut run) = sf_emulator::bulk::prepare_ingest(&org, &mut job) {
            let n = run.len();
            let chunk = run.process(&mut org, n, 1).unwrap();
            prop_assert_eq!(chunk.processed as usize, n);
            prop_assert!(run.finished());
            run.publish(&mut job);
            // Every row is answered once, in one of the result files.
            let mut answered = 0;
            for kind in ["successfulResults", "failedResults", "unprocessedrecords"] {
                let csv = job.results_csv(kind).unwrap();
                answered += csv::ReaderBuilder::new().flexible(true).from_reader(&csv[..]).records().count();
            }
            prop_assert_eq!(answered, n);
        }
    }
}
