//! The hardened container every run gets, and the labels that mark it as Campus's.

use crate::config::SandboxConfig;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};
use std::collections::HashMap;

pub const LABEL_SANDBOX: &str = "campus.sandbox";
pub const LABEL_INSTANCE: &str = "campus.instance";
pub const LABEL_OWNER: &str = "campus.owner";
pub const LABEL_RUN: &str = "campus.run";

/// The uid:gid the harness and the program run as (created in the image; never root).
pub const SANDBOX_USER: &str = "10001:10001";

/// The whole environment of the container. The harness passes an even smaller allow-list to
/// the program under test.
pub const ENV_ALLOW_LIST: &[&str] = &[
    "PATH=/usr/local/bin:/usr/bin:/bin",
    "LANG=C.UTF-8",
    "PYTHONDONTWRITEBYTECODE=1",
    "HOME=/tmp",
];

const MIB: i64 = 1024 * 1024;

/// Who created a container: instance, owner process and run ids.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    pub instance: &'a str,
    pub owner: &'a str,
    pub run: &'a str,
}

/// Memory of the whole container for a task limit: the program's own share, the harness and
/// interpreter, and `/tmp` (a tmpfs counts as memory). Swap is the same number: no swap at all.
pub fn container_memory_bytes(config: &SandboxConfig, task_memory_mb: u32) -> i64 {
    (i64::from(task_memory_mb)
        + i64::from(config.harness_memory_mb)
        + i64::from(config.tmp_size_mb))
        * MIB
}

fn ulimit(name: &str, value: i64) -> ResourcesUlimits {
    ResourcesUlimits {
        name: Some(name.into()),
        soft: Some(value),
        hard: Some(value),
    }
}

/// The create request. Code comes in on stdin at start (attach), so the root filesystem can stay
/// read-only and nothing is mounted from the host.
pub fn create_body(
    config: &SandboxConfig,
    image_id: &str,
    task_memory_mb: u32,
    labels: &Labels<'_>,
) -> ContainerCreateBody {
    let memory = container_memory_bytes(config, task_memory_mb);
    let label_map: HashMap<String, String> = [
        (LABEL_SANDBOX, "1"),
        (LABEL_INSTANCE, labels.instance),
        (LABEL_OWNER, labels.owner),
        (LABEL_RUN, labels.run),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let host_config = HostConfig {
        network_mode: Some("none".into()),
        readonly_rootfs: Some(true),
        cap_drop: Some(vec!["ALL".into()]),
        // Docker applies its default seccomp profile unless told otherwise; we never do.
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        privileged: Some(false),
        pids_limit: Some(config.pids_limit),
        memory: Some(memory),
        memory_swap: Some(memory),
        nano_cpus: Some((config.cpu_quota * 1e9) as i64),
        tmpfs: Some(HashMap::from([(
            "/tmp".to_string(),
            format!(
                "rw,noexec,nosuid,nodev,size={}m,mode=1777",
                config.tmp_size_mb
            ),
        )])),
        shm_size: Some(4 * MIB),
        ulimits: Some(vec![
            ulimit("fsize", i64::from(config.max_file_mb) * MIB),
            ulimit("nofile", config.max_open_files as i64),
            ulimit("nproc", config.max_user_processes as i64),
            ulimit("core", 0),
        ]),
        init: Some(true),
        ipc_mode: Some("private".into()),
        // Output reaches us through attach only; the engine keeps no log of it on the host disk.
        log_config: Some(HostConfigLogConfig {
            typ: Some("none".into()),
            config: None,
        }),
        auto_remove: Some(false),
        binds: None,
        mounts: None,
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image_id.to_string()),
        hostname: Some("sandbox".into()),
        user: Some(SANDBOX_USER.into()),
        env: Some(ENV_ALLOW_LIST.iter().map(|s| (*s).to_string()).collect()),
        working_dir: Some("/tmp".into()),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(true),
        tty: Some(false),
        network_disabled: Some(true),
        stop_signal: Some("SIGKILL".into()),
        labels: Some(label_map),
        host_config: Some(host_config),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn create_body_is_hardened() {
        let cfg = SandboxConfig::default();
        let body = create_body(
            &cfg,
            "sha256:x",
            128,
            &Labels {
                instance: "i",
                owner: "o",
                run: "r",
            },
        );
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(hc.memory, hc.memory_swap);
        assert_eq!(hc.init, Some(true));
        assert!(hc.binds.is_none() && hc.mounts.is_none());
        assert_eq!(body.user.as_deref(), Some(SANDBOX_USER));
        assert_eq!(
            body.labels.unwrap().get(LABEL_SANDBOX).map(String::as_str),
            Some("1")
        );
    }
}
