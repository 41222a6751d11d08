//! `query` and `queryAll`: the first page and the cursors behind
//! `nextRecordsUrl`.

use super::*;

const CURSOR_IDLE_MS: i64 = 15 * 60 * 1000;

const MAX_CURSORS: usize = 10_000;

const DEFAULT_PAGE: usize = 2000;

pub(super) fn soql_error(e: crate::soql::SoqlError) -> Reply {
    Reply::error(400, e.code, &e.message)
}

pub(super) fn page_size(req: &Req) -> usize {
    req.headers
        .get("sforce-query-options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|kv| kv.trim().strip_prefix("batchSize="))
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
        .map(|n| n.clamp(200, 2000))
        .unwrap_or(DEFAULT_PAGE)
}

pub(super) fn start_query(shared: &Shared, org: &Org, req: &Req, all: bool) -> Reply {
    let Some(q) = req.param("q") else {
        return Reply::error(400, "MALFORMED_QUERY", "A query string has to be specified");
    };
    let plan = match Plan::compile(org, q) {
        Ok(p) => p,
        Err(e) => return soql_error(e),
    };
    let nums = plan.execute(org, all);
    if plan.count_all || !plan.count_fields.is_empty() {
        return Reply::json(200, render_aggregate(org, &plan, &nums));
    }
    let cursor = Cursor {
        plan: Arc::new(plan),
        nums: Arc::new(nums),
        page_size: page_size(req),
        version: req.version.clone(),
        last_used: org.now(),
    };
    let cursor_id = make_id("01g", rand::random::<u32>() as u64 + 1);
    let body = render_page(org, &cursor, 0, &cursor_id);
    if cursor.nums.len() > cursor.page_size {
        let mut cursors = shared.cursors.lock();
        let now = org.now();
        cursors.retain(|_, c| now - c.last_used < CURSOR_IDLE_MS);
        if cursors.len() >= MAX_CURSORS
            && let Some(oldest) = cursors
                .iter()
                .min_by_key(|(_, c)| c.last_used)
                .map(|(k, _)| k.clone())
        {
            cursors.remove(&oldest);
        }
        cursors.insert(cursor_id, cursor);
    }
    Reply::json(200, body)
}

pub(super) fn next_page(shared: &Shared, org: &Org, locator: &str) -> Reply {
    let invalid = || Reply::error(400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    let Some((id, offset)) = locator.rsplit_once('-') else {
        return invalid();
    };
    let Ok(offset) = offset.parse::<usize>() else {
        return invalid();
    };
    let cursor = {
        let mut cursors = shared.cursors.lock();
        let Some(c) = cursors.get_mut(id) else {
            return invalid();
        };
        c.last_used = org.now();
        c.clone()
    };
    if offset > cursor.nums.len() {
        return invalid();
    }
    let body = render_page(org, &cursor, offset, id);
    if offset + cursor.page_size >= cursor.nums.len() {
        shared.cursors.lock().remove(id);
    }
    Reply::json(200, body)
}

// ---- sObject collections -----------------------------------------------
