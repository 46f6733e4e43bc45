//! Source tripwire: the database is reached only through `state::db` (which runs the call on
//! the blocking pool), and nothing uses `block_in_place` (actix workers are single-threaded
//! runtimes). A handler that calls the store directly on the async thread fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[test]
fn the_store_is_reached_only_through_the_blocking_helper() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src")];
    let mut offenders = Vec::new();
    let mut scanned = 0;
    while let Some(path) = dirs.pop() {
        if path.is_dir() {
            dirs.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        scanned += 1;
        let name = path.strip_prefix(root).unwrap().display().to_string();
        for (n, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let direct_store = code.contains("state.db.") || code.contains(".db.as_ref()");
            // `state.rs` defines the helper; `server.rs` hands the store to the state.
            let allowed = matches!(name.as_str(), "src/state.rs" | "src/server.rs");
            if (direct_store && !allowed) || code.contains("block_in_place") {
                offenders.push(format!("{name}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(scanned > 10, "the scan saw the sources");
    assert!(
        offenders.is_empty(),
        "blocking calls outside `state::db`:\n{}",
        offenders.join("\n")
    );
}
