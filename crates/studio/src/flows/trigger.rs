//! The Salesforce trigger: which records fire, exactly once per change.
//!
//! Each poll is one SOQL query for the records whose `SystemModstamp` is at
//! or after `since`, in (SystemModstamp, Id) order, every page. A record
//! fires when its (Id, SystemModstamp) pair is not in `seen`: many records
//! sharing one stamp, and a record seen again because the window overlaps,
//! fire once each. `since` moves only to the org's `latestDateCovered`
//! (getUpdated): never past a change still in an open transaction, so a
//! record that commits late is inside the next window. Every time is the
//! org's (stamps, latestDateCovered), never this machine's clock. `seen`
//! keeps only pairs at or after `since`: an idle org costs one call a poll.

use super::model::{TriggerOn, TriggerParams};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What a trigger remembers between polls (saved in SQLite).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TriggerState {
    /// The org time the next window starts at (ISO, as Salesforce writes it).
    pub since: Option<String>,
    /// Records fired (or passed over at the start) whose stamp is at or
    /// after `since`: Id → the SystemModstamp seen.
    #[serde(default)]
    pub seen: BTreeMap<String, String>,
}

/// A change a trigger fires for.
#[derive(Debug, Clone)]
pub struct Change {
    pub id: String,
    pub stamp: String,
    pub event: Event,
    pub record: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Created,
    Updated,
}

/// The query of one poll: the window from `since`, oldest change first.
pub fn soql(p: &TriggerParams, since: &str) -> String {
    // SOQL takes `YYYY-MM-DDThh:mm:ssZ`: the instant in UTC, its fraction
    // of a second dropped (the window starts a little early, never late).
    let since = instant(since)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_else(|| since.to_string());
    select(
        p,
        Some(&format!("SystemModstamp >= {since}")),
        "SystemModstamp, Id",
    )
}

/// The latest record the trigger matches (what `flows test` tries).
pub fn latest_soql(p: &TriggerParams) -> String {
    select(p, None, "SystemModstamp DESC, Id DESC LIMIT 1")
}

fn select(p: &TriggerParams, window: Option<&str>, order: &str) -> String {
    let mut fields: Vec<&str> = vec!["Id", "CreatedDate", "SystemModstamp"];
    for f in &p.fields {
        if !fields.iter().any(|x| x.eq_ignore_ascii_case(f)) {
            fields.push(f);
        }
    }
    let conditions: Vec<String> = window
        .map(str::to_string)
        .into_iter()
        .chain(p.condition.as_ref().map(|w| format!("({w})")))
        .collect();
    let mut q = format!("SELECT {} FROM {}", fields.join(", "), p.object);
    if !conditions.is_empty() {
        q.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    q.push_str(&format!(" ORDER BY {order}"));
    q
}

/// Salesforce's date-times compare as instants, whatever their offset.
fn instant(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s))
        .ok()
}

/// A record as a query answers it, read as the trigger reads it.
pub struct Observed {
    pub id: String,
    pub stamp: String,
    pub created: String,
    /// Its fields, `attributes` dropped.
    pub record: Map<String, Value>,
}

pub fn observe(v: Value) -> Option<Observed> {
    let Value::Object(mut record) = v else {
        return None;
    };
    record.remove("attributes");
    let text = |k: &str| {
        record
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    Some(Observed {
        id: text("Id"),
        stamp: text("SystemModstamp"),
        created: text("CreatedDate"),
        record,
    })
}

/// The records of a poll that fire, in order; `seen` takes each one in.
/// `first` passes over every record without firing (a trigger that
/// starts from now).
pub fn changes(
    p: &TriggerParams,
    state: &mut TriggerState,
    records: Vec<Value>,
    first: bool,
) -> Vec<Change> {
    let mut out = vec![];
    for r in records {
        let Some(Observed {
            id,
            stamp,
            created,
            record: r,
        }) = observe(r)
        else {
            continue;
        };
        if state.seen.get(&id) == Some(&stamp) {
            continue;
        }
        let was_seen = state.seen.contains_key(&id);
        state.seen.insert(id.clone(), stamp.clone());
        if first {
            continue;
        }
        // New to us and created inside the window: its creation (even if
        // edited since); otherwise a change of a record we knew or that
        // was made before the window.
        let since = state.since.as_deref().and_then(instant);
        let created_in_window = match (instant(&created), since) {
            (Some(c), Some(s)) => c >= s,
            _ => false,
        };
        let creation_itself = instant(&created) == instant(&stamp);
        let event = if !was_seen && created_in_window {
            Event::Created
        } else {
            Event::Updated
        };
        let fires = match p.on {
            TriggerOn::Created => event == Event::Created,
            TriggerOn::Updated => !creation_itself,
            TriggerOn::CreatedOrUpdated => true,
            TriggerOn::Deleted | TriggerOn::Restored => false,
        };
        if fires {
            let event = if p.on == TriggerOn::Updated {
                Event::Updated
            } else {
                event
            };
            out.push(Change {
                id,
                stamp,
                event,
                record: r,
            });
        }
    }
    out
}

/// Moves the window to the org's `latestDateCovered` (never back), and
/// forgets what can no longer come again.
pub fn advance(state: &mut TriggerState, latest_covered: &str) {
    let newer = match (
        state.since.as_deref().and_then(instant),
        instant(latest_covered),
    ) {
        (Some(old), Some(new)) => new > old,
        (None, Some(_)) => true,
        _ => false,
    };
    if !newer {
        return;
    }
    state.since = Some(latest_covered.to_string());
    let since = instant(latest_covered);
    state
        .seen
        .retain(|_, stamp| instant(stamp).is_none_or(|s| Some(s) >= since));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(on: TriggerOn) -> TriggerParams {
        TriggerParams {
            connection: "P".into(),
            object: "Contact".into(),
            on,
            every_seconds: 1,
            fields: vec!["LastName".into()],
            condition: Some("Email != null".into()),
            start: None,
        }
    }

    fn rec(id: &str, created: &str, stamp: &str) -> Value {
        json!({"attributes": {"type": "Contact"}, "Id": id, "CreatedDate": created, "SystemModstamp": stamp, "LastName": "X"})
    }

    const T0: &str = "2026-11-30T10:00:00.000+0000";
    const T1: &str = "2026-11-30T10:00:01.000+0000";
    const T2: &str = "2026-11-30T10:00:02.000+0000";
    const T9: &str = "2026-11-30T09:00:00.000+0000";

    #[test]
    fn the_query_reads_the_window_in_stamp_order() {
        assert_eq!(
            soql(&params(TriggerOn::Created), "2026-11-30T11:00:00.250+0100"),
            "SELECT Id, CreatedDate, SystemModstamp, LastName FROM Contact WHERE SystemModstamp >= 2026-11-30T10:00:00Z AND (Email != null) ORDER BY SystemModstamp, Id"
        );
        assert_eq!(
            latest_soql(&params(TriggerOn::Created)),
            "SELECT Id, CreatedDate, SystemModstamp, LastName FROM Contact WHERE (Email != null) ORDER BY SystemModstamp DESC, Id DESC LIMIT 1"
        );
    }

    #[test]
    fn each_change_fires_once_and_creations_are_told_from_edits() {
        let mut s = TriggerState {
            since: Some(T0.into()),
            seen: Default::default(),
        };
        let p = params(TriggerOn::CreatedOrUpdated);
        // Two records share a stamp; an old record was edited.
        let first = changes(
            &p,
            &mut s,
            vec![rec("a", T1, T1), rec("b", T1, T1), rec("old", T9, T1)],
            false,
        );
        let got: Vec<(&str, Event)> = first.iter().map(|c| (c.id.as_str(), c.event)).collect();
        assert_eq!(
            got,
            [
                ("a", Event::Created),
                ("b", Event::Created),
                ("old", Event::Updated)
            ]
        );
        // The same window again (overlap), then a's edit: only the edit.
        let again = changes(
            &p,
            &mut s,
            vec![
                rec("a", T1, T1),
                rec("b", T1, T1),
                rec("old", T9, T1),
                rec("a", T1, T2),
            ],
            false,
        );
        let got: Vec<(&str, Event)> = again.iter().map(|c| (c.id.as_str(), c.event)).collect();
        assert_eq!(got, [("a", Event::Updated)]);
        assert!(first[0].record.get("attributes").is_none());
    }

    #[test]
    fn created_and_updated_triggers_split_the_events() {
        let recs = || {
            vec![
                rec("new", T1, T1),
                rec("old", T9, T1),
                rec("edited", T1, T2),
            ]
        };
        let fired = |on| {
            let mut s = TriggerState {
                since: Some(T0.into()),
                seen: Default::default(),
            };
            changes(&params(on), &mut s, recs(), false)
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(fired(TriggerOn::Created), ["new", "edited"]);
        // Never for the creation itself; a record created and edited
        // before the poll saw it is an edit.
        assert_eq!(fired(TriggerOn::Updated), ["old", "edited"]);
    }

    #[test]
    fn a_start_from_now_passes_over_what_is_there() {
        let mut s = TriggerState::default();
        let p = params(TriggerOn::CreatedOrUpdated);
        assert!(changes(&p, &mut s, vec![rec("a", T1, T1)], true).is_empty());
        assert!(changes(&p, &mut s, vec![rec("a", T1, T1)], false).is_empty());
        assert_eq!(changes(&p, &mut s, vec![rec("a", T1, T2)], false).len(), 1);
    }

    #[test]
    fn the_window_moves_forward_only_and_forgets_what_is_behind_it() {
        let mut s = TriggerState {
            since: Some(T0.into()),
            seen: [
                ("a".to_string(), T1.to_string()),
                ("b".to_string(), T2.to_string()),
            ]
            .into(),
        };
        advance(&mut s, T9);
        assert_eq!(s.since.as_deref(), Some(T0), "never back");
        advance(&mut s, T2);
        assert_eq!(s.since.as_deref(), Some(T2));
        assert_eq!(s.seen.keys().collect::<Vec<_>>(), ["b"]);
    }
}
