//! The `campus` binary as an operator runs it: no configuration, production checks, one-line
//! errors, migrations, users, import/export, graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

const GOOD_JWT: &str = "3f9a1c7e5b2d8046af13ce97b5d20e4c8a61f7d39b0e25c4";
const GOOD_KEY: &str = "9c2e7a41d85f0b36e1c4a9d27f5b80e3c6a14d9f72b5e08a";

/// `campus` with an empty environment (only PATH and HOME) in `dir`.
fn campus(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_campus"));
    cmd.current_dir(dir).env_clear();
    for keep in ["PATH", "HOME"] {
        if let Ok(v) = std::env::var(keep) {
            cmd.env(keep, v);
        }
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd
}

fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let mut child = campus(dir, vars)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Fails with one line `error: ...` on stderr and a non-zero code; returns that line.
fn one_line_error(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure, got success: {}",
        stdout(o)
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line on stderr: {err:?}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    lines[0].to_string()
}

/// SIGTERM, then wait: the server removes its sandbox containers on a graceful stop.
fn stop(child: &mut std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait().unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_health(port: u16, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(90);
    let get = http_get::client();
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("campus serve exited early with {status}");
        }
        if let Ok(body) = get(&format!("http://127.0.0.1:{port}/health")) {
            assert_eq!(body, r#"{"status":"ok"}"#);
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("no answer on /health within 90 s");
}

/// A tiny blocking GET over a std TcpStream (the test needs no async runtime for it).
mod http_get {
    use std::io::{Read, Write};
    pub fn client() -> impl Fn(&str) -> Result<String, std::io::Error> {
        |url: &str| {
            let rest = url.trim_start_matches("http://");
            let (host, path) = rest.split_once('/').unwrap();
            let mut s = std::net::TcpStream::connect(host)?;
            write!(
                s,
                "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            )?;
            let mut buf = String::new();
            s.read_to_string(&mut buf)?;
            if !buf.starts_with("HTTP/1.1 200") {
                return Err(std::io::Error::other(buf));
            }
            Ok(buf.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
        }
    }
}

#[test]
fn serve_answers_health_with_no_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = campus(dir.path(), &[("CAMPUS_ADDR", &addr)])
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_health(port, &mut child);
    assert!(
        dir.path().join("campus.db").exists(),
        "the SQLite default was created in the working directory"
    );

    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "campus did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "a graceful stop exits 0, got {status}");
}

#[test]
fn no_subcommand_means_serve() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = campus(dir.path(), &[("CAMPUS_ADDR", &addr)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_health(port, &mut child);
    stop(&mut child);
}

fn production(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut vars = vec![
        ("CAMPUS_ENV", "production"),
        ("CAMPUS_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", GOOD_JWT),
        ("BACKEND_API_KEY", GOOD_KEY),
        ("REDIS_URL", "redis://127.0.0.1:6379"),
    ];
    for (k, v) in extra {
        vars.retain(|(name, _)| name != k);
        if !v.is_empty() {
            vars.push((k, v));
        }
    }
    vars
}

#[test]
fn production_refuses_to_start_without_a_real_jwt_secret() {
    let dir = tempfile::tempdir().unwrap();
    for (value, why) in [
        ("", "unset"),
        (
            "change-me-to-64-random-hex-characters",
            "the .env.example value",
        ),
        ("your-jwt-secret-here-your-jwt-secret-here", "a placeholder"),
        ("short-but-random-9f2", "too short"),
    ] {
        let o = run(
            dir.path(),
            &production(&[("JWT_SECRET", value)]),
            &["serve"],
            "",
        );
        let line = one_line_error(&o);
        assert!(line.starts_with("error: JWT_SECRET"), "{why}: {line}");
        if !value.is_empty() {
            assert!(
                !line.contains(value),
                "the secret itself is not echoed: {line}"
            );
        }
    }
    let o = run(
        dir.path(),
        &production(&[("BACKEND_API_KEY", "")]),
        &["serve"],
        "",
    );
    assert!(one_line_error(&o).starts_with("error: BACKEND_API_KEY"));
    assert!(
        !dir.path().join("campus.db").exists(),
        "nothing was created before the refusal"
    );
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("CAMPUS_ADDR", "localhost"),
        ("CAMPUS_ENV", "staging"),
        ("DATABASE_POOL_SIZE", "lots"),
        ("DATABASE_URL", "mysql://localhost/campus"),
        ("DATABASE_URL", "campus.db"),
        ("CORS_ORIGINS", "*"),
    ] {
        let o = run(dir.path(), &[(var, value)], &["migrate", "status"], "");
        let line = one_line_error(&o);
        assert!(line.contains(var), "{var}={value}: {line}");
    }
    let o = run(
        dir.path(),
        &[("DATABASE_URL", "postgres://127.0.0.1:1/campus")],
        &["migrate"],
        "",
    );
    let line = one_line_error(&o);
    assert!(
        line.contains("127.0.0.1:1"),
        "an unreachable server is named: {line}"
    );
}

fn sqlite_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![(
        "DATABASE_URL",
        format!("sqlite://{}", dir.join("ops.db").display()),
    )]
}

fn vars<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn migrate_status_down_and_up() {
    let dir = tempfile::tempdir().unwrap();
    let env = sqlite_env(dir.path());
    let env = vars(&env);
    let up = run(dir.path(), &env, &["migrate"], "");
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(stdout(&up).starts_with("applied "), "{}", stdout(&up));
    let again = run(dir.path(), &env, &["migrate", "up"], "");
    assert_eq!(stdout(&again).trim(), "no pending migrations");

    let status = stdout(&run(dir.path(), &env, &["migrate", "status"], ""));
    let total = status.lines().count();
    assert!(
        total >= 1 && status.lines().all(|l| l.starts_with("applied ")),
        "{status}"
    );

    let down = run(dir.path(), &env, &["migrate", "down", "--steps", "1"], "");
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(stdout(&down).lines().count(), 1);
    let status = stdout(&run(dir.path(), &env, &["migrate", "status"], ""));
    assert_eq!(
        status.lines().filter(|l| l.starts_with("pending ")).count(),
        1,
        "{status}"
    );
    assert!(run(dir.path(), &env, &["migrate"], "").status.success());
}

#[test]
fn users_are_created_with_a_password_from_stdin_and_roles_change() {
    let dir = tempfile::tempdir().unwrap();
    let env = sqlite_env(dir.path());
    let env = vars(&env);
    let o = run(
        dir.path(),
        &env,
        &["user", "create", "root", "--role", "admin"],
        "a-long-password-1\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("created root (admin)"),
        "{}",
        stdout(&o)
    );
    assert!(!stdout(&o).contains("a-long-password-1") && !stderr(&o).contains("a-long-password-1"));

    let dup = run(
        dir.path(),
        &env,
        &["user", "create", "ROOT"],
        "a-long-password-1\n",
    );
    assert!(
        one_line_error(&dup).contains("ROOT"),
        "usernames are unique ignoring case"
    );
    let short = run(dir.path(), &env, &["user", "create", "bob"], "short\n");
    assert!(one_line_error(&short).contains("password"));

    // A password is never an argument.
    let arg = run(
        dir.path(),
        &env,
        &["user", "create", "eve", "--password", "x"],
        "",
    );
    assert!(!arg.status.success());

    let o = run(dir.path(), &env, &["user", "role", "root", "teacher"], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "root is now teacher");
    let bad_role = run(dir.path(), &env, &["user", "role", "root", "owner"], "");
    assert!(!bad_role.status.success());
    assert!(one_line_error(&run(
        dir.path(),
        &env,
        &["user", "role", "nobody", "admin"],
        ""
    ))
    .contains("nobody"));
}

const COURSE: &str = r#"{"topics": [{"slug": "basics", "title": "Basics", "lessons": [
  {"slug": "sum", "title": "Sum", "tasks": [{"slug": "sum", "title": "Sum", "data": {
    "kind": "code", "statement": "Add.", "starterCode": "",
    "tests": [{"name": "one", "body": {"io": {"stdin": "1 2\n", "expected": "3\n"}}}]}}]}]}]}"#;

#[test]
fn import_export_round_trip_and_a_bad_file_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let env = sqlite_env(dir.path());
    let env = vars(&env);
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, COURSE.replace("\"Add.\"", "\"\"")).unwrap();
    let line = one_line_error(&run(
        dir.path(),
        &env,
        &["import", bad.to_str().unwrap()],
        "",
    ));
    assert!(
        line.contains("bad.json") && line.contains("statement"),
        "names the file and field: {line}"
    );
    let empty = stdout(&run(dir.path(), &env, &["export"], ""));
    assert!(!empty.contains("basics"), "nothing was written: {empty}");

    let good = dir.path().join("course.json");
    std::fs::write(&good, COURSE).unwrap();
    let o = run(dir.path(), &env, &["import", good.to_str().unwrap()], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("tasks 1 created 0 updated"),
        "{}",
        stdout(&o)
    );

    let exported = dir.path().join("out.toml");
    let o = run(
        dir.path(),
        &env,
        &["export", exported.to_str().unwrap()],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        dir.path(),
        &env,
        &["import", exported.to_str().unwrap()],
        "",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("topics 0 created") && stdout(&o).contains("tasks 0 created"),
        "idempotent by slug: {}",
        stdout(&o)
    );
    let to_stdout = stdout(&run(dir.path(), &env, &["export", "-"], ""));
    assert_eq!(to_stdout, std::fs::read_to_string(&exported).unwrap());
}

/// An empty PostgreSQL schema for one test (dropped at the end) and a `DATABASE_URL` whose
/// `search_path` is that schema. Fails, never skips, when PostgreSQL is down.
struct PgSchema {
    admin: persistence::Database,
    name: String,
    url: String,
}

impl PgSchema {
    fn new() -> Self {
        let base = persistence::testing::postgres_base_url();
        let admin =
            persistence::Database::connect(&persistence::DatabaseUrl::parse(&base).unwrap(), 1)
                .unwrap_or_else(|e| panic!("{e}\n{}", persistence::testing::START_POSTGRES_HINT));
        let name = format!("bin_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        persistence::testing::execute_raw(&admin, &format!("CREATE SCHEMA {name}")).unwrap();
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{name}");
        Self { admin, name, url }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = persistence::testing::execute_raw(
            &self.admin,
            &format!("DROP SCHEMA {} CASCADE", self.name),
        );
    }
}

#[test]
fn serve_on_postgres_refuses_pending_migrations_until_campus_migrate() {
    let pg = PgSchema::new();
    let url = pg.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("CAMPUS_ADDR", "127.0.0.1:0"),
    ];

    let line = one_line_error(&run(dir.path(), &env, &["serve"], ""));
    assert!(line.contains("campus migrate"), "{line}");
    let up = run(dir.path(), &env, &["migrate"], "");
    assert!(up.status.success(), "{}", stderr(&up));

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = campus(
        dir.path(),
        &[
            ("DATABASE_URL", url.as_str()),
            ("CAMPUS_ADDR", addr.as_str()),
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    wait_for_health(port, &mut child);
    stop(&mut child);
}

/// Short commands on PostgreSQL exit cleanly every time. The pool used to open a reserve
/// connection on a background thread; a process leaving while libpq was connecting crashed in
/// OpenSSL's exit handler (SIGSEGV in about one run in eight). 40 runs catch that with
/// probability above 99.5%.
#[test]
fn short_commands_on_postgres_never_crash_at_exit() {
    let pg = PgSchema::new();
    let url = pg.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", url.as_str())];
    let up = run(dir.path(), &env, &["migrate"], "");
    assert!(up.status.success(), "{}", stderr(&up));
    for i in 0..40 {
        let out = run(dir.path(), &env, &["migrate", "status"], "");
        assert!(
            out.status.success(),
            "run {i}: {:?} {}",
            out.status,
            stderr(&out)
        );
    }
}

#[test]
fn a_taken_port_is_one_line_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let line = one_line_error(&run(dir.path(), &[("CAMPUS_ADDR", &addr)], &["serve"], ""));
    assert!(
        line.contains("CAMPUS_ADDR") && line.contains(&addr),
        "{line}"
    );
    assert!(
        !dir.path().join("campus.db").exists(),
        "the port is checked before the database is opened"
    );
}

fn humaneval_path() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os("HUMANEVAL_PATH") {
        return p.into();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(root.join("scripts/fetch-humaneval"))
        .output()
        .expect("scripts/fetch-humaneval runs");
    assert!(
        out.status.success(),
        "scripts/fetch-humaneval failed: {}",
        stderr(&out)
    );
    stdout(&out).trim().into()
}

#[test]
fn campus_import_of_humaneval_creates_164_code_tasks_once() {
    let data = humaneval_path();
    let dir = tempfile::tempdir().unwrap();
    let env = sqlite_env(dir.path());
    let env = vars(&env);
    let first = run(dir.path(), &env, &["import", data.to_str().unwrap()], "");
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("tasks 164 created 0 updated"),
        "{}",
        stdout(&first)
    );
    let second = run(dir.path(), &env, &["import", data.to_str().unwrap()], "");
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(
        stdout(&second).contains("tasks 0 created"),
        "{}",
        stdout(&second)
    );

    let exported = dir.path().join("humaneval.json");
    assert!(run(
        dir.path(),
        &env,
        &["export", exported.to_str().unwrap()],
        ""
    )
    .status
    .success());
    let course: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    let tasks: usize = course["topics"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["lessons"].as_array().unwrap())
        .map(|l| {
            l["tasks"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|k| k["data"]["kind"] == "code")
                .count()
        })
        .sum();
    assert_eq!(tasks, 164, "still 164 code tasks after the second import");
}

/// Sandbox containers (any state) whose owner label names process `pid`.
fn containers_of_pid(pid: u32) -> usize {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=campus.sandbox",
            "--format",
            "{{.Label \"campus.owner\"}}",
        ])
        .output()
        .expect("docker CLI present (scripts/setup-docker installs the engine)");
    assert!(out.status.success(), "docker ps failed: {}", stderr(&out));
    let needle = format!("/{pid}/");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&needle))
        .count()
}

#[test]
fn a_graceful_stop_leaves_no_sandbox_container_behind() {
    // The grader creates containers ahead of need; SIGTERM must remove them, not leave them
    // for the next start's reaper.
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = campus(dir.path(), &[("CAMPUS_ADDR", &addr)])
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_health(port, &mut child);
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(60);
    while containers_of_pid(pid) == 0 {
        assert!(
            Instant::now() < deadline,
            "the grader created no container ahead of need (is the sandbox image built? scripts/build-sandbox-image)"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    stop(&mut child);
    assert_eq!(
        containers_of_pid(pid),
        0,
        "containers left behind after SIGTERM"
    );
}
