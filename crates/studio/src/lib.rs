//! The Sync Studio engine: the local store, secrets in the OS keychain,
//! connections to Salesforce, schema, queries and exports, and the built-in
//! playground org. No GUI types: the desktop shell and the CLI both sit on
//! top of this.

pub mod about;
pub mod browser;
pub mod connections;
pub mod error;
pub mod export;
pub mod flows;
pub mod grid;
pub mod home;
pub mod import;
#[cfg(feature = "specta")]
pub mod json_type;
pub mod logging;
pub mod notices;
pub mod playground;
pub mod runs;
pub mod schema;
pub mod secrets;
pub mod settings;
pub mod store;

pub use connections::{ConnectionForm, NewConnection, Removal, SignIn};
pub use error::{Error, ErrorKind, Problem, Result, Surface};
pub use store::{ConnectionRow, Store};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct Studio {
    pub(crate) store: Store,
    home: PathBuf,
    /// One client per connection name, so describes stay cached between
    /// screens and the API version is asked once.
    clients: Mutex<HashMap<String, salesforce::Client>>,
    /// Wakes a browser sign-in that the user cancelled.
    sign_in_cancel: tokio::sync::Notify,
    playground: tokio::sync::Mutex<Option<sf_emulator::Emulator>>,
    /// Runs of this process that a front end may cancel by id.
    active: runs::ActiveRuns,
    /// The SOQL console's query in progress: a new one stops it.
    console_query: Mutex<Option<runs::Cancel>>,
    /// One poll of a flow at a time in this process (the runner and a
    /// Run now).
    flow_polls: Mutex<HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    /// Where runs that fail are told (the desktop's notifications).
    notice_host: Mutex<Option<std::sync::Arc<dyn notices::NoticeHost>>>,
}

impl Studio {
    /// Opens (and creates) the data folder's database.
    pub fn open(home: &Path) -> Result<Studio> {
        let store = Store::open(&home.join("studio.db"))?;
        let studio = Studio {
            store,
            home: home.to_path_buf(),
            clients: Mutex::new(HashMap::new()),
            sign_in_cancel: tokio::sync::Notify::new(),
            playground: tokio::sync::Mutex::new(None),
            active: runs::ActiveRuns::default(),
            console_query: Mutex::new(None),
            flow_polls: Mutex::new(HashMap::new()),
            notice_host: Mutex::new(None),
        };
        studio.mark_interrupted_runs()?;
        Ok(studio)
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    fn cached_client(&self, name: &str) -> Option<salesforce::Client> {
        self.clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    fn cache_client(&self, name: &str, client: Option<salesforce::Client>) {
        let mut map = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        match client {
            Some(c) => map.insert(name.to_string(), c),
            None => map.remove(name),
        };
    }
}
