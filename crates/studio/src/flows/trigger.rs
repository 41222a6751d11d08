//! The Salesforce trigger: which records fire, exactly once per change.
//!
//! Each poll is one SOQL query for the records whose `SystemModstamp` is at
//! or after `since`, in (SystemModstamp, Id) order, every page. A record
//! fires when its (Id, SystemModstamp) pair is not in `seen`: many records
//! sharing one stamp, and a record seen again because the window overlaps,
//! fire once each. `since` moves only to the org's `latestDateCovered`
//! (getUpdated) as asked before the query that was just read: never past
//! a change still in an open transaction, so a record that commits late
//! is inside the next window. Every time is the
//! org's (stamps, latestDateCovered), never this machine's clock. `seen`
//! keeps only pairs at or after `since`: an idle org costs one call a poll.
//!
//! The query is a `queryAll`, so deletions (which stamp the record) come in
//! the same window with `IsDeleted = true`. A record seen again alive after
//! the trigger knew it deleted is a restore, not an edit; what it knows
//! deleted starts from the recycle bin when the trigger first polls. A
//! delete and an undelete both inside one polling interval leave only a
//! new stamp behind, and are seen as an edit; an undelete and an edit
//! inside one interval are seen as the undelete alone.

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
    /// Records known to be in the recycle bin: Id → the stamp of their
    /// deletion (so their undelete is told from an edit).
    #[serde(default)]
    pub deleted: BTreeMap<String, String>,
    /// The org's `latestDateCovered`, asked after the last poll: the next
    /// poll's query (made later) has seen everything visible by then, so
    /// after it the window may move there. Moving to a value asked after
    /// the query could pass a record that became visible in between.
    #[serde(default)]
    pub covered: Option<String>,
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
    Deleted,
    Restored,
    /// A scheduled flow's tick.
    Scheduled,
    /// A retried change the record has moved on from (not sent again).
    Superseded,
}

/// Whether a trigger has to know the recycle bin's content when it starts
/// (to tell an undelete from an edit).
pub fn needs_recycle_bin(p: &TriggerParams) -> bool {
    matches!(
        p.on,
        TriggerOn::Updated | TriggerOn::CreatedOrUpdated | TriggerOn::Restored
    )
}

/// What is in the recycle bin (the trigger's first poll reads it).
pub fn recycle_bin_soql(p: &TriggerParams) -> String {
    format!(
        "SELECT Id, SystemModstamp FROM {} WHERE IsDeleted = true",
        p.object
    )
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

/// The latest record the trigger matches (what `flows test` tries): a
/// deleted one for a `deleted` trigger, a live one otherwise. Run it with
/// `queryAll`.
pub fn latest_soql(p: &TriggerParams) -> String {
    let alive = if p.on == TriggerOn::Deleted {
        "IsDeleted = true"
    } else {
        "IsDeleted = false"
    };
    select(p, Some(alive), "SystemModstamp DESC, Id DESC LIMIT 1")
}

/// The records a retry takes through again, as they are now.
pub fn by_id_soql(p: &TriggerParams, ids: &[&str]) -> String {
    let quoted: Vec<String> = ids
        .iter()
        .map(|id| format!("'{}'", id.replace(['\\', '\''], "")))
        .collect();
    select(p, Some(&format!("Id IN ({})", quoted.join(", "))), "Id")
}

fn select(p: &TriggerParams, window: Option<&str>, order: &str) -> String {
    let mut fields: Vec<&str> = vec!["Id", "CreatedDate", "SystemModstamp", "IsDeleted"];
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
    pub is_deleted: bool,
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
        is_deleted: record.get("IsDeleted") == Some(&Value::Bool(true)),
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
            is_deleted,
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
        let was_deleted = if is_deleted {
            state.deleted.insert(id.clone(), stamp.clone());
            false
        } else {
            state.deleted.remove(&id).is_some()
        };
        if first {
            continue;
        }
        // New to us and created inside the window: its creation (even if
        // edited or deleted since).
        let since = state.since.as_deref().and_then(instant);
        let created_in_window = match (instant(&created), since) {
            (Some(c), Some(s)) => c >= s,
            _ => false,
        };
        let creation = !was_seen && created_in_window;
        // A deleted row at a stamp not seen before is a deletion (a record
        // in the recycle bin cannot be edited), even when the undelete
        // before it fell between two polls.
        let event = if is_deleted {
            Some(Event::Deleted)
        } else if was_deleted {
            Some(Event::Restored)
        } else if creation {
            Some(Event::Created)
        } else {
            Some(Event::Updated)
        };
        let creation_itself = instant(&created) == instant(&stamp);
        let fires = match (p.on, event) {
            (_, None) => None,
            (TriggerOn::Created, _) => creation.then_some(Event::Created),
            (TriggerOn::CreatedOrUpdated, Some(Event::Created | Event::Updated)) => event,
            (TriggerOn::CreatedOrUpdated, Some(Event::Deleted)) if creation => Some(Event::Created),
            (TriggerOn::Updated, Some(Event::Created | Event::Updated)) if !creation_itself => {
                Some(Event::Updated)
            }
            (TriggerOn::Deleted, Some(Event::Deleted)) => event,
            (TriggerOn::Restored, Some(Event::Restored)) => event,
            _ => None,
        };
        if let Some(event) = fires {
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

/// Takes in one record a poll finished, as its state should now know it.
pub fn take_done(state: &mut TriggerState, done: &crate::store::FlowDone) {
    for (kept, learnt) in [
        (&mut state.seen, &done.seen),
        (&mut state.deleted, &done.deleted),
    ] {
        match learnt {
            Some(v) => kept.insert(done.id.clone(), v.clone()),
            None => kept.remove(&done.id),
        };
    }
}

/// Takes in what the recycle bin holds when a trigger starts.
pub fn know_deleted(state: &mut TriggerState, records: Vec<Value>) {
    for o in records.into_iter().filter_map(observe) {
        state.deleted.insert(o.id, o.stamp);
    }
}

/// After a poll's records are done: the window moves to what the org
/// covered before the query, if it said.
pub fn settle(state: &mut TriggerState) {
    if let Some(c) = state.covered.take() {
        advance(state, &c);
    }
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
    // The recycle bin keeps a record 15 days; past 30 it cannot come back.
    let purged = since.map(|s| s - chrono::Duration::days(30));
    state
        .deleted
        .retain(|_, stamp| instant(stamp).is_none_or(|s| Some(s) >= purged));
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
        json!({"attributes": {"type": "Contact"}, "Id": id, "CreatedDate": created, "SystemModstamp": stamp, "IsDeleted": false, "LastName": "X"})
    }

    fn gone(id: &str, created: &str, stamp: &str) -> Value {
        let mut r = rec(id, created, stamp);
        r["IsDeleted"] = json!(true);
        r
    }

    const T0: &str = "2026-11-30T10:00:00.000+0000";
    const T1: &str = "2026-11-30T10:00:01.000+0000";
    const T2: &str = "2026-11-30T10:00:02.000+0000";
    const T3: &str = "2026-11-30T10:00:03.000+0000";
    const T9: &str = "2026-11-30T09:00:00.000+0000";

    /// Each trigger kind over the same polls: what fires, in order.
    fn fired_over(on: TriggerOn, bin: Vec<Value>, polls: Vec<Vec<Value>>) -> Vec<(String, Event)> {
        let mut s = TriggerState {
            since: Some(T0.into()),
            ..Default::default()
        };
        know_deleted(&mut s, bin);
        polls
            .into_iter()
            .flat_map(|p| changes(&params(on), &mut s, p, false))
            .map(|c| (c.id, c.event))
            .collect()
    }

    #[test]
    fn deletions_and_undeletes_fire_their_own_triggers_and_an_undelete_is_no_edit() {
        // `a` is edited, deleted, then restored; `b` was in the recycle bin
        // before the trigger started and is restored; `c` is created and
        // deleted before any poll saw it.
        let bin = vec![gone("b", T9, T9)];
        let polls = || {
            vec![
                vec![rec("a", T9, T1)],
                vec![gone("a", T9, T2), gone("c", T1, T2)],
                vec![gone("a", T9, T2), rec("b", T9, T3), rec("a", T9, T3)],
            ]
        };
        let ev = |v: &[(&str, Event)]| {
            v.iter()
                .map(|(i, e)| (i.to_string(), *e))
                .collect::<Vec<_>>()
        };
        use Event::*;
        assert_eq!(
            fired_over(TriggerOn::Deleted, bin.clone(), polls()),
            ev(&[("a", Deleted), ("c", Deleted)])
        );
        assert_eq!(
            fired_over(TriggerOn::Restored, bin.clone(), polls()),
            ev(&[("b", Restored), ("a", Restored)])
        );
        assert_eq!(
            fired_over(TriggerOn::Updated, bin.clone(), polls()),
            ev(&[("a", Updated)])
        );
        assert_eq!(
            fired_over(TriggerOn::CreatedOrUpdated, bin.clone(), polls()),
            ev(&[("a", Updated), ("c", Created)])
        );
        assert_eq!(
            fired_over(TriggerOn::Created, bin, polls()),
            ev(&[("c", Created)])
        );
    }

    #[test]
    fn the_query_reads_the_window_in_stamp_order() {
        assert_eq!(
            soql(&params(TriggerOn::Created), "2026-11-30T11:00:00.250+0100"),
            "SELECT Id, CreatedDate, SystemModstamp, IsDeleted, LastName FROM Contact WHERE SystemModstamp >= 2026-11-30T10:00:00Z AND (Email != null) ORDER BY SystemModstamp, Id"
        );
        assert_eq!(
            latest_soql(&params(TriggerOn::Created)),
            "SELECT Id, CreatedDate, SystemModstamp, IsDeleted, LastName FROM Contact WHERE IsDeleted = false AND (Email != null) ORDER BY SystemModstamp DESC, Id DESC LIMIT 1"
        );
    }

    #[test]
    fn each_change_fires_once_and_creations_are_told_from_edits() {
        let mut s = TriggerState {
            since: Some(T0.into()),
            ..Default::default()
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
                ..Default::default()
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
            ..Default::default()
        };
        advance(&mut s, T9);
        assert_eq!(s.since.as_deref(), Some(T0), "never back");
        advance(&mut s, T2);
        assert_eq!(s.since.as_deref(), Some(T2));
        assert_eq!(s.seen.keys().collect::<Vec<_>>(), ["b"]);
    }
}
