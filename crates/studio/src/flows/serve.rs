//! Running enabled flows until told to stop: each polled at its trigger's
//! interval, one runner per flow (a lease in SQLite, renewed at each poll;
//! a second runner says who holds it and leaves that flow alone).

use super::model::Node;
use super::schedule;
use crate::Studio;
use crate::error::Result;
use crate::runs::{Cancel, QuietHost};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How this process names itself in a lease.
pub fn holder_name(role: &str) -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into());
    format!("{role} (pid {} on {host})", std::process::id())
}

impl Studio {
    /// Polls every enabled flow at its interval until `stop` is cancelled
    /// (a poll under way finishes its record first). `on_event` hears
    /// each line worth telling the user.
    pub async fn serve_flows(
        &self,
        holder: &str,
        stop: &Cancel,
        on_event: &(dyn Fn(&str) + Sync),
    ) -> Result<()> {
        let mut due: HashMap<String, Instant> = HashMap::new();
        let mut held_elsewhere: HashMap<String, String> = HashMap::new();
        while !stop.is_cancelled() {
            let now = Instant::now();
            let flows = self.flows()?;
            let mut next_wake = now + Duration::from_secs(5);
            for f in flows.iter().filter(|f| f.enabled) {
                let every = f.every_seconds.unwrap_or(60);
                if !due.contains_key(&f.name) {
                    due.insert(f.name.clone(), self.due_at(&f.name, now)?);
                }
                let at = due[&f.name];
                if at > now {
                    next_wake = next_wake.min(at);
                    continue;
                }
                let wall = chrono::Utc::now().timestamp_millis();
                let ttl = (every as i64 * 3 * 1000).max(60_000);
                match self
                    .store
                    .take_flow_lease(&f.name, holder, wall, wall + ttl)?
                {
                    Err(other) => {
                        if held_elsewhere.get(&f.name) != Some(&other) {
                            on_event(&format!(
                                "flow {:?} is run by {other}; leaving it to that runner",
                                f.name
                            ));
                            held_elsewhere.insert(f.name.clone(), other);
                        }
                    }
                    Ok(()) => {
                        held_elsewhere.remove(&f.name);
                        match self.run_flow_once(&f.name, &QuietHost, stop).await {
                            Ok(Some(s)) => on_event(&format!(
                                "flow {:?}: run {} took {} records, {} failed",
                                f.name, s.run, s.rows, s.failed
                            )),
                            Ok(None) => {}
                            Err(e) => {
                                tracing::warn!(flow = %f.name, "poll failed: {e}");
                                on_event(&format!("flow {:?}: the poll failed: {e}", f.name));
                            }
                        }
                    }
                }
                let next = match self.due_at(&f.name, Instant::now())? {
                    scheduled if scheduled > Instant::now() => scheduled,
                    _ => Instant::now() + Duration::from_secs(every),
                };
                due.insert(f.name.clone(), next);
                next_wake = next_wake.min(next);
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next_wake.into()) => {}
                _ = stop.cancelled() => {}
            }
        }
        self.store.release_flow_leases(holder)?;
        Ok(())
    }

    /// When a flow is next due: a trigger at once, a schedule when its
    /// interval or cron line says (from its last tick).
    fn due_at(&self, name: &str, now: Instant) -> Result<Instant> {
        let flow = super::parse(&self.export_flow(name)?)?;
        let Some(Node::Schedule(p)) = flow.nodes.get(&flow.start) else {
            return Ok(now);
        };
        let state = self
            .store
            .flow_state(name, &flow.start)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let wall = chrono::Utc::now();
        let wait = (schedule::next_tick(p, &state, wall) - wall)
            .to_std()
            .unwrap_or_default();
        Ok(now + wait)
    }
}
