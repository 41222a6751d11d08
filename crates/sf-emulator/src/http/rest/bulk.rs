//! Bulk API 2.0 endpoints: ingest and query jobs.

use super::*;

const DEFAULT_QUERY_RESULTS_PAGE: usize = 50_000;

const INGEST_CHUNK: usize = 2000;

const MAX_BULK_UPLOAD: u64 = 150 * 1024 * 1024;

pub(super) fn list_jobs(shared: &Shared, query: bool) -> Reply {
    let jobs = shared.jobs.lock();
    let mut records: Vec<(i64, Value)> = if query {
        jobs.query
            .values()
            .map(|j| (j.created, j.info(false)))
            .collect()
    } else {
        jobs.ingest
            .values()
            .map(|j| (j.created, j.info(false)))
            .collect()
    };
    records.sort_by_key(|(t, _)| *t);
    let records: Vec<Value> = records.into_iter().map(|(_, v)| v).collect();
    Reply::json(
        200,
        json!({"done": true, "records": records, "nextRecordsUrl": null}),
    )
}

pub(super) fn create_ingest_job(shared: &Shared, org: &mut Org, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(object) = s("object") else {
        return Reply::error(400, "INVALIDJOB", "InvalidJob : Object is required");
    };
    let Some(o) = org.object(&object) else {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Unable to find object: {object}"),
        );
    };
    let operation = s("operation").unwrap_or_default();
    if !["insert", "update", "upsert", "delete", "hardDelete"].contains(&operation.as_str()) {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid operation: {operation}"),
        );
    }
    let ext = s("externalIdFieldName");
    if operation == "upsert" {
        let Some(e) = &ext else {
            return Reply::error(
                400,
                "INVALIDJOB",
                "InvalidJob : External ID was blank for upsert",
            );
        };
        let d = org.def(o);
        if !d
            .field(e)
            .is_some_and(|fi| d.fields[fi].external_id || d.fields[fi].sys == Some(SysField::Id))
        {
            return Reply::error(
                400,
                "INVALIDJOB",
                &format!(
                    "InvalidJob : Field name provided, {e} is not an External ID or indexed field for {}",
                    d.name
                ),
            );
        }
    }
    let line_ending = s("lineEnding").unwrap_or_else(|| "LF".into());
    let delimiter = s("columnDelimiter").unwrap_or_else(|| "COMMA".into());
    if line_ending != "LF" && line_ending != "CRLF" {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid lineEnding: {line_ending}"),
        );
    }
    if delimiter_byte(&delimiter).is_none() {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid columnDelimiter: {delimiter}"),
        );
    }
    if s("contentType").is_some_and(|c| c != "CSV") {
        return Reply::error(
            400,
            "INVALIDJOB",
            "InvalidJob : Only CSV content is supported",
        );
    }
    let upload = match crate::bulk::Spool::new() {
        Ok(u) => u,
        Err(e) => {
            return Reply::error(
                500,
                "UNKNOWN_EXCEPTION",
                &format!("The job's upload file could not be made: {e}"),
            );
        }
    };
    let now = org.now();
    let serial = org.serial();
    let job = IngestJob {
        id: make_id("750", serial),
        object: org.def(o).name.clone(),
        key_prefix: org.def(o).key_prefix.clone(),
        operation,
        external_id_field: ext,
        line_ending,
        column_delimiter: delimiter,
        state: "Open".into(),
        created: now,
        modstamp: now,
        created_by: req.user,
        api_version: req.version.clone(),
        upload,
        uploading: false,
        results: None,
        processed: 0,
        failed: 0,
        error_message: None,
        processing_ms: 0,
    };
    let info = job.info(false);
    shared.jobs.lock().ingest.insert(job.id.clone(), job);
    Reply::json(200, info)
}

/// `PUT .../jobs/ingest/ID/batches`: the CSV appended to the job's file as
/// it arrives. A later upload repeats the header row; only its data rows
/// are kept. Past 150 MB in all, the upload is refused and the job keeps
/// what it had.
pub(super) async fn upload_batch(
    shared: &Arc<Shared>,
    id: &str,
    headers: &HeaderMap,
    gzipped: bool,
    body: Body,
) -> Reply {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let spool = {
        let mut jobs = shared.jobs.lock();
        let Some(job) = jobs.ingest.get_mut(id) else {
            return job_not_found();
        };
        if !ct.starts_with("text/csv") {
            return Reply::error(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                &format!("Content-Type header specified in HTTP request is not supported: {ct}"),
            );
        }
        if job.state != "Open" || job.uploading {
            return Reply::error(
                409,
                "INVALIDJOBSTATE",
                &format!("Job {id} is not in the Open state: {}", job.state),
            );
        }
        job.uploading = true;
        job.upload.clone()
    };
    let received = receive(&spool, gzipped, body).await;
    let mut jobs = shared.jobs.lock();
    let Some(job) = jobs.ingest.get_mut(id) else {
        return job_not_found();
    };
    job.uploading = false;
    match received {
        Ok(len) => {
            job.upload.len = len;
            Reply::empty(201)
        }
        Err(reply) => {
            let _ = job.upload.truncate();
            reply
        }
    }
}

/// Appends a request body to `spool`, and answers its new length.
async fn receive(spool: &crate::bulk::Spool, gzipped: bool, body: Body) -> Result<u64, Reply> {
    use futures::StreamExt;
    use std::io::Write;
    use tokio::io::AsyncWriteExt;
    let disk = |e: std::io::Error| {
        Reply::error(
            500,
            "UNKNOWN_EXCEPTION",
            &format!("The upload could not be stored: {e}"),
        )
    };
    let too_big = || {
        Reply::error(
            413,
            "REQUEST_ENTITY_TOO_LARGE",
            "The upload exceeds the 150 MB limit of a Bulk API 2.0 job",
        )
    };
    let mut file = tokio::fs::File::from_std(spool.writer().map_err(disk)?);
    let mut len = spool.len;
    let first = len == 0;
    // A later upload: its header row is skipped, and the rows before it
    // are ended with a line feed if they were not.
    let mut skipping_header = !first;
    if !first && !ends_with_newline(spool).map_err(disk)? {
        file.write_all(b"\n").await.map_err(disk)?;
        len += 1;
    }
    let mut gunzip = gzipped.then(|| flate2::write::GzDecoder::new(Vec::new()));
    let mut stream = body.into_data_stream();
    let mut at_end = false;
    // Past the limit the rest is read and dropped, so that the client,
    // still sending, gets the answer rather than a broken connection.
    let mut over = false;
    while !at_end {
        let chunk = match stream.next().await {
            Some(Ok(c)) => c,
            Some(Err(e)) => return Err(disk(std::io::Error::other(e))),
            None => {
                at_end = true;
                Bytes::new()
            }
        };
        if over {
            continue;
        }
        let plain: Bytes = match &mut gunzip {
            Some(g) => {
                let bad = |_| {
                    Reply::error(
                        400,
                        "JSON_PARSER_ERROR",
                        "The request body is not valid gzip",
                    )
                };
                g.write_all(&chunk).map_err(bad)?;
                if at_end {
                    g.try_finish().map_err(bad)?;
                }
                Bytes::from(std::mem::take(g.get_mut()))
            }
            None => chunk,
        };
        let mut data = &plain[..];
        if skipping_header {
            match data.iter().position(|&b| b == b'\n') {
                Some(p) => {
                    data = &data[p + 1..];
                    skipping_header = false;
                }
                None => data = &[],
            }
        }
        if len + data.len() as u64 > MAX_BULK_UPLOAD {
            over = true;
            continue;
        }
        file.write_all(data).await.map_err(disk)?;
        len += data.len() as u64;
    }
    if over {
        return Err(too_big());
    }
    file.flush().await.map_err(disk)?;
    Ok(len)
}

fn ends_with_newline(spool: &crate::bulk::Spool) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    if spool.len == 0 {
        return Ok(true);
    }
    let mut f = std::fs::File::open(spool.path())?;
    f.seek(SeekFrom::Start(spool.len - 1))?;
    let mut last = [0u8];
    f.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

pub(super) fn patch_ingest_job(shared: &Arc<Shared>, org: &mut Org, id: &str, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = org.clock.now();
    let mut jobs = shared.jobs.lock();
    let Some(job) = jobs.ingest.get_mut(id) else {
        return job_not_found();
    };
    match body.get("state").and_then(Value::as_str) {
        Some("UploadComplete") => {
            if job.state != "Open" {
                return Reply::error(
                    409,
                    "INVALIDJOBSTATE",
                    &format!("Job {id} is not in the Open state: {}", job.state),
                );
            }
            job.state = "UploadComplete".into();
            job.modstamp = now;
            let info = job.info(false);
            let shared = shared.clone();
            let id = id.to_string();
            std::thread::spawn(move || process_ingest(&shared, &id));
            Reply::json(200, info)
        }
        Some("Aborted") => {
            if matches!(job.state.as_str(), "JobComplete" | "Failed") {
                return Reply::error(
                    409,
                    "INVALIDJOBSTATE",
                    &format!("Job {id} is already {}", job.state),
                );
            }
            job.state = "Aborted".into();
            job.modstamp = now;
            Reply::json(200, job.info(false))
        }
        other => Reply::error(
            400,
            "INVALIDJOBSTATE",
            &format!("Invalid state: {}", other.unwrap_or("(none)")),
        ),
    }
}

/// Runs an ingest job in chunks, letting other requests in between.
fn process_ingest(shared: &Arc<Shared>, id: &str) {
    let started = std::time::Instant::now();
    let queue_ms = shared.org.read().settings.bulk_queue_ms;
    if queue_ms > 0 {
        let wait = rand::random::<u64>() % queue_ms;
        std::thread::sleep(std::time::Duration::from_millis(wait));
    }
    let (upload, delimiter, line_ending) = {
        let mut jobs = shared.jobs.lock();
        let Some(job) = jobs.ingest.get_mut(id) else {
            return;
        };
        if job.state != "UploadComplete" {
            return;
        }
        job.state = "InProgress".into();
        (job.upload.clone(), job.delimiter(), job.line_ending.clone())
    };
    // Read through without the locks: the API keeps answering meanwhile.
    let scanned = crate::bulk::scan_upload(&upload, delimiter, &line_ending);
    let prepared = {
        let org = shared.org.read();
        let mut jobs = shared.jobs.lock();
        let Some(job) = jobs.ingest.get_mut(id) else {
            return;
        };
        let run = scanned.and_then(|total| crate::bulk::prepare_scanned(&org, job, total));
        if let Err(msg) = &run {
            job.state = "Failed".into();
            job.error_message = Some(msg.clone());
            job.modstamp = org.now();
        }
        run.ok().map(|r| (r, job.created_by))
    };
    let Some((mut run, user)) = prepared else {
        shared.touch();
        return;
    };
    let mut failure = None;
    while !run.finished() {
        let mut org = shared.org.write();
        if shared
            .jobs
            .lock()
            .ingest
            .get(id)
            .is_none_or(|j| j.state == "Aborted")
        {
            break;
        }
        let chunk = run.process(&mut org, INGEST_CHUNK, user);
        let mut jobs = shared.jobs.lock();
        let Some(job) = jobs.ingest.get_mut(id) else {
            break;
        };
        match chunk {
            Ok(chunk) => {
                job.processed += chunk.processed;
                job.failed += chunk.failed;
                run.publish(job);
            }
            Err(e) => {
                failure = Some(format!(
                    "InternalServerError : the job's data could not be read or written: {e}"
                ));
                break;
            }
        }
        // Handed to any request waiting: a job in progress never holds up
        // the API (status polls, queries, other jobs' results).
        parking_lot::MutexGuard::unlock_fair(jobs);
        parking_lot::RwLockWriteGuard::unlock_fair(org);
        shared.touch();
    }
    let now = shared.org.read().now();
    let aborted = shared
        .jobs
        .lock()
        .ingest
        .get(id)
        .is_some_and(|j| j.state == "Aborted");
    if aborted && failure.is_none() {
        // Read outside the locks: the rest of the file may be long.
        if let Err(e) = run.leave_the_rest() {
            failure = Some(format!(
                "InternalServerError : the job's data could not be read or written: {e}"
            ));
        }
    }
    if let Some(job) = shared.jobs.lock().ingest.get_mut(id) {
        run.publish(job);
        if let Some(msg) = failure {
            job.state = "Failed".into();
            job.error_message = Some(msg);
        } else if !aborted {
            job.state = "JobComplete".into();
        }
        job.modstamp = now;
        job.processing_ms = started.elapsed().as_millis() as u64;
    }
    shared.touch();
}

pub(super) fn create_query_job(shared: &Arc<Shared>, org: &mut Org, req: &Req) -> Reply {
    let body = match json_body(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let operation = s("operation").unwrap_or_else(|| "query".into());
    if operation != "query" && operation != "queryAll" {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid operation: {operation}"),
        );
    }
    let Some(soql) = s("query") else {
        return Reply::error(400, "INVALIDJOB", "InvalidJob : query is required");
    };
    let plan = match Plan::compile(org, &soql) {
        Ok(p) => p,
        Err(e) => return soql_error(e),
    };
    if plan.count_all || !plan.count_fields.is_empty() {
        return Reply::error(
            400,
            "INVALIDJOB",
            "InvalidJob : Aggregate queries are not supported by Bulk API 2.0 query jobs",
        );
    }
    let delimiter = s("columnDelimiter").unwrap_or_else(|| "COMMA".into());
    if delimiter_byte(&delimiter).is_none() {
        return Reply::error(
            400,
            "INVALIDJOB",
            &format!("InvalidJob : Invalid columnDelimiter: {delimiter}"),
        );
    }
    let now = org.now();
    let serial = org.serial();
    let job = QueryJob {
        id: make_id("750", serial),
        operation: operation.clone(),
        object: org.def(plan.obj).name.clone(),
        query: soql,
        state: "UploadComplete".into(),
        created: now,
        modstamp: now,
        created_by: req.user,
        api_version: req.version.clone(),
        column_delimiter: delimiter,
        line_ending: s("lineEnding").unwrap_or_else(|| "LF".into()),
        plan: Arc::new(plan),
        nums: None,
        processing_ms: 0,
    };
    let info = job.info(false);
    let id = job.id.clone();
    shared.jobs.lock().query.insert(id.clone(), job);
    let shared = shared.clone();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let (plan, all) = {
            let jobs = shared.jobs.lock();
            let Some(j) = jobs.query.get(&id) else {
                return;
            };
            (j.plan.clone(), j.operation == "queryAll")
        };
        let nums = {
            let org = shared.org.read();
            plan.execute(&org, all)
        };
        let now = shared.org.read().now();
        if let Some(j) = shared.jobs.lock().query.get_mut(&id)
            && j.state != "Aborted"
        {
            j.nums = Some(Arc::new(nums));
            j.state = "JobComplete".into();
            j.modstamp = now;
            j.processing_ms = started.elapsed().as_millis() as u64;
        }
    });
    Reply::json(200, info)
}

pub(super) fn query_results(shared: &Shared, org: &Org, id: &str, req: &Req) -> Reply {
    let jobs = shared.jobs.lock();
    let Some(job) = jobs.query.get(id) else {
        return job_not_found();
    };
    let Some(nums) = job.nums.as_ref().filter(|_| job.state == "JobComplete") else {
        return Reply::error(
            400,
            "INVALIDJOBSTATE",
            &format!("Job {id} is not complete: {}", job.state),
        );
    };
    let start = match req
        .param("locator")
        .filter(|l| !l.is_empty() && *l != "null")
    {
        Some(l) => match STANDARD_NO_PAD
            .decode(l.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.parse::<usize>().ok())
        {
            Some(n) if n <= nums.len() => n,
            _ => return Reply::error(400, "INVALIDLOCATOR", &format!("Invalid locator: {l}")),
        },
        None => 0,
    };
    let max = req
        .param("maxRecords")
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| *m > 0)
        .unwrap_or(DEFAULT_QUERY_RESULTS_PAGE);
    let end = (start + max).min(nums.len());
    let delimiter = delimiter_byte(&job.column_delimiter).unwrap_or(b',');
    let body = render_csv(
        org,
        &job.plan,
        &nums[start..end],
        true,
        delimiter,
        job.line_ending == "CRLF",
    );
    let locator = if end < nums.len() {
        STANDARD_NO_PAD.encode(end.to_string())
    } else {
        "null".to_string()
    };
    let mut r = Reply::csv(body);
    r.headers.push(("sforce-locator", locator));
    r.headers
        .push(("sforce-numberofrecords", (end - start).to_string()));
    r
}
