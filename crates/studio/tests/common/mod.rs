//! Helpers shared by the studio test files.

use salesforce::Environment;
use sf_emulator::Emulator;
use std::time::Duration;
use studio::{NewConnection, SignIn};

pub fn temp_home(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "studio-{tag}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn new_connection(org: &Emulator, name: &str, secret: Option<&str>) -> NewConnection {
    NewConnection {
        name: name.into(),
        environment: Environment::parse(org.base_url()).unwrap(),
        client_id: "sync-studio-desktop".into(),
        client_secret: secret.map(str::to_string),
        callback_port: free_port(),
        api_version: None,
        daily_cap: None,
    }
}

/// Grant access in a browser the test plays, with time to spare.
pub fn browser_sign_in() -> SignIn {
    SignIn::Browser {
        timeout: Duration::from_secs(20),
    }
}
