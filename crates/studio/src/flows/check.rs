//! What makes a flow file wrong before it runs: its shape (one start node,
//! edges between nodes that exist, no cycle, a branch's edges marked), each
//! node's params, its templates and conditions (minijinja), and what they
//! name (`record.X` among the trigger's fields, `nodes.ID` upstream). The
//! org's side (objects and fields in describe) is `Studio::check_flow`.

use super::model::{FlowFile, Node};
use std::collections::{HashMap, HashSet};

/// One thing wrong, and the node it is on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
// The name the UI knows it by (beside the error `Problem`).
#[serde(rename = "FlowProblem")]
pub struct Problem {
    pub node: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.node {
            Some(n) => write!(f, "node {n}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// The environment templates are compiled and rendered in: Jinja2's
/// filters and tests (`tojson` among them), undefined values empty.
pub fn environment() -> minijinja::Environment<'static> {
    minijinja::Environment::new()
}

/// A flow read and checked: its nodes by id, in an order where every node
/// comes after the ones feeding it.
pub struct Checked {
    pub file: FlowFile,
    pub nodes: HashMap<String, Node>,
    pub order: Vec<String>,
    pub start: String,
}

pub fn check(file: FlowFile) -> Result<Checked, Vec<Problem>> {
    let mut problems = vec![];
    let mut flow_problem = |m: String| {
        problems.push(Problem {
            node: None,
            message: m,
        })
    };
    if file.version != 1 {
        flow_problem(format!(
            "version {} is not one this Sync Studio reads (it reads version 1)",
            file.version
        ));
    }
    if file.name.trim().is_empty() {
        flow_problem("the flow has no name (\"name\": its handle in the CLI)".into());
    }
    let mut nodes: HashMap<String, Node> = HashMap::new();
    let mut seen = HashSet::new();
    for spec in &file.nodes {
        let at = |m: String| Problem {
            node: Some(spec.id.clone()),
            message: m,
        };
        if spec.id.trim().is_empty() {
            problems.push(Problem {
                node: None,
                message: format!("a {} node has no id", spec.kind),
            });
            continue;
        }
        if !seen.insert(spec.id.clone()) {
            problems.push(at("two nodes have this id".into()));
            continue;
        }
        match Node::read(spec) {
            Ok(node) => {
                problems.extend(params_problems(&node).into_iter().map(at));
                nodes.insert(spec.id.clone(), node);
            }
            Err(e) => problems.push(at(format!("{}: {e}", spec.kind))),
        }
    }
    let starts: Vec<&String> = file
        .nodes
        .iter()
        .map(|n| &n.id)
        .filter(|id| nodes.get(*id).is_some_and(Node::is_start))
        .collect();
    match starts.len() {
        0 if !file.nodes.is_empty() => problems.push(Problem {
            node: None,
            message: "the flow has no start: add a salesforce.trigger or a schedule node".into(),
        }),
        0 => problems.push(Problem {
            node: None,
            message: "the flow has no nodes".into(),
        }),
        1 => {}
        _ => problems.push(Problem {
            node: Some(starts[1].clone()),
            message: format!(
                "a flow has one start; {} already starts this one",
                starts[0]
            ),
        }),
    }
    let ids: HashSet<&str> = file.nodes.iter().map(|n| n.id.as_str()).collect();
    let mut incoming: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut outgoing: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in &file.edges {
        let mut ok = true;
        for end in [&e.from, &e.to] {
            if !ids.contains(end.as_str()) {
                problems.push(Problem {
                    node: None,
                    message: format!(
                        "the edge {} → {} names a node {end:?} that does not exist",
                        e.from, e.to
                    ),
                });
                ok = false;
            }
        }
        if !ok {
            continue;
        }
        if e.from == e.to {
            problems.push(Problem {
                node: Some(e.from.clone()),
                message: "an edge goes from this node to itself".into(),
            });
            continue;
        }
        let from_branch = matches!(nodes.get(&e.from), Some(Node::Branch(_)));
        match (from_branch, e.branch) {
            (true, None) => problems.push(Problem {
                node: Some(e.from.clone()),
                message: format!(
                    "the edge to {} needs \"branch\": \"then\" or \"else\"",
                    e.to
                ),
            }),
            (false, Some(_)) => problems.push(Problem {
                node: Some(e.from.clone()),
                message: format!(
                    "the edge to {} has \"branch\" but this is not a branch node",
                    e.to
                ),
            }),
            _ => {}
        }
        if nodes.get(&e.to).is_some_and(Node::is_start) {
            problems.push(Problem {
                node: Some(e.to.clone()),
                message: format!(
                    "a start node has nothing before it (an edge comes from {})",
                    e.from
                ),
            });
        }
        incoming.entry(&e.to).or_default().push(&e.from);
        outgoing.entry(&e.from).or_default().push(&e.to);
    }
    // Kahn's order; what is left over sits on a cycle.
    let mut order: Vec<String> = vec![];
    let mut waiting: HashMap<&str, usize> = file
        .nodes
        .iter()
        .map(|n| {
            (
                n.id.as_str(),
                incoming.get(n.id.as_str()).map_or(0, Vec::len),
            )
        })
        .collect();
    let mut ready: Vec<&str> = file
        .nodes
        .iter()
        .map(|n| n.id.as_str())
        .filter(|id| waiting[id] == 0)
        .collect();
    ready.reverse();
    while let Some(id) = ready.pop() {
        order.push(id.to_string());
        for next in outgoing.get(id).into_iter().flatten() {
            let w = waiting.get_mut(next).expect("edge ends exist");
            *w -= 1;
            if *w == 0 {
                ready.push(next);
            }
        }
    }
    if order.len() < waiting.len() {
        let mut on_cycle: Vec<&str> = waiting
            .iter()
            .filter(|(_, w)| **w > 0)
            .map(|(id, _)| *id)
            .collect();
        on_cycle.sort();
        problems.push(Problem {
            node: Some(on_cycle[0].to_string()),
            message: format!("the edges make a cycle through {}", on_cycle.join(", ")),
        });
    }
    let start = starts.first().map(|s| s.to_string());
    if let Some(start) = &start {
        // Every node is reached from the start.
        let mut reached = HashSet::from([start.as_str()]);
        let mut stack = vec![start.as_str()];
        while let Some(id) = stack.pop() {
            for next in outgoing.get(id).into_iter().flatten() {
                if reached.insert(next) {
                    stack.push(next);
                }
            }
        }
        for n in &file.nodes {
            if !reached.contains(n.id.as_str()) && nodes.get(&n.id).is_some_and(|x| !x.is_start()) {
                problems.push(Problem {
                    node: Some(n.id.clone()),
                    message: format!("nothing leads to this node from the start ({start})"),
                });
            }
        }
        problems.extend(template_problems(&file, &nodes, &incoming, start));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Checked {
        file,
        nodes,
        order,
        start: start.expect("no problems means one start"),
    })
}

/// Params that parse but cannot work.
fn params_problems(node: &Node) -> Vec<String> {
    let mut out = vec![];
    match node {
        Node::Trigger(p) => {
            if p.every_seconds < 1 {
                out.push("every_seconds must be 1 or more".into());
            }
            if p.fields.is_empty() {
                out.push("fields is empty: name the fields the trigger reads".into());
            }
            if let Some(start) = &p.start
                && start != "now"
                && chrono::DateTime::parse_from_rfc3339(start).is_err()
            {
                out.push(format!(
                    "start {start:?} is neither \"now\" nor an ISO date-time such as 2026-01-31T09:00:00Z"
                ));
            }
        }
        Node::Schedule(p) => {
            let set = [
                p.every_seconds.is_some(),
                p.every_minutes.is_some(),
                p.every_hours.is_some(),
                p.cron.is_some(),
            ]
            .iter()
            .filter(|s| **s)
            .count();
            if set != 1 {
                out.push(
                    "a schedule needs exactly one of every_seconds, every_minutes, every_hours or cron"
                        .into(),
                );
            }
            if [p.every_seconds, p.every_minutes, p.every_hours].contains(&Some(0)) {
                out.push("a schedule's interval must be 1 or more".into());
            }
            if let Some(c) = &p.cron
                && let Err(e) = super::schedule::cron(c)
            {
                out.push(format!(
                    "cron {c:?} is not a cron line (minute hour day month weekday): {e}"
                ));
            }
        }
        Node::Upsert(p) if !p.fields.contains_key(&p.external_id) => out.push(format!(
            "fields must set the external id {} (the record is matched on it)",
            p.external_id
        )),
        Node::Query(p) => match (&p.soql, &p.object) {
            (Some(_), Some(_)) => {
                out.push("give either soql or object (with fields and conditions), not both".into())
            }
            (None, None) => out.push("give soql, or an object with fields".into()),
            (None, Some(_)) if p.fields.is_empty() => {
                out.push("fields is empty: name the fields to read".into())
            }
            _ => {}
        },
        _ => {}
    }
    let method = match node {
        Node::Http(p) => Some(&p.method),
        Node::Request(p) => Some(&p.method),
        _ => None,
    };
    if let Some(m) = method
        && !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
            .contains(&m.to_ascii_uppercase().as_str())
    {
        out.push(format!("method {m:?} is not an HTTP method"));
    }
    out
}

/// Templates and conditions that do not compile, and names they use that
/// nothing provides.
fn template_problems(
    file: &FlowFile,
    nodes: &HashMap<String, Node>,
    incoming: &HashMap<&str, Vec<&str>>,
    start: &str,
) -> Vec<Problem> {
    let env = environment();
    let trigger_fields: Option<HashSet<&str>> = match nodes.get(start) {
        Some(Node::Trigger(t)) => {
            let mut f: HashSet<&str> = t.fields.iter().map(String::as_str).collect();
            // Every trigger record carries its Id.
            f.insert("Id");
            // What the poll reads besides.
            f.extend(["CreatedDate", "SystemModstamp", "IsDeleted"]);
            Some(f)
        }
        Some(Node::Schedule(_)) => Some(HashSet::from(["scheduled_at"])),
        _ => None,
    };
    let mut out = vec![];
    for spec in &file.nodes {
        let Some(node) = nodes.get(&spec.id) else {
            continue;
        };
        let upstream = upstream_of(&spec.id, incoming);
        let mut names = vec![];
        for (param, text) in node.templates() {
            match env.template_from_str(text) {
                Ok(t) => names.push((param, t.undeclared_variables(true))),
                Err(e) => out.push(Problem {
                    node: Some(spec.id.clone()),
                    message: format!("{param}: {}", describe_error(&e)),
                }),
            }
        }
        if let Some(c) = node.condition() {
            match env.compile_expression(c) {
                Ok(x) => names.push(("condition".into(), x.undeclared_variables(true))),
                Err(e) => out.push(Problem {
                    node: Some(spec.id.clone()),
                    message: format!("condition: {}", describe_error(&e)),
                }),
            }
        }
        for (param, used) in names {
            let mut used: Vec<String> = used.into_iter().collect();
            used.sort();
            for name in used {
                let mut parts = name.split('.');
                let why = match (parts.next(), parts.next()) {
                    (Some("record"), Some(field)) => match &trigger_fields {
                        Some(f) if !f.contains(field) => Some(format!(
                            "record.{field} is not among the trigger's fields ({})",
                            sorted(f)
                        )),
                        _ => None,
                    },
                    (Some("record"), None) => None,
                    (Some("nodes"), Some(id)) if !upstream.contains(id) => Some(format!(
                        "nodes.{id} is not a node before this one{}",
                        if nodes.contains_key(id) {
                            ""
                        } else {
                            " (no node has this id)"
                        }
                    )),
                    (Some("nodes"), _) => None,
                    (Some(other), _) => Some(format!(
                        "{other} is not known here: templates read record and nodes.ID"
                    )),
                    (None, _) => None,
                };
                if let Some(why) = why {
                    out.push(Problem {
                        node: Some(spec.id.clone()),
                        message: format!("{param}: {why}"),
                    });
                }
            }
        }
    }
    out
}

fn sorted(s: &HashSet<&str>) -> String {
    let mut v: Vec<&str> = s.iter().copied().collect();
    v.sort();
    v.join(", ")
}

fn describe_error(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{d} ({})", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Every node with a path to `id`.
fn upstream_of<'a>(id: &str, incoming: &HashMap<&'a str, Vec<&'a str>>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&str> = incoming.get(id).cloned().unwrap_or_default();
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            stack.extend(incoming.get(n).into_iter().flatten().copied());
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The flow the issue describes: a trigger, a filter, a POST.
    fn example() -> Value {
        json!({
            "version": 1,
            "name": "Contacts to the ERP",
            "nodes": [
                {"id": "t", "type": "salesforce.trigger", "params": {
                    "connection": "Playground", "object": "Contact",
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
            "layout": {"t": {"x": 0.0, "y": 40.5}}
        })
    }

    fn problems(v: Value) -> Vec<String> {
        let file: FlowFile = serde_json::from_value(v).unwrap();
        match check(file) {
            Ok(_) => vec![],
            Err(p) => p.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn with(mut v: Value, edit: impl FnOnce(&mut Value)) -> Value {
        edit(&mut v);
        v
    }

    fn has(problems: &[String], part: &str) -> bool {
        problems.iter().any(|p| p.contains(part))
    }

    #[test]
    fn the_example_flow_is_sound_and_ordered() {
        let file: FlowFile = serde_json::from_value(example()).unwrap();
        let checked = check(file).map_err(|p| format!("{p:?}")).unwrap();
        assert_eq!(checked.start, "t");
        assert_eq!(checked.order, ["t", "f", "post"]);
        // Written back, the file says what it said (ids, params, layout).
        let again = serde_json::to_value(&checked.file).unwrap();
        assert_eq!(again, example());
    }

    #[test]
    fn every_problem_names_its_node_and_reason() {
        let cases: Vec<(Value, &str)> = vec![
            (with(example(), |v| v["version"] = json!(2)), "version 2"),
            (with(example(), |v| v["name"] = json!(" ")), "no name"),
            (
                with(example(), |v| v["nodes"][1]["type"] = json!("filtre")),
                "node f: filtre: \"filtre\" is not a node type",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0]["params"]["evry_seconds"] = json!(5)
                }),
                "node t: salesforce.trigger: unknown field `evry_seconds`",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0]["params"]
                        .as_object_mut()
                        .unwrap()
                        .remove("object");
                }),
                "node t: salesforce.trigger: missing field `object`",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0]["params"]["on"] = json!("changed")
                }),
                "unknown variant `changed`",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0]["params"]["every_seconds"] = json!(0)
                }),
                "node t: every_seconds must be 1 or more",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0]["params"]["start"] = json!("yesterday")
                }),
                "node t: start \"yesterday\"",
            ),
            (
                with(example(), |v| v["nodes"][2]["id"] = json!("f")),
                "node f: two nodes have this id",
            ),
            (
                with(example(), |v| v["edges"][1]["to"] = json!("gone")),
                "names a node \"gone\" that does not exist",
            ),
            (
                with(example(), |v| {
                    v["edges"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!({"from": "post", "to": "f"}))
                }),
                "the edges make a cycle through f, post",
            ),
            (
                with(example(), |v| {
                    v["edges"].as_array_mut().unwrap().remove(1);
                }),
                "node post: nothing leads to this node from the start (t)",
            ),
            (
                with(example(), |v| {
                    v["nodes"].as_array_mut().unwrap().remove(0);
                    v["edges"].as_array_mut().unwrap().remove(0);
                }),
                "the flow has no start",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2]["params"]["body"] = json!("{{ record.Id ")
                }),
                "node post: body: ",
            ),
            (
                with(example(), |v| {
                    v["nodes"][1]["params"]["condition"] = json!("record.LastName ==")
                }),
                "node f: condition: ",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2]["params"]["url"] = json!("https://erp/{{ record.Phone }}")
                }),
                "node post: url: record.Phone is not among the trigger's fields",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2]["params"]["body"] = json!("{{ nodes.later.id }}")
                }),
                "node post: body: nodes.later is not a node before this one (no node has this id)",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2]["params"]["body"] = json!("{{ secret }}")
                }),
                "node post: body: secret is not known here",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2]["params"]["method"] = json!("FETCH")
                }),
                "node post: method \"FETCH\" is not an HTTP method",
            ),
            (
                with(example(), |v| {
                    v["nodes"][1] =
                        json!({"id": "f", "type": "branch", "params": {"condition": "true"}});
                }),
                "node f: the edge to post needs \"branch\": \"then\" or \"else\"",
            ),
            (
                with(example(), |v| v["edges"][1]["branch"] = json!("then")),
                "node f: the edge to post has \"branch\" but this is not a branch node",
            ),
            (
                with(example(), |v| {
                    v["nodes"].as_array_mut().unwrap().push(
                        json!({"id": "s", "type": "schedule", "params": {"every_minutes": 5}}),
                    );
                }),
                "node s: a flow has one start; t already starts this one",
            ),
            (
                with(example(), |v| {
                    v["nodes"][2] = json!({"id": "post", "type": "salesforce.upsert", "params": {
                        "connection": "P", "object": "Account", "external_id": "Ext__c",
                        "fields": {"Name": "{{ record.LastName }}"}}});
                }),
                "node post: fields must set the external id Ext__c",
            ),
            (
                with(example(), |v| {
                    v["nodes"][0] = json!({"id": "t", "type": "schedule", "params": {"every_minutes": 5, "cron": "* * * * *"}});
                    v["nodes"][1]["params"]["condition"] = json!("true");
                    v["nodes"][2]["params"]["body"] = json!("");
                }),
                "node t: a schedule needs exactly one of",
            ),
        ];
        for (flow, expected) in cases {
            let found = problems(flow);
            assert!(
                has(&found, expected),
                "expected {expected:?} among {found:#?}"
            );
        }
    }

    #[test]
    fn a_branch_with_both_sides_marked_is_sound() {
        let flow = with(example(), |v| {
            v["nodes"][1] = json!({"id": "f", "type": "branch", "params": {"condition": "record.Email is none"}});
            v["nodes"].as_array_mut().unwrap().push(json!({"id": "log", "type": "csv.append", "params": {
                "path": "/tmp/x.csv", "columns": {"id": "{{ record.Id }}", "upstream": "{{ nodes.f }}"}}}));
            v["edges"][1]["branch"] = json!("else");
            v["edges"]
                .as_array_mut()
                .unwrap()
                .push(json!({"from": "f", "to": "log", "branch": "then"}));
        });
        assert_eq!(problems(flow), Vec::<String>::new());
    }
}
