//! Who owns a container: `<boot id>/<pid>/<process start time>` of the process that created it,
//! so a reaper can tell a crashed server's leftovers from a live neighbour's runs without any
//! shared state. Pids are reused, start times are not.

use std::sync::Mutex;
use uuid::Uuid;

/// Graders alive in this process; a container of this process whose instance is not here was
/// left by a dropped grader and may be reaped.
static LIVE_INSTANCES: Mutex<Vec<Uuid>> = Mutex::new(Vec::new());

pub(crate) fn register_instance(id: Uuid) {
    if let Ok(mut v) = LIVE_INSTANCES.lock() {
        v.push(id);
    }
}

pub(crate) fn unregister_instance(id: Uuid) {
    if let Ok(mut v) = LIVE_INSTANCES.lock() {
        v.retain(|x| *x != id);
    }
}

pub(crate) fn instance_is_live(id: &str) -> bool {
    LIVE_INSTANCES
        .lock()
        .map(|v| v.iter().any(|x| x.to_string() == id))
        .unwrap_or(true)
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Field 22 of /proc/<pid>/stat (start time in clock ticks since boot).
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// This process's owner key.
pub fn current_owner() -> String {
    let pid = std::process::id();
    format!("{}/{}/{}", boot_id(), pid, start_time(pid).unwrap_or(0))
}

/// What the reaper may do with a labelled container.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// Ours (this grader); only the live-run set can tell whether it is still needed.
    Mine,
    /// Another live grader's, in this or another process: leave it alone.
    Neighbour,
    /// Nobody alive owns it.
    Orphan,
}

pub(crate) fn classify(
    my_instance: &str,
    my_owner: &str,
    instance: &str,
    owner: &str,
) -> Ownership {
    if instance == my_instance {
        return Ownership::Mine;
    }
    if owner == my_owner {
        return if instance_is_live(instance) {
            Ownership::Neighbour
        } else {
            Ownership::Orphan
        };
    }
    let mut parts = owner.split('/');
    let (Some(boot), Some(pid), Some(start)) = (parts.next(), parts.next(), parts.next()) else {
        return Ownership::Orphan;
    };
    if boot != boot_id() {
        return Ownership::Orphan;
    }
    match (pid.parse::<u32>(), start.parse::<u64>()) {
        (Ok(pid), Ok(start)) if start_time(pid) == Some(start) => Ownership::Neighbour,
        _ => Ownership::Orphan,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_dead_process_owns_nothing_and_a_live_one_keeps_its_containers() {
        let me = current_owner();
        assert_eq!(classify("a", &me, "a", &me), Ownership::Mine);
        let id = Uuid::new_v4();
        register_instance(id);
        assert_eq!(
            classify("a", &me, &id.to_string(), &me),
            Ownership::Neighbour
        );
        unregister_instance(id);
        assert_eq!(classify("a", &me, &id.to_string(), &me), Ownership::Orphan);
        // pid 1 is alive but started at another time than the label says.
        let boot = me.split('/').next().unwrap();
        assert_eq!(
            classify("a", &me, "b", &format!("{boot}/1/999999999999")),
            Ownership::Orphan
        );
        assert_eq!(classify("a", &me, "b", "garbage"), Ownership::Orphan);
    }
}
