//! The Sync Studio engine: the local store, secrets in the OS keychain, and
//! connections to Salesforce. No GUI types: the desktop shell and the CLI
//! both sit on top of this.

pub mod connections;
pub mod error;
pub mod export;
pub mod home;
pub mod secrets;
pub mod store;

pub use connections::{NewConnection, SignIn};
pub use error::{Error, Problem, Result};
pub use store::{ConnectionRow, Store};

use std::path::{Path, PathBuf};

pub struct Studio {
    pub(crate) store: Store,
    home: PathBuf,
}

impl Studio {
    /// Opens (and creates) the data folder's database.
    pub fn open(home: &Path) -> Result<Studio> {
        let store = Store::open(&home.join("studio.db"))?;
        Ok(Studio {
            store,
            home: home.to_path_buf(),
        })
    }

    pub fn home(&self) -> &Path {
        &self.home
    }
}
