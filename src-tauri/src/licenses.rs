//! The third-party licenses the About box lists, generated from the lock
//! files (Cargo's resolve graph and npm's package-lock), never by hand:
//! `UPDATE_LICENSES=1 cargo test -p sync-studio third_party_licenses`.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Where the list lives, relative to this crate; the UI bundles it.
pub const LICENSES_PATH: &str = "../ui/src/generated/licenses.json";

/// The binaries a package ships: the app and the headless CLI.
const SHIPPED: [&str; 2] = ["sync-studio", "syncstudio-cli"];

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub license: String,
    pub ecosystem: &'static str,
}

/// Every crate the shipped binaries are built from: normal dependencies,
/// followed down (proc macros count, their code is in the binary);
/// build-script and test dependencies are not shipped.
pub fn rust_packages(metadata: &Value) -> Vec<Package> {
    let packages: BTreeMap<&str, &Value> = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p)))
        .collect();
    let nodes: BTreeMap<&str, &Value> = metadata["resolve"]["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n["id"].as_str()?, n)))
        .collect();
    let mut todo: Vec<&str> = packages
        .iter()
        .filter(|(_, p)| SHIPPED.contains(&p["name"].as_str().unwrap_or("")))
        .map(|(id, _)| *id)
        .collect();
    let roots: BTreeSet<&str> = todo.iter().copied().collect();
    let mut seen = BTreeSet::new();
    while let Some(id) = todo.pop() {
        if !seen.insert(id) {
            continue;
        }
        for dep in nodes[id]["deps"].as_array().into_iter().flatten() {
            let normal = dep["dep_kinds"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|k| k["kind"].is_null());
            if normal && let Some(pkg) = dep["pkg"].as_str() {
                todo.push(pkg);
            }
        }
    }
    seen.iter()
        .filter(|id| !roots.contains(*id))
        .map(|id| packages[id])
        // Our own crates (path dependencies) are not third-party.
        .filter(|p| !p["source"].is_null())
        .map(|p| Package {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            version: p["version"].as_str().unwrap_or_default().to_string(),
            license: p["license"]
                .as_str()
                .unwrap_or("see its repository")
                .to_string(),
            ecosystem: "crates.io",
        })
        .collect()
}

/// Every npm package the UI bundle is built from (not the dev tools).
pub fn npm_packages(lock: &Value) -> Vec<Package> {
    lock["packages"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(path, p)| !path.is_empty() && p["dev"].as_bool() != Some(true))
        .map(|(path, p)| Package {
            name: path
                .rsplit_once("node_modules/")
                .map_or(path.as_str(), |(_, n)| n)
                .to_string(),
            version: p["version"].as_str().unwrap_or_default().to_string(),
            license: p["license"]
                .as_str()
                .unwrap_or("see its repository")
                .to_string(),
            ecosystem: "npm",
        })
        .collect()
}

/// The list as the UI reads it: sorted, one entry per name and version.
pub fn generate(workspace: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(workspace)
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace.join("ui/package-lock.json")).expect("the UI's lock"),
    )
    .expect("the lock is JSON");
    let all: BTreeSet<Package> = rust_packages(&metadata)
        .into_iter()
        .chain(npm_packages(&lock))
        .collect();
    let mut text = serde_json::to_string_pretty(&all).expect("serializable");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn third_party_licenses_are_up_to_date() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        let fresh = generate(here.parent().expect("the workspace"));
        let path = here.join(LICENSES_PATH);
        if std::env::var_os("UPDATE_LICENSES").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            current == fresh,
            "ui/src/generated/licenses.json is out of date: run `UPDATE_LICENSES=1 cargo test -p sync-studio third_party_licenses`"
        );
    }

    #[test]
    fn the_list_holds_what_ships_and_not_the_tools() {
        let list: Vec<serde_json::Value> = serde_json::from_str(&generate(
            Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap(),
        ))
        .unwrap();
        let has = |name: &str| list.iter().any(|p| p["name"] == name);
        // Linked into the app, the CLI, and bundled into the UI.
        assert!(has("tauri") && has("rusqlite") && has("axum") && has("react"));
        // Build and test tools are not shipped.
        assert!(!has("typescript") && !has("vitest") && !has("proptest") && !has("tauri-build"));
        // Our own crates are not third-party.
        assert!(!has("studio") && !has("salesforce"));
        assert!(list.iter().all(|p| p["license"] != ""));
    }
}
