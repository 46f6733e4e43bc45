//! The attack suite: each test is a hostile program and asserts that it stayed contained and that
//! the verdict says what happened. Real Docker, real image; fails when either is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use domain::grading::Verdict;
use domain::task::Checker;

// ---------------------------------------------------------------- processes and threads

#[tokio::test]
async fn fork_bomb_is_stopped_by_the_pids_limit_and_times_out() {
    let r = attack(
        r#"
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"#,
        "x",
    )
    .await;
    assert!(
        matches!(
            r.verdict,
            Verdict::TimeLimit | Verdict::RuntimeError | Verdict::MemoryLimit
        ),
        "{r:?}"
    );
}

#[tokio::test]
async fn fork_bomb_hits_the_process_limit_not_the_host() {
    // Counts how many forks succeed: the cgroup pids limit (64 for the whole container) stops it.
    let r = attack(
        r#"
import os, time
n = 0
for _ in range(10000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print("capped" if n < 64 else "uncapped %d" % n)
"#,
        "capped",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn thread_bomb_is_contained() {
    let r = attack(
        r#"
import threading, time
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
        n += 1
except (RuntimeError, MemoryError):
    pass
print("capped" if n < 1000 else "uncapped")
"#,
        "capped",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn cpu_spin_in_many_threads_times_out() {
    let r = attack(
        r#"
import threading
# Small stacks, so the 16 threads start under the memory limit (8 MiB default stacks would
# not: that is the memory limit at work, not the CPU spin this test is about).
threading.stack_size(256 * 1024)
def spin():
    while True:
        pass
for _ in range(16):
    threading.Thread(target=spin).start()
"#,
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::TimeLimit);
}

#[tokio::test]
async fn cpu_spin_in_many_processes_times_out() {
    let r = attack(
        r#"
import os
for _ in range(8):
    if os.fork() == 0:
        break
while True:
    pass
"#,
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::TimeLimit);
}

#[tokio::test]
async fn double_fork_daemon_does_not_outlive_its_test() {
    // Test 1 leaves a daemon behind; test 2 looks for any other process of the container.
    let spawn_daemon = r#"
import os, sys, time
if sys.stdin.read().strip() == "spawn":
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                with open("/tmp/alive", "w") as f:
                    f.write(str(time.time()))
                time.sleep(0.05)
        os._exit(0)
    time.sleep(0.3)
    print("spawned")
else:
    time.sleep(0.3)
    mine, parent = os.getpid(), os.getppid()
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, mine, parent)]
    print("alone" if not others else "daemon survived: %s" % others)
"#;
    let t = task(vec![
        io_case("spawn", "spawn", "spawned", Checker::Lines),
        io_case("look", "look", "alone", Checker::Lines),
    ]);
    let r = attack_task(spawn_daemon, &t).await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn a_daemon_still_running_at_the_end_leaves_no_container() {
    let g = grader().await;
    let code = r#"
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(0.01)
    os._exit(0)
print("bye")
"#;
    let (r, trace) = g.grade_traced(code, &io_task("bye")).await.unwrap();
    assert_verdict(&r, Verdict::Accepted);
    assert_container_gone(&trace).await;
    assert!(containers_with(&format!("campus.run={}", trace.run_id))
        .await
        .is_empty());
}

#[tokio::test]
async fn ignoring_sigterm_does_not_help() {
    let r = attack(
        r#"
import signal
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
while True:
    pass
"#,
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::TimeLimit);
}

#[tokio::test]
async fn endless_loop_times_out() {
    let r = attack("while True:\n    pass\n", "x").await;
    assert_verdict(&r, Verdict::TimeLimit);
    assert!(r.tests[0].time_ms >= 1_000);
}

#[tokio::test]
async fn long_sleep_times_out_quickly() {
    let started = std::time::Instant::now();
    let r = attack("import time\ntime.sleep(3600)\n", "x").await;
    assert_verdict(&r, Verdict::TimeLimit);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn closing_stdout_then_spinning_times_out() {
    let r = attack(
        "import os\nprint('partial', flush=True)\nos.close(1)\nwhile True:\n    pass\n",
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::TimeLimit);
}

// ---------------------------------------------------------------- memory

#[tokio::test]
async fn one_huge_allocation_is_a_memory_limit() {
    let r = attack("x = bytearray(1 << 30)\nprint(len(x))\n", "x").await;
    assert_verdict(&r, Verdict::MemoryLimit);
}

#[tokio::test]
async fn a_growing_balloon_is_a_memory_limit() {
    let r = attack(
        "keep = []\nwhile True:\n    keep.append(bytearray(1 << 20))\n",
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::MemoryLimit);
}

#[tokio::test]
async fn a_balloon_split_over_processes_is_a_memory_limit() {
    // Each child stays under the per-process limit; together they exceed the container's memory,
    // and the kernel's OOM killer steps in.
    let r = attack_task(
        r#"
import os, time
for _ in range(6):
    if os.fork() == 0:
        b = bytearray(60 * 1024 * 1024)
        for i in range(0, len(b), 4096):
            b[i] = 1
        time.sleep(0.2)
        os._exit(0)
for _ in range(6):
    os.wait()
print("survived")
"#,
        &{
            let mut t = io_task("survived");
            t.limits.time_ms = 5_000;
            t
        },
    )
    .await;
    assert_verdict(&r, Verdict::MemoryLimit);
}

// ---------------------------------------------------------------- output

#[tokio::test]
async fn endless_printing_is_an_output_limit() {
    let r = attack("while True:\n    print('spam' * 20)\n", "x").await;
    assert_verdict(&r, Verdict::OutputLimit);
}

#[tokio::test]
async fn one_huge_write_to_stdout_is_an_output_limit() {
    let r = attack("import os\nos.write(1, b'x' * (16 * 1024 * 1024))\n", "x").await;
    assert_verdict(&r, Verdict::OutputLimit);
    assert!(
        actual(&r).len() <= 4 * 1024 + 4,
        "actual is truncated in the report"
    );
}

#[tokio::test]
async fn one_huge_write_to_stderr_is_an_output_limit() {
    let r = attack("import os\nos.write(2, b'e' * (16 * 1024 * 1024))\n", "x").await;
    assert_verdict(&r, Verdict::OutputLimit);
}

#[tokio::test]
async fn binary_output_is_decoded_lossily() {
    let r = attack(
        "import sys\nsys.stdout.buffer.write(bytes(range(256)))\n",
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::WrongAnswer);
    assert!(actual(&r).contains('\u{FFFD}'), "{:?}", actual(&r));
}

#[tokio::test]
async fn half_a_utf8_character_is_decoded_lossily() {
    let r = attack(
        "import sys\nsys.stdout.buffer.write('hé'.encode()[:2])\n",
        "h",
    )
    .await;
    assert_verdict(&r, Verdict::WrongAnswer);
    assert_eq!(actual(&r), "h\u{FFFD}");
}

// ---------------------------------------------------------------- files

#[tokio::test]
async fn filling_tmp_ends_with_no_space_left() {
    let r = attack(
        r#"
import errno
try:
    for i in range(100):
        with open("/tmp/fill%d" % i, "wb") as f:
            for _ in range(4):
                f.write(b"\0" * (1 << 20))
    print("never full")
except OSError as e:
    print(errno.errorcode[e.errno])
"#,
        "ENOSPC",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused() {
    let r = attack(
        r#"
import errno
try:
    with open("/tmp/big", "wb") as f:
        for _ in range(12):
            f.write(b"\0" * (1 << 20))
            f.flush()
    print("wrote 12 MiB")
except OSError as e:
    print(errno.errorcode[e.errno])
"#,
        "EFBIG",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn writing_outside_tmp_is_refused() {
    let r = attack(
        r#"
import os
results = []
for path in ("/etc/evil", "/opt/campus/harness.py", "/usr/lib/python3/evil.py", "/evil", "/root/evil", "/dev/shm/../evil"):
    try:
        with open(path, "a") as f:
            f.write("x")
        results.append("WROTE " + path)
    except OSError:
        pass
print("\n".join(results) or "all refused")
"#,
        "all refused",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn tmp_is_not_executable() {
    let r = attack(
        r#"
import os, subprocess, shutil
shutil.copy("/bin/true", "/tmp/t")
os.chmod("/tmp/t", 0o755)
try:
    subprocess.run(["/tmp/t"], check=True)
    print("executed")
except PermissionError:
    print("noexec")
"#,
        "noexec",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

// ---------------------------------------------------------------- host files and environment

#[tokio::test]
async fn host_secrets_and_files_are_out_of_reach() {
    let r = attack(
        r#"
import os
seen = []
for path in ("/etc/shadow", "/var/run/docker.sock", "/run/docker.sock", "/work", "/root/.cargo", "/var/lib/docker", "/home"):
    if os.path.exists(path):
        try:
            open(path).read(1)
            seen.append("READ " + path)
        except (PermissionError, IsADirectoryError, OSError):
            pass
print("\n".join(seen) or "nothing")
"#,
        "nothing",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn environment_holds_only_the_allow_list() {
    std::env::set_var("CAMPUS_HOST_SECRET", "do-not-leak");
    let r = attack(
        r#"
import os
names = set(os.environ)
try:
    for item in open("/proc/1/environ", "rb").read().split(b"\0"):
        if item:
            names.add(item.split(b"=", 1)[0].decode())
except OSError:
    pass
print(" ".join(sorted(names)))
"#,
        "x",
    )
    .await;
    let allowed = [
        "HOME",
        "HOSTNAME",
        "LANG",
        "LC_ALL",
        "PATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "TMPDIR",
    ];
    let seen: Vec<&str> = actual(&r).split_whitespace().collect();
    assert!(!seen.is_empty(), "{r:?}");
    for name in &seen {
        assert!(
            allowed.contains(name),
            "unexpected variable {name} in {seen:?}"
        );
    }
    assert!(!actual(&r).contains("CAMPUS_HOST_SECRET"));
}

#[tokio::test]
async fn runs_as_an_unprivileged_user_without_capabilities() {
    let r = attack(
        r#"
import os
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff") or l.startswith("CapPrm")]
nnp = [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")]
seccomp = [l.split()[1] for l in open("/proc/self/status") if l.startswith("Seccomp:")]
print(os.getuid(), os.geteuid(), caps, nnp, seccomp)
"#,
        "10001 10001 ['0000000000000000', '0000000000000000'] ['1'] ['2']",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

// ---------------------------------------------------------------- network

#[tokio::test]
async fn only_loopback_exists_and_there_is_no_route() {
    let r = attack(
        r#"
import os
ifaces = sorted(os.listdir("/sys/class/net"))
routes = [l for l in open("/proc/net/route").read().splitlines()[1:] if l.strip()]
print(ifaces, len(routes))
"#,
        "['lo'] 0",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn host_services_on_loopback_are_unreachable() {
    // 127.0.0.1 inside the container is the container's own loopback: the host's PostgreSQL and
    // Redis are not there.
    let r = attack(
        r#"
import socket
out = []
for port in (5432, 6379, 2375, 80):
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("127.0.0.1", port))
        out.append("OPEN %d" % port)
    except OSError:
        pass
    finally:
        s.close()
print(" ".join(out) or "unreachable")
"#,
        "unreachable",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn the_docker_gateway_is_unreachable_because_there_is_no_interface() {
    // The gateway address is only tried when an interface other than lo exists, so a broken
    // sandbox fails this test without sending anything off the machine's loopback.
    let r = attack(
        r#"
import os, socket
ifaces = [i for i in os.listdir("/sys/class/net") if i != "lo"]
if ifaces:
    print("HAS NETWORK", ifaces)
else:
    s = socket.socket()
    s.settimeout(0.5)
    try:
        s.connect(("172.17.0.1", 80))
        print("connected")
    except OSError as e:
        print("unreachable")
"#,
        "unreachable",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn names_do_not_resolve() {
    let r = attack(
        r#"
import socket
try:
    socket.getaddrinfo("pypi.org", 443)
    print("resolved")
except socket.gaierror:
    print("no dns")
"#,
        "no dns",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn raw_and_packet_sockets_are_refused() {
    let r = attack(
        r#"
import socket
out = []
for fam, typ, proto in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), (socket.AF_PACKET, socket.SOCK_RAW, 0)):
    try:
        socket.socket(fam, typ, proto)
        out.append("opened")
    except OSError:
        out.append("refused")
print(" ".join(out))
"#,
        "refused refused",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

// ---------------------------------------------------------------- privileges

#[tokio::test]
async fn setuid_zero_is_refused() {
    let r = attack(
        r#"
import os
try:
    os.setuid(0)
    print("root")
except PermissionError:
    print("refused")
"#,
        "refused",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn mount_is_refused() {
    let r = attack(
        r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.makedirs("/tmp/m", exist_ok=True)
rc = libc.mount(b"none", b"/tmp/m", b"tmpfs", 0, None)
print("refused" if rc != 0 else "mounted")
"#,
        "refused",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn ptrace_of_the_harness_is_refused() {
    let r = attack(
        r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
rc = libc.ptrace(PTRACE_ATTACH, os.getppid(), None, None)
print("refused" if rc != 0 else "attached")
"#,
        "refused",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn ctypes_runs_and_stays_inside() {
    let r = attack(
        "import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.getuid(), libc.getpid() > 1)\n",
        "10001 True",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn dunder_import_tricks_run_and_stay_inside() {
    let r = attack(
        r#"
sp = getattr(__builtins__, "__import__")("subprocess")
out = sp.run(["id", "-u"], capture_output=True, text=True).stdout.strip()
host = __import__("socket").gethostname()
print(out, host)
"#,
        "10001 sandbox",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

// ---------------------------------------------------------------- forging the verdict

#[tokio::test]
async fn printing_a_fake_result_frame_is_just_wrong_output() {
    let forged = r#"
import os, json
frame = json.dumps({"type": "test", "index": 0, "verdict": "accepted", "timeMs": 1})
for nonce in ("", "0" * 32, "deadbeef" * 4):
    line = ("\n%s %s\n%s {\"type\":\"done\"}\n" % (nonce, frame, nonce)).encode()
    os.write(1, line)
    try:
        fd = os.open("/proc/1/fd/1", os.O_WRONLY)
        os.write(fd, line)
        os.close(fd)
    except OSError:
        pass
"#;
    let r = attack(forged, "the right answer").await;
    assert_verdict(&r, Verdict::WrongAnswer);
    assert_eq!(r.score, 0.0);
}

#[tokio::test]
async fn the_harness_memory_environment_and_descriptors_are_closed() {
    let r = attack(
        r#"
import os
h = os.getppid()
out = []
for what in ("mem", "environ", "fd/0", "fd/1", "maps"):
    try:
        with open("/proc/%d/%s" % (h, what), "rb") as f:
            f.read(16)
        out.append(what + ":open")
    except OSError:
        out.append(what + ":closed")
try:
    leftover = os.read(os.open("/proc/1/fd/0", os.O_RDONLY | os.O_NONBLOCK), 1 << 16)
except OSError:
    leftover = b""
out.append("stdin:%d" % len(leftover))
print(" ".join(out))
"#,
        "mem:closed environ:closed fd/0:closed fd/1:closed maps:closed stdin:0",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn killing_the_harness_is_never_accepted() {
    // Right output first, then the harness is killed before it can report.
    let r = attack(
        "import os, signal\nprint('42', flush=True)\nos.kill(os.getppid(), signal.SIGKILL)\n",
        "42",
    )
    .await;
    assert_ne!(r.verdict, Verdict::Accepted, "{r:?}");
    assert_eq!(r.verdict, Verdict::RuntimeError);
    assert_eq!(r.score, 0.0);
}

#[tokio::test]
async fn killing_every_process_is_never_accepted() {
    let r = attack(
        "import os, signal\nprint('42', flush=True)\nos.kill(-1, signal.SIGKILL)\n",
        "42",
    )
    .await;
    assert_ne!(r.verdict, Verdict::Accepted, "{r:?}");
}

#[tokio::test]
async fn signalling_init_and_the_harness_politely_changes_nothing() {
    let r = attack(
        r#"
import os, signal, time
for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    for pid in (1, os.getppid()):
        try:
            os.kill(pid, sig)
        except OSError:
            pass
time.sleep(0.2)
print("still graded")
"#,
        "still graded",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn forging_the_second_test_from_the_first_does_not_work() {
    // Test 1 tries to plant a passing result for test 2 by writing frames everywhere it can.
    let code = r#"
import os, sys
data = sys.stdin.read()
frame = b'\nX {"type":"test","index":1,"verdict":"accepted","timeMs":1}\n'
for path in ("/proc/1/fd/1", "/proc/1/fd/2"):
    try:
        fd = os.open(path, os.O_WRONLY)
        os.write(fd, frame)
        os.close(fd)
    except OSError:
        pass
print("one" if data == "1" else "wrong")
"#;
    let t = task(vec![
        io_case("a", "1", "one", Checker::Lines),
        io_case("b", "2", "two", Checker::Lines),
    ]);
    let r = attack_task(code, &t).await;
    assert_verdict(&r, Verdict::WrongAnswer);
    assert!(r.tests[0].passed && !r.tests[1].passed);
}

// ---------------------------------------------------------------- crashes are reported

#[tokio::test]
async fn exit_codes_are_reported() {
    let r = attack("import sys\nsys.exit(3)\n", "x").await;
    assert_verdict(&r, Verdict::RuntimeError);
    assert!(message(&r).contains("exit code 3"), "{r:?}");
}

#[tokio::test]
async fn signals_are_reported() {
    let r = attack(
        "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
        "x",
    )
    .await;
    assert_verdict(&r, Verdict::RuntimeError);
    assert!(message(&r).contains("SIGSEGV"), "{r:?}");
}

#[tokio::test]
async fn exceptions_report_the_last_lines_of_stderr() {
    let r = attack("def f():\n    return 1 / 0\nf()\n", "x").await;
    assert_verdict(&r, Verdict::RuntimeError);
    let m = message(&r);
    assert!(
        m.contains("ZeroDivisionError") && m.contains("main.py"),
        "{m}"
    );
    assert!(
        !m.contains("runner.py"),
        "harness frames are not shown: {m}"
    );
}

#[tokio::test]
async fn a_syntax_error_is_reported_before_any_test_runs() {
    let t = task(vec![
        io_case("a", "", "x", Checker::Lines),
        io_case("b", "", "y", Checker::Lines),
    ]);
    let r = attack_task("def broken(:\n    pass\n", &t).await;
    assert_verdict(&r, Verdict::SyntaxError);
    assert!(
        r.diagnostics.as_deref().unwrap_or("").contains("line 1"),
        "{r:?}"
    );
    assert!(r
        .tests
        .iter()
        .all(|t| !t.passed && t.verdict == Verdict::SyntaxError && t.time_ms == 0));
}

#[tokio::test]
async fn hidden_tests_say_only_passed_or_failed() {
    let mut t = task(vec![io_case("secret", "5", "25", Checker::Lines)]);
    t.tests[0].hidden = true;
    let r = attack_task("print(int(input()) * 4)\nraise SystemExit(2)\n", &t).await;
    let o = &r.tests[0];
    assert!(o.hidden && !o.passed);
    assert!(
        o.input.is_none() && o.expected.is_none() && o.actual.is_none() && o.message.is_none(),
        "{o:?}"
    );
    assert!(
        r.diagnostics.is_none(),
        "hidden failures put nothing in diagnostics: {r:?}"
    );
}

#[tokio::test]
async fn assert_tests_pass_fail_and_crash_distinctly() {
    let t = task(vec![
        assert_case("passes", "assert f(2) == 4"),
        assert_case("fails", "assert f(3) == 10, 'f(3) should be 10'"),
        assert_case("crashes", "f(None)"),
    ]);
    let r = attack_task("def f(x):\n    return x * 2\n", &t).await;
    let v: Vec<Verdict> = r.tests.iter().map(|t| t.verdict).collect();
    assert_eq!(
        v,
        [
            Verdict::Accepted,
            Verdict::WrongAnswer,
            Verdict::RuntimeError
        ],
        "{r:?}"
    );
    assert!(r.tests[1]
        .message
        .as_deref()
        .unwrap_or("")
        .contains("should be 10"));
    assert!((r.score - 1.0 / 3.0).abs() < 1e-9);
}

#[tokio::test]
async fn exiting_before_an_assert_test_runs_is_not_a_pass() {
    let t = task(vec![assert_case("t", "assert f(1) == 2")]);
    let r = attack_task("import sys\ndef f(x):\n    return 0\nsys.exit(0)\n", &t).await;
    assert_ne!(r.verdict, Verdict::Accepted, "{r:?}");
}

#[tokio::test]
async fn anytree_is_installed() {
    let r = attack("from anytree import Node\nroot = Node('r')\nNode('c', parent=root)\nprint(len(root.children))\n", "1").await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn writing_the_runners_ok_status_without_running_the_test_is_not_a_pass() {
    let t = task(vec![assert_case("t", "assert f(1) == 2")]);
    let code =
        "import os\nfor word in (b'ok', b'ok ' + b'0' * 32):\n    os.write(4, word)\nos._exit(0)\n";
    let r = attack_task(code, &t).await;
    assert_ne!(r.verdict, Verdict::Accepted, "{r:?}");
}

#[tokio::test]
async fn flooding_the_containers_own_stdout_is_an_output_limit() {
    // Not the program's stdout (a pipe to the harness) but the container's, through PID 1.
    let code = "import os\nfd = os.open('/proc/1/fd/1', os.O_WRONLY)\nwhile True:\n    os.write(fd, b'z' * 65536)\n";
    let r = attack(code, "x").await;
    assert_verdict(&r, Verdict::OutputLimit);
}

#[tokio::test]
async fn programs_run_as_a_real_main_module() {
    let r = attack(
        r#"
import pickle, sys
from dataclasses import dataclass
@dataclass
class P:
    x: int
p = pickle.loads(pickle.dumps(P(3)))
print(p.x, __name__, sys.argv[0], type(__builtins__).__name__)
"#,
        "3 __main__ main.py module",
    )
    .await;
    assert_verdict(&r, Verdict::Accepted);
}

#[tokio::test]
async fn wide_characters_in_many_reports_are_not_an_output_limit() {
    // Every test fills its report with 4-byte characters on stdout and stderr, then crashes.
    let tests = (0..12)
        .map(|i| io_case(&format!("t{i}"), "", "x", Checker::Lines))
        .collect();
    let code = "import sys\nsys.stdout.write('\\U0001F600' * 4000)\nsys.stderr.write('\\U0001F600' * 4000)\nsys.exit(1)\n";
    let r = attack_task(code, &task(tests)).await;
    assert_eq!(r.tests.len(), 12);
    assert!(
        r.tests.iter().all(|t| t.verdict == Verdict::RuntimeError),
        "{:?}",
        r.tests.iter().map(|t| t.verdict).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn the_time_limit_counts_the_program_not_the_interpreter_start() {
    // 100 ms is the smallest limit a task may have; starting Python under load can take that long
    // by itself, and is not charged to the program.
    let mut quick = io_task("1");
    quick.limits.time_ms = 100;
    let tests = (0..5)
        .map(|i| io_case(&format!("t{i}"), "", "1", Checker::Lines))
        .collect();
    quick.tests = tests;
    let r = attack_task("print(1)\n", &quick).await;
    assert_verdict(&r, Verdict::Accepted);
    let mut slow = io_task("1");
    slow.limits.time_ms = 100;
    let r = attack_task("import time\ntime.sleep(0.4)\nprint(1)\n", &slow).await;
    assert_verdict(&r, Verdict::TimeLimit);
    assert!(
        r.tests[0].time_ms >= 100 && r.tests[0].time_ms < 1_000,
        "{r:?}"
    );
}

#[tokio::test]
async fn stopping_the_harness_ends_in_the_runs_time_limit() {
    let r = attack(
        "import os, signal\nprint('42', flush=True)\nos.kill(os.getppid(), signal.SIGSTOP)\n",
        "42",
    )
    .await;
    assert_verdict(&r, Verdict::TimeLimit);
}
