//! A local Salesforce org over HTTP(S), faithful enough that clients written
//! against the real API (jsforce, simple-salesforce, our own) work against it
//! unmodified: OAuth 2.0 with PKCE, REST, SOQL, SOSL, composite, sObject
//! collections, Bulk API 2.0, limits, and fault injection for tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sf_emulator::EmulatorError> {
//! let org = sf_emulator::Emulator::start(sf_emulator::Config::default()).await?;
//! println!("{}", org.base_url());
//! # Ok(()) }
//! ```

#![recursion_limit = "256"]

pub mod browser;
pub mod bulk;
pub mod demo;
pub mod http;
pub mod ids;
pub mod org;
pub mod persist;
pub mod query;
pub mod schema;
pub mod seed;
pub mod soql;
pub mod sosl;
pub mod values;

pub use http::faults::{FaultKind, FaultRule};
pub use org::{LockRowFault, Org};
pub use seed::{Seed, SeedReport};

use http::Shared;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("data folder {path}: {source}")]
    Data {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data folder {path} is in use by another playground ({holder})")]
    InUse { path: PathBuf, holder: String },
    #[error("TLS certificate: {0}")]
    Tls(String),
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
}

#[derive(Debug, Clone)]
pub struct Config {
    /// 0 picks a free port.
    pub port: u16,
    pub bind: IpAddr,
    pub tls: bool,
    /// Keep the org here across restarts; in memory when None.
    pub data_dir: Option<PathBuf>,
    /// Fill a new org with the playground's demo records.
    pub demo_data: bool,
    pub seed: Option<Seed>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tls: false,
            data_dir: None,
            demo_data: false,
            seed: None,
        }
    }
}

/// A running org. Dropping it stops the server; `shutdown` also saves.
pub struct Emulator {
    shared: Arc<Shared>,
    cert_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    saver: Option<tokio::task::JoinHandle<()>>,
    _cert_dir: Option<TempDir>,
    /// Held while the org runs: a second org on the same folder would
    /// overwrite this one's saves.
    _data_lock: Option<std::fs::File>,
}

const LOCK_FILE: &str = "playground.lock";

/// Locks the data folder for this process; the lock goes with the process,
/// even after `kill -9`. Answers the lock file, to write who holds it.
fn lock_data_dir(dir: &Path) -> Result<std::fs::File, EmulatorError> {
    let path = dir.join(LOCK_FILE);
    let data_err = |source| EmulatorError::Data {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(data_err)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
            Err(EmulatorError::InUse {
                path: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "starting up".into()
                } else {
                    holder
                },
            })
        }
        Err(std::fs::TryLockError::Error(e)) => Err(data_err(e)),
    }
}

/// A folder removed on drop (for the certificate of an in-memory org).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ensure_certificate(dir: &Path) -> Result<(PathBuf, PathBuf), EmulatorError> {
    let cert = dir.join("tls-cert.pem");
    let key = dir.join("tls-key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let generated = rcgen::generate_simple_self_signed(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .map_err(|e| EmulatorError::Tls(e.to_string()))?;
    let write = |p: &Path, s: String| {
        std::fs::write(p, s).map_err(|e| EmulatorError::Data {
            path: p.to_path_buf(),
            source: e,
        })
    };
    write(&cert, generated.cert.pem())?;
    write(&key, generated.key_pair.serialize_pem())?;
    Ok((cert, key))
}

impl Emulator {
    pub async fn start(config: Config) -> Result<Emulator, EmulatorError> {
        let data_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EmulatorError::Data { path, source }
        };
        let mut data_lock = None;
        let mut org = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(data_err(dir))?;
                data_lock = Some(lock_data_dir(dir)?);
                persist::load(dir).map_err(data_err(dir))?
            }
            None => None,
        };
        let fresh = org.is_none();
        let org_ref = org.get_or_insert_with(Org::new);
        if fresh && config.demo_data {
            demo::populate(org_ref);
        }
        if let Some(seed) = &config.seed {
            seed.apply(org_ref)?;
        }
        let org = org.expect("set above");

        let addr = SocketAddr::new(config.bind, config.port);
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let host = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let scheme = if config.tls { "https" } else { "http" };
        let shared = Shared::new(org, format!("{scheme}://{host}:{}", local.port()));
        let app = http::router(shared.clone());
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();

        let mut cert_dir_guard = None;
        let mut cert_path = None;
        let server = if config.tls {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let dir = match &config.data_dir {
                Some(d) => d.clone(),
                None => {
                    let d = std::env::temp_dir().join(format!(
                        "sf-emulator-tls-{}-{}",
                        std::process::id(),
                        local.port()
                    ));
                    std::fs::create_dir_all(&d).map_err(data_err(&d))?;
                    cert_dir_guard = Some(TempDir(d.clone()));
                    d
                }
            };
            let (cert, key) = ensure_certificate(&dir)?;
            cert_path = Some(cert.clone());
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .map_err(|e| EmulatorError::Tls(e.to_string()))?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                let _ = stop_rx.await;
                stopper.graceful_shutdown(Some(Duration::from_millis(500)));
            });
            // TCP_NODELAY, as a web server has it: a response streamed in
            // pieces (a Bulk result file) otherwise waits on the client's
            // delayed ACK, 40 ms a response.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            let server = axum_server::from_tcp(listener)
                .acceptor(acceptor)
                .handle(handle);
            tokio::spawn(async move {
                if let Err(e) = server.serve(app.into_make_service()).await {
                    tracing::error!("emulator server stopped: {e}");
                }
            })
        } else {
            use axum::serve::ListenerExt;
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|source| EmulatorError::Bind { addr, source })?
                .tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
            tokio::spawn(async move {
                let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                    let _ = stop_rx.await;
                });
                if let Err(e) = serve.await {
                    tracing::error!("emulator server stopped: {e}");
                }
            })
        };

        let saver = config.data_dir.clone().map(|dir| {
            let shared = shared.clone();
            tokio::spawn(async move {
                // Wait at least 0.5 s between saves, and longer for a big org:
                // never spend more than a fifth of the time saving.
                let mut pause = Duration::from_millis(500);
                loop {
                    tokio::time::sleep(pause).await;
                    if shared.dirty.swap(false, Ordering::AcqRel) {
                        let started = std::time::Instant::now();
                        let shared = shared.clone();
                        let dir = dir.clone();
                        match tokio::task::spawn_blocking(move || save_now(&shared, &dir)).await {
                            Ok(Err(e)) => tracing::error!("saving the org: {e}"),
                            Err(e) => tracing::error!("saving the org: {e}"),
                            Ok(Ok(())) => {}
                        }
                        pause = (started.elapsed() * 4).max(Duration::from_millis(500));
                    }
                }
            })
        });
        if fresh && config.data_dir.is_some() {
            shared.touch();
        }
        if let Some(lock) = data_lock.as_mut() {
            use std::io::{Seek, Write};
            let holder = format!("pid {} at {}\n", std::process::id(), shared.base_url);
            let written = lock
                .set_len(0)
                .and_then(|_| lock.rewind())
                .and_then(|_| lock.write_all(holder.as_bytes()));
            if let Err(e) = written {
                tracing::warn!("cannot note the playground in its lock file: {e}");
            }
        }
        Ok(Emulator {
            shared,
            cert_path,
            data_dir: config.data_dir,
            stop: Some(stop_tx),
            server: Some(server),
            saver,
            _cert_dir: cert_dir_guard,
            _data_lock: data_lock,
        })
    }

    /// `http://127.0.0.1:PORT` (or https): the login and instance URL.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The self-signed certificate (PEM) when serving HTTPS.
    pub fn cert_path(&self) -> Option<&Path> {
        self.cert_path.as_deref()
    }

    /// Reads or changes the org directly.
    pub fn with_org<R>(&self, f: impl FnOnce(&mut Org) -> R) -> R {
        let r = f(&mut self.shared.org.write());
        self.shared.touch();
        r
    }

    pub fn reset(&self, demo_data: bool) {
        http::control::reset_org(&self.shared, demo_data);
    }

    pub fn seed(&self, seed: &Seed) -> Result<SeedReport, EmulatorError> {
        let mut org = self.shared.org.write();
        let txn = org.begin();
        match seed.apply(&mut org) {
            Ok(r) => {
                org.commit(txn);
                self.shared.touch();
                Ok(r)
            }
            Err(e) => {
                org.rollback(txn);
                Err(e.into())
            }
        }
    }

    /// Issues a session for the admin user without the browser: the JSON a
    /// token endpoint would answer.
    pub fn issue_token(&self, client_id: &str) -> serde_json::Value {
        let mut org = self.shared.org.write();
        http::oauth::issue_for_tests(&self.shared, &mut org, org::ADMIN_USER, client_id, true)
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.faults.lock().push(rule);
    }

    pub fn clear_faults(&self) {
        self.shared.faults.lock().clear();
        self.shared.org.write().lock_row = None;
    }

    pub fn set_lock_row(&self, fault: Option<LockRowFault>) {
        self.shared.org.write().lock_row = fault;
    }

    /// Every access token stops working now; refresh tokens still do.
    pub fn expire_tokens(&self) {
        self.shared.org.write().sessions.clear();
    }

    pub fn set_token_ttl(&self, ttl: Duration) {
        self.shared.org.write().settings.access_token_ttl_secs = ttl.as_secs() as i64;
    }

    /// Writes become queryable only this long after they happen.
    pub fn set_visibility_delay(&self, delay: Duration) {
        self.shared.org.write().settings.visibility_delay_ms = delay.as_millis() as i64;
    }

    pub fn set_daily_api_limit(&self, limit: u64) {
        self.shared.org.write().settings.daily_api_limit = limit;
    }

    pub fn api_used(&self) -> u64 {
        self.shared.api_used.load(Ordering::Acquire)
    }

    pub fn now_ms(&self) -> i64 {
        self.shared.org.read().now()
    }

    pub fn set_clock(&self, ms: i64) {
        http::control::set_clock_to(&mut self.shared.org.write(), ms);
    }

    pub fn advance_clock(&self, by: Duration) {
        let mut org = self.shared.org.write();
        let to = org.now() + by.as_millis() as i64;
        http::control::set_clock_to(&mut org, to);
    }

    pub fn freeze_clock(&self, frozen: bool) {
        let mut org = self.shared.org.write();
        let now = org.now();
        if frozen {
            org.clock.frozen_at = Some(now);
        } else {
            org.clock.frozen_at = None;
            org.clock.offset_ms = now - chrono::Utc::now().timestamp_millis();
        }
    }

    /// Saves now (with `data_dir`); otherwise does nothing.
    pub fn save(&self) -> std::io::Result<()> {
        match &self.data_dir {
            Some(dir) => save_now(&self.shared, dir),
            None => Ok(()),
        }
    }

    /// Stops serving and saves the org.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        self.stop_server().await;
        self.save()
    }

    async fn stop_server(&mut self) {
        if let Some(s) = self.saver.take() {
            s.abort();
        }
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            // Keep-alive connections may hold a graceful stop open: bound it.
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(s) = self.saver.take() {
            s.abort();
        }
        if let Some(s) = self.server.take() {
            s.abort();
        }
    }
}

fn save_now(shared: &Shared, dir: &Path) -> std::io::Result<()> {
    let org = shared.org.read();
    let usage = org::ApiUsage {
        used: shared.api_used.load(Ordering::Acquire),
        day: shared.api_day.load(Ordering::Acquire),
    };
    persist::save(&org, usage, dir)
}
