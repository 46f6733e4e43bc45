//! Runs students' programs in throwaway, locked-down Docker containers and grades them.
//!
//! [`DockerGrader`] implements [`domain::grading::Grader`]. Each submission gets one new
//! container (no network, read-only root, no capabilities, non-root, memory/pids/CPU/file
//! limits, an init as PID 1) that is always removed afterwards; the program and its tests go in
//! as one JSON document on stdin, and the harness inside (`docker/sandbox/harness.py`) answers
//! with frames carrying a per-run nonce that the program never sees. Runs are bounded in number
//! with a bounded queue behind them; containers no live run owns are reaped.
//!
//! Limits of this crate: it trusts the Docker engine and the kernel for isolation (no gVisor);
//! assert-style tests run inside the student's own interpreter, so they are as strong as Python
//! lets one process check another's function (see `docs/sandbox.md`).

pub mod config;
pub mod container;
pub mod error;
pub mod files;
pub mod grader;
pub mod owner;
pub mod protocol;

pub use config::SandboxConfig;
pub use error::SandboxError;
pub use grader::{DockerGrader, LazyGrader, RunTrace, DEFAULT_RETRY_EVERY};
