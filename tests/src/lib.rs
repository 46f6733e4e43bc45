//! Workspace-wide checks that belong to no single crate: the crate graph points downward and
//! the defect classes found in the old backend's audit cannot come back unnoticed. The checks
//! live in `tests/tests/`; this library only locates the workspace.

use std::path::PathBuf;

/// The workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map_or(here.clone(), PathBuf::from)
}
