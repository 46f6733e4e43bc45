//! Workspace-wide checks that belong to no single crate: the crate graph points downward and
//! the defect classes found in the old backend's audit cannot come back unnoticed. The checks
//! live in `tests/tests/`; this library only locates the workspace.

use std::path::PathBuf;

/// The workspace root (the folder holding the root `Cargo.toml`). Cargo sets
/// `CARGO_MANIFEST_DIR` when it runs tests; it is read at run time because a target directory
/// shared by two checkouts can reuse this library compiled in the other one.
pub fn workspace_root() -> PathBuf {
    let here = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    here.parent().map_or(here.clone(), PathBuf::from)
}
