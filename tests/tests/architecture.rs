//! The crate graph is the architecture: `domain` <- adapters <- `api`, nothing points upward,
//! and `domain` holds no I/O crate. Read from `cargo metadata`, so a new dependency that breaks
//! the rule fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Command;

fn metadata() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(campus_tests::workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// Layer of each Campus crate; a crate may depend only on crates of a lower layer.
fn layer(name: &str) -> Option<u8> {
    match name {
        "domain" => Some(0),
        "persistence" | "sandbox" | "llm" | "telegram" => Some(1),
        "api" => Some(2),
        _ => None,
    }
}

/// Normal (non-dev, non-build) dependencies of each workspace package, by name.
fn workspace_deps(meta: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    let members: Vec<&str> = meta["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap()))
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// Every crate (not only direct dependencies) that `root` pulls in through normal dependencies.
fn transitive(meta: &serde_json::Value, root: &str) -> Vec<String> {
    let resolve = &meta["resolve"]["nodes"];
    let name_of = |id: &str| {
        meta["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .map(|p| p["name"].as_str().unwrap().to_string())
    };
    let root_id = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == root)
        .unwrap()["id"]
        .clone();
    let mut seen = vec![root_id.as_str().unwrap().to_string()];
    let mut i = 0;
    while i < seen.len() {
        let node = resolve
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == seen[i].as_str())
            .unwrap();
        for d in node["deps"].as_array().unwrap() {
            let normal = d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            let id = d["pkg"].as_str().unwrap().to_string();
            if normal && !seen.contains(&id) {
                seen.push(id);
            }
        }
        i += 1;
    }
    seen.iter().skip(1).filter_map(|id| name_of(id)).collect()
}

/// Edges that break the layering, as readable sentences.
fn violations(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (krate, list) in deps {
        let Some(mine) = layer(krate) else { continue };
        for d in list {
            if layer(d).is_some_and(|theirs| theirs >= mine) {
                out.push(format!(
                    "{krate} depends on {d}: the crate graph must point downward"
                ));
            }
        }
    }
    out
}

#[test]
fn campus_crates_depend_only_downward() {
    let meta = metadata();
    let deps = workspace_deps(&meta);
    assert!(
        deps.contains_key("domain") && deps.contains_key("api"),
        "workspace lost a crate: {deps:?}"
    );
    assert_eq!(violations(&deps), Vec::<String>::new());
}

#[test]
fn domain_pulls_in_no_io_crate_even_indirectly() {
    let meta = metadata();
    let all = transitive(&meta, "domain");
    for banned in [
        "diesel",
        "actix-web",
        "bollard",
        "reqwest",
        "teloxide",
        "deadpool-redis",
        "redis",
        "r2d2",
        "tokio",
        "hyper",
    ] {
        assert!(
            !all.iter().any(|n| n == banned),
            "domain depends (maybe indirectly) on {banned}"
        );
    }
}

#[test]
fn the_rule_catches_upward_and_sideways_edges() {
    // The check above must be able to fail.
    let mut deps = BTreeMap::new();
    deps.insert("persistence".to_string(), vec!["api".to_string()]);
    deps.insert("sandbox".to_string(), vec!["persistence".to_string()]);
    deps.insert("domain".to_string(), vec!["serde".to_string()]);
    assert_eq!(violations(&deps).len(), 2, "{:?}", violations(&deps));
}
