//! Running flows: one poll under the flow's lease (a runner, or Run now),
//! and enabled flows polled at their intervals until told to stop. One
//! runner holds a flow at a time (a lease in SQLite, renewed at each poll;
//! a second runner says who holds it and leaves that flow alone), and in
//! one process one poll of a flow runs at a time.

use super::check::Checked;
use super::model::Node;
use super::schedule;
use crate::Studio;
use crate::error::{Error, Result};
use crate::runs::{Cancel, QuietHost, RunHost, RunSummary};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this machine".into())
}

/// How this process names itself in a lease.
pub fn holder_name(role: &str) -> String {
    format!("{role} (pid {} on {})", std::process::id(), host_name())
}

/// Whether a lease's holder was a process on this machine that is no
/// longer running (killed, crashed): its lease need not run out first.
fn holder_is_gone(holder: &str) -> bool {
    let Some((_, tail)) = holder.rsplit_once("(pid ") else {
        return false;
    };
    let Some((pid, host)) = tail.trim_end_matches(')').split_once(" on ") else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host != host_name() || pid == std::process::id() {
        return false;
    }
    // Linux shows every live process under /proc; elsewhere, wait for
    // the lease to run out.
    cfg!(target_os = "linux")
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Who runs a flow and when (for the list of flows).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FlowRunner {
    pub holder: String,
    /// When it last polled or ticked (UTC, ISO).
    pub polled_at: Option<String>,
    /// When it will next (UTC, ISO).
    pub next_at: Option<String>,
}

fn iso(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339())
}

impl Studio {
    /// One poll (or tick) of a flow under its lease, held for `holder`
    /// (taken, or renewed when `holder` has it). Answers who holds it
    /// instead when another runner does.
    pub async fn poll_flow(
        &self,
        name: &str,
        holder: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<Option<RunSummary>> {
        let flow = super::parse(&self.export_flow(name)?)?;
        self.poll_checked(name, &flow, holder, host, cancel)
            .await
            .map(|(ran, _)| ran)
    }

    /// `poll_flow` on a flow already read; also answers when it is due
    /// next (recorded on the lease for the list of flows).
    async fn poll_checked(
        &self,
        name: &str,
        flow: &Checked,
        holder: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<(Option<RunSummary>, chrono::DateTime<chrono::Utc>)> {
        let every = every_of(flow);
        let wall = chrono::Utc::now().timestamp_millis();
        let ttl = (every as i64 * 3 * 1000).max(60_000);
        if let Err(other) = self.store.take_flow_lease(name, holder, wall, wall + ttl)? {
            let taken_over = holder_is_gone(&other)
                && self
                    .store
                    .take_flow_lease_from(name, &other, holder, wall + ttl)?;
            if !taken_over {
                return Err(Error::FlowHeld {
                    flow: name.to_string(),
                    holder: other,
                });
            }
            tracing::info!(flow = name, from = %other, "took over the flow from a runner that stopped");
        }
        let lock = self.flow_poll_lock(name);
        let _one_at_a_time = lock.lock().await;
        let result = self.run_checked(name, flow, host, cancel).await;
        let polled = chrono::Utc::now();
        let next = self.next_due(name, flow, polled)?;
        self.store.record_flow_poll(
            name,
            holder,
            polled.timestamp_millis(),
            next.timestamp_millis(),
        )?;
        result.map(|ran| (ran, next))
    }

    /// One poll now, asked for by the user (`flows run --once`, Run now):
    /// under the lease like a runner's, given back after (a runner that
    /// had it takes it again at its next poll).
    pub async fn run_flow_now(
        &self,
        name: &str,
        holder: &str,
        host: &dyn RunHost,
        cancel: &Cancel,
    ) -> Result<Option<RunSummary>> {
        let ran = self.poll_flow(name, holder, host, cancel).await;
        if !matches!(ran, Err(Error::FlowHeld { .. })) {
            self.store.release_flow_lease(name, holder)?;
        }
        ran
    }

    /// Held while a flow is polled: one poll of a flow at a time here.
    pub(crate) fn flow_poll_lock(&self, name: &str) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        let mut polls = self.flow_polls.lock().unwrap_or_else(|e| e.into_inner());
        polls.entry(name.to_string()).or_default().clone()
    }

    /// Who runs a flow now, if a runner's lease is live.
    pub fn flow_runner(&self, name: &str) -> Result<Option<FlowRunner>> {
        let now = chrono::Utc::now().timestamp_millis();
        Ok(self
            .store
            .flow_lease(name)?
            .filter(|l| l.expires_ms >= now)
            .map(|l| FlowRunner {
                holder: l.holder,
                polled_at: l.polled_ms.and_then(iso),
                next_at: l.next_ms.and_then(iso),
            }))
    }

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
        // Flows whose last poll failed: told once, until one succeeds.
        let mut failing: std::collections::HashSet<String> = Default::default();
        // Each flow as read, until it is saved again (its updated_at).
        let mut read: HashMap<String, (String, Checked)> = HashMap::new();
        while !stop.is_cancelled() {
            let now = Instant::now();
            let flows = self.flows()?;
            let mut next_wake = now + Duration::from_secs(5);
            for f in flows.iter().filter(|f| f.enabled) {
                if read.get(&f.name).is_none_or(|(at, _)| *at != f.updated_at) {
                    let flow = super::parse(&self.export_flow(&f.name)?)?;
                    read.insert(f.name.clone(), (f.updated_at.clone(), flow));
                }
                let flow = &read[&f.name].1;
                if !due.contains_key(&f.name) {
                    // A trigger polls at once; a schedule waits for its tick.
                    let at = match flow.nodes.get(&flow.start) {
                        Some(Node::Schedule(_)) => {
                            instant_of(self.next_due(&f.name, flow, chrono::Utc::now())?)
                        }
                        _ => now,
                    };
                    due.insert(f.name.clone(), at);
                }
                let at = due[&f.name];
                if at > now {
                    next_wake = next_wake.min(at);
                    continue;
                }
                let next = match self
                    .poll_checked(&f.name, flow, holder, &QuietHost, stop)
                    .await
                {
                    Err(Error::FlowHeld { holder: other, .. }) => {
                        if held_elsewhere.get(&f.name) != Some(&other) {
                            on_event(&format!(
                                "flow {:?} is run by {other}; leaving it to that runner",
                                f.name
                            ));
                            held_elsewhere.insert(f.name.clone(), other);
                        }
                        None
                    }
                    Ok((ran, next)) => {
                        held_elsewhere.remove(&f.name);
                        failing.remove(&f.name);
                        if let Some(s) = ran {
                            on_event(&format!(
                                "flow {:?}: run {} took {} records, {} failed",
                                f.name, s.run, s.rows, s.failed
                            ));
                        }
                        Some(next)
                    }
                    Err(e) => {
                        tracing::warn!(flow = %f.name, "poll failed: {e}");
                        on_event(&format!("flow {:?}: the poll failed: {e}", f.name));
                        if failing.insert(f.name.clone()) {
                            let p = e.problem();
                            let reason = format!("{} {}", p.message, p.detail);
                            self.tell(&crate::notices::flow_failing(&f.name, reason.trim()));
                        }
                        None
                    }
                };
                let every = chrono::Duration::seconds(every_of(flow) as i64);
                let next = instant_of(next.unwrap_or_else(|| chrono::Utc::now() + every));
                due.insert(f.name.clone(), next);
                next_wake = next_wake.min(next);
            }
            // A flow disabled or removed is forgotten (enabled again, it
            // is due at once).
            due.retain(|name, _| flows.iter().any(|f| f.enabled && &f.name == name));
            read.retain(|name, _| due.contains_key(name));
            tokio::select! {
                _ = tokio::time::sleep_until(next_wake.into()) => {}
                _ = stop.cancelled() => {}
            }
        }
        self.store.release_flow_leases(holder)?;
        Ok(())
    }

    /// When a flow is next due after a poll at `now`: a trigger its
    /// interval later, a schedule when its interval or cron line says.
    fn next_due(
        &self,
        name: &str,
        flow: &Checked,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<chrono::DateTime<chrono::Utc>> {
        let Some(Node::Schedule(p)) = flow.nodes.get(&flow.start) else {
            return Ok(now + chrono::Duration::seconds(every_of(flow) as i64));
        };
        let state = self
            .store
            .flow_state(name, &flow.start)?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        Ok(schedule::next_tick(p, &state, now))
    }
}

/// How often a flow's start polls or fires (a cron line: checked each
/// minute for the lease's length).
fn every_of(flow: &Checked) -> u64 {
    flow.nodes
        .get(&flow.start)
        .and_then(Node::interval_seconds)
        .unwrap_or(60)
}

fn instant_of(at: chrono::DateTime<chrono::Utc>) -> Instant {
    let wait = (at - chrono::Utc::now()).to_std().unwrap_or_default();
    Instant::now() + wait
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runner_on_this_machine_that_is_not_running_is_gone() {
        let me = holder_name("x");
        assert!(!holder_is_gone(&me), "this process runs");
        let dead = format!("syncstudio flows serve (pid 4194399 on {})", host_name());
        assert_eq!(holder_is_gone(&dead), cfg!(target_os = "linux"));
        assert!(!holder_is_gone(
            "syncstudio flows serve (pid 4194399 on elsewhere)"
        ));
        assert!(!holder_is_gone("someone"));
    }
}
