//! The first command on a machine that is not fresh: `scripts/playground.sh`
//! without a desktop session runs the app inside
//! `scripts/private-keyring.sh`. Here a login keyring already exists in
//! `$HOME` with a password the script cannot know (the README's server
//! recipe makes one); the private keyring must keep tokens all the same,
//! across sessions, without touching the login keyring.

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Output};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/private-keyring.sh"
);

/// `syncstudio ARGS` in a new private session, as playground.sh runs the app.
fn in_private_session(home: &Path, data: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(SCRIPT)
        .arg(data.join("keyring"))
        .arg(BIN)
        .args(args)
        .env("HOME", home)
        .env("SYNCSTUDIO_HOME", data)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("XDG_DATA_HOME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_private_keyring_keeps_tokens_where_a_login_keyring_has_another_password() {
    let home = temp("first-command");
    let data = home.join("data");
    // The user's own login keyring, unlocked once with their password.
    let made = Command::new("dbus-run-session")
        .args([
            "--",
            "sh",
            "-c",
            "printf their-own-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null",
        ])
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .status()
        .unwrap();
    assert!(made.success());
    let login = home.join(".local/share/keyrings/login.keyring");
    // The daemon outlives its session and writes the keyring a moment later.
    let started = std::time::Instant::now();
    while std::fs::metadata(&login).map(|m| m.len()).unwrap_or(0) == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the user's login keyring"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let login_before = std::fs::read(&login).unwrap();

    let org = playground(&home);
    let add = in_private_session(
        &home,
        &data,
        &[
            "connections",
            "add",
            "Playground",
            "--login-url",
            &org.url,
            "--client-id",
            "c",
            "--client-credentials",
            "--client-secret-stdin",
        ],
        "secret\n",
    );
    assert!(add.status.success(), "{}", text(&add.stderr));
    // A second session finds the tokens the first one kept.
    let test = in_private_session(&home, &data, &["connections", "test", "Playground"], "");
    assert!(test.status.success(), "{}", text(&test.stderr));
    assert!(
        text(&test.stdout).starts_with("ok Playground"),
        "{} {}",
        text(&test.stdout),
        text(&test.stderr)
    );
    assert!(
        data.join("keyring/keyrings").is_dir(),
        "the private keyring lives in the data folder"
    );
    assert_eq!(
        std::fs::read(&login).unwrap(),
        login_before,
        "the login keyring is untouched"
    );
    drop(org);
    let _ = std::fs::remove_dir_all(&home);
}
