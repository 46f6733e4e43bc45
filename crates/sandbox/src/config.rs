//! What the sandbox is allowed to use, besides each task's own [`domain::task::Limits`].

use std::time::Duration;

/// Settings of a [`crate::DockerGrader`]. Every field has a safe default ([`Default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// Image tag (or id) holding Python and the harness; built by `scripts/build-sandbox-image`.
    pub image: String,
    /// Docker engine address (`unix:///var/run/docker.sock`, `tcp://127.0.0.1:2375`); `None` uses
    /// `DOCKER_HOST` or the local socket, like the `docker` command.
    pub docker_host: Option<String>,
    /// Runs at once. Default: the CPU count.
    pub max_concurrent: usize,
    /// Submissions that may wait for a free runner; one more is refused as busy.
    pub queue_capacity: usize,
    /// CPU time per container, in cores (1.0 = one full core).
    pub cpu_quota: f64,
    /// Processes and threads per container (cgroup pids limit): fork and thread bombs stop here.
    pub pids_limit: i64,
    /// Size of the container's `/tmp` (tmpfs, counted in its memory), in MiB.
    pub tmp_size_mb: u32,
    /// Largest file a program may write (RLIMIT_FSIZE), in MiB.
    pub max_file_mb: u32,
    /// Open files per process (RLIMIT_NOFILE).
    pub max_open_files: u64,
    /// Processes per uid (RLIMIT_NPROC). The uid is shared by all sandbox containers on the host,
    /// so this is a host-wide backstop; the per-container limit is `pids_limit`.
    pub max_user_processes: u64,
    /// Memory for the harness and interpreter on top of the task's own memory limit, in MiB.
    pub harness_memory_mb: u32,
    /// Time added to the sum of the per-test limits for the whole run (start-up, harness).
    pub run_overhead: Duration,
    /// The whole run never lasts longer than this, whatever the tests' limits add up to.
    pub max_run_time: Duration,
    /// Containers created ahead of need (created, not started), per memory size in use.
    pub prestart: usize,
    /// How often labelled containers that no live run owns are removed.
    pub reap_interval: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            image: "campus-sandbox:latest".into(),
            docker_host: None,
            max_concurrent: cpus,
            queue_capacity: 64,
            cpu_quota: 1.0,
            pids_limit: 64,
            tmp_size_mb: 16,
            max_file_mb: 8,
            max_open_files: 64,
            max_user_processes: 1024,
            harness_memory_mb: 64,
            run_overhead: Duration::from_secs(5),
            max_run_time: Duration::from_secs(120),
            prestart: cpus,
            reap_interval: Duration::from_secs(60),
        }
    }
}
