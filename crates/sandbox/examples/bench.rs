//! Benchmark driver of `scripts/bench-sandbox`: grades the 164 HumanEval canonical solutions
//! (one at a time for latency, then all at once for throughput) and times a bare
//! `docker run --rm IMAGE python3 -c pass` as the baseline. Prints a Markdown section.
//!
//! Usage: bench HUMANEVAL.jsonl.gz [BASELINE_RUNS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use domain::grading::{Grader, Verdict};
use futures_util::StreamExt;
use sandbox::{DockerGrader, SandboxConfig};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// CPU time (ns) charged to the cgroups the Docker daemons live in (when those are not the root
/// cgroup, as under systemd's docker.service/containerd.service; their per-container shims are
/// there too) and to the containers' parent cgroup (cgroup v1 `docker/`). `None` when unknown.
fn docker_cpu_ns() -> (Option<u64>, Option<u64>) {
    let mut paths = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if !matches!(comm.trim(), "dockerd" | "containerd") {
            continue;
        }
        for line in std::fs::read_to_string(entry.path().join("cgroup"))
            .unwrap_or_default()
            .lines()
        {
            let mut parts = line.splitn(3, ':');
            let (_, ctrl, path) = (
                parts.next(),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or("/"),
            );
            if path != "/" && ctrl.split(',').any(|c| c == "cpuacct") {
                paths.insert(format!("/sys/fs/cgroup/cpuacct{path}/cpuacct.usage"));
            }
        }
    }
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    let daemons = if paths.is_empty() {
        None
    } else {
        paths.iter().map(|p| read(p)).sum::<Option<u64>>()
    };
    (daemons, read("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench HUMANEVAL.jsonl.gz [BASELINE_RUNS]");
    let baseline_runs: usize = std::env::args().nth(2).map_or(Ok(10), |s| s.parse())?;
    let tasks = sandbox::files::humaneval_tasks(std::path::Path::new(&path))?;
    let mut config = SandboxConfig {
        queue_capacity: 1024,
        ..SandboxConfig::default()
    };
    if let Some(n) = std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.max_concurrent = n;
    }
    if let Some(n) = std::env::var("BENCH_PRESTART")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        config.prestart = n;
    }
    let skip_latency = std::env::var("BENCH_SKIP_LATENCY").is_ok();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let g = DockerGrader::connect(config.clone()).await?;
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);

    // Warm-up: page cache, pool.
    for (_, code, task) in tasks.iter().take(4) {
        g.grade(code, task).await?;
    }

    // Latency: one submission at a time (the pool refills between them, as on a quiet server).
    let mut lat = Vec::new();
    let mut not_accepted = 0;
    for (_, code, task) in tasks.iter().filter(|_| !skip_latency) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let t = Instant::now();
        let r = g.grade(code, task).await?;
        lat.push(t.elapsed());
        not_accepted += usize::from(r.verdict != Verdict::Accepted);
    }
    lat.sort();
    if lat.is_empty() {
        lat.push(Duration::ZERO);
    }

    // Throughput: everything submitted at once.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu_before = docker_cpu_ns();
    let t = Instant::now();
    let loaded: Vec<(Duration, Verdict)> = futures_util::stream::iter(tasks.iter())
        .map(|(_, code, task)| {
            let g = g.clone();
            async move {
                let t = Instant::now();
                let r = g.grade(code, task).await.expect("graded");
                (t.elapsed(), r.verdict)
            }
        })
        .buffer_unordered(tasks.len())
        .collect()
        .await;
    let wall = t.elapsed();
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let cpu_after = docker_cpu_ns();
    let per = |a: Option<u64>, b: Option<u64>| {
        Some((b?.saturating_sub(a?)) as f64 / 1e6 / tasks.len() as f64)
    };
    let daemons_ms = per(cpu_before.0, cpu_after.0);
    let containers_ms = per(cpu_before.1, cpu_after.1);
    let rate = tasks.len() as f64 / wall.as_secs_f64();
    not_accepted += loaded
        .iter()
        .filter(|(_, v)| *v != Verdict::Accepted)
        .count();
    let mut loaded_lat: Vec<Duration> = loaded.iter().map(|(d, _)| *d).collect();
    loaded_lat.sort();

    // Baseline: a bare `docker run --rm IMAGE python3 -c pass`.
    let mut base = Vec::new();
    for _ in 0..baseline_runs {
        let t = Instant::now();
        let st = tokio::process::Command::new("docker")
            .args(["run", "--rm", &config.image, "python3", "-c", "pass"])
            .stdout(std::process::Stdio::null())
            .status()
            .await?;
        anyhow::ensure!(st.success(), "docker run failed");
        base.push(t.elapsed());
    }
    base.sort();
    g.shutdown().await;
    let base_p50 = percentile(&base, 0.5);
    let p50 = percentile(&lat, 0.5);

    println!("## Sandbox\n");
    println!(
        "`scripts/bench-sandbox` on {} ({cpus} CPUs), image `{}` ({}), release build, \
         max_concurrent = {}, prestart = {}.\n",
        std::env::var("BENCH_HOST").unwrap_or_else(|_| "this machine".into()),
        config.image,
        &g.image_id()[..19.min(g.image_id().len())],
        config.max_concurrent,
        config.prestart
    );
    println!("| measure | value |\n| --- | --- |");
    println!(
        "| HumanEval canonical solutions graded | {} (twice) |",
        tasks.len()
    );
    println!("| not accepted | {not_accepted} |");
    println!(
        "| throughput, all 164 submitted at once | **{rate:.1} submissions/s** ({:.2} s wall) |",
        wall.as_secs_f64()
    );
    println!("| latency one at a time, p50 | **{:.0} ms** |", ms(p50));
    println!(
        "| latency one at a time, p95 | {:.0} ms |",
        ms(percentile(&lat, 0.95))
    );
    println!(
        "| latency under full load, p50 / p95 (includes queueing) | {:.0} / {:.0} ms |",
        ms(percentile(&loaded_lat, 0.5)),
        ms(percentile(&loaded_lat, 0.95))
    );
    println!("| baseline `docker run --rm IMAGE python3 -c pass`, median of {baseline_runs} | {:.0} ms |", ms(base_p50));
    println!(
        "| ratio p50 / baseline | **{:.2}** |",
        p50.as_secs_f64() / base_p50.as_secs_f64()
    );
    let fmt = |v: Option<f64>| v.map_or("n/a".to_string(), |v| format!("{v:.0} ms"));
    println!(
        "| CPU per submission: Docker daemons and shims / the container itself | {} / {} |",
        fmt(daemons_ms),
        fmt(containers_ms)
    );
    if let (Some(d), Some(c)) = (daemons_ms, containers_ms) {
        println!(
            "| ceiling on {cpus} idle cores from that CPU cost | {:.1} submissions/s |",
            cpus as f64 * 1000.0 / (d + c)
        );
    }
    let load = |s: &str| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    println!(
        "| load average before / after the throughput pass | {} / {} |",
        load(&load_before),
        load(&load_after)
    );
    println!(
        "\nLatency is measured around `Grader::grade` (take a pre-created container or create one, \
         attach, start, send the job, the harness runs the test in a fresh interpreter, read the \
         frames; removal happens after the answer). The baseline is timed the same way around the \
         `docker` command. Throughput counts all 164 submitted at once with the default \
         `max_concurrent` (the CPU count); it shares the machine with whatever else runs (see the \
         load average row), so the CPU cost per submission is the figure that carries over: on \
         idle cores throughput is bounded by cores / CPU per submission. Most of the daemons' share \
         is starting the container (containerd shim and runc); creating and removing one cost \
         about 7 ms each, and none of the hardening options (read-only root, tmpfs, init, limits) \
         changes the start cost measurably."
    );
    Ok(())
}
