//! Source tripwires for defect classes of the old backend's audit (`shared/seed`). Each class
//! also has a behaviour test in the crate that owns it; these catch the pattern coming back in
//! any crate, including ones written later.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `crates/`, with its text, test files and `#[cfg(test)]` tails excluded.
fn production_sources() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    walk(&campus_tests::workspace_root().join("crates"), &mut out);
    out.into_iter()
        .filter(|(p, _)| {
            !p.components().any(|c| {
                c.as_os_str() == "tests"
                    || c.as_os_str() == "examples"
                    || c.as_os_str() == "benches"
            })
        })
        .filter(|(p, _)| !p.ends_with("testing.rs") && !p.to_string_lossy().contains("/testing/"))
        .map(|(p, text)| {
            // Drop unit-test modules: everything from the first `#[cfg(test)]` on.
            let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
            (p, text[..cut].to_string())
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.clone(), fs::read_to_string(&p).unwrap()));
        }
    }
}

fn offenders(pred: impl Fn(&Path, &str) -> bool) -> Vec<String> {
    production_sources()
        .into_iter()
        .filter(|(p, t)| pred(p, t))
        .map(|(p, _)| {
            p.strip_prefix(campus_tests::workspace_root())
                .unwrap_or(&p)
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn the_scan_sees_the_workspace_sources() {
    // A tripwire that reads nothing cannot fail; make sure it reads the real crates.
    let files = production_sources();
    assert!(files
        .iter()
        .any(|(p, _)| p.ends_with("crates/domain/src/lib.rs")));
    assert!(files.len() >= 10, "only {} files scanned", files.len());
}

#[test]
fn misspelled_lesson_link_field_never_returns() {
    assert_eq!(
        offenders(|_, t| t.contains("lssonLink")),
        Vec::<String>::new()
    );
}

#[test]
fn no_block_in_place_on_actix_workers() {
    // actix workers are single-threaded runtimes: block_in_place panics or stalls there.
    assert_eq!(
        offenders(|_, t| t.contains("block_in_place")),
        Vec::<String>::new()
    );
}

#[test]
fn environment_is_read_only_by_the_config_loader() {
    // The old backend read env at import time; Campus reads it once, in api's config module.
    let bad = offenders(|p, t| {
        let reads = t.contains("env::var") || t.contains("dotenvy::") || t.contains("env::vars");
        reads
            && !p.ends_with("crates/api/src/config.rs")
            && !p.to_string_lossy().contains("crates/api/src/config/")
    });
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn no_global_lazily_initialised_state_in_library_crates() {
    let bad = offenders(|_, t| {
        t.contains("lazy_static!") || t.contains("static ref ") || t.contains("OnceLock<Config")
    });
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn student_code_runs_only_in_the_sandbox_crate() {
    // The old backend ran student code with the server's own Python. Only `sandbox` may start
    // processes that run code, and only inside containers.
    let bad = offenders(|p, t| {
        let spawns = t.contains("process::Command") || t.contains("tokio::process");
        let runs_python = t.contains("\"python") || t.contains("sys.executable");
        (spawns && runs_python) && !p.to_string_lossy().contains("crates/sandbox/")
    });
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn no_hard_coded_secret_defaults() {
    let bad = offenders(|p, t| {
        let literal = [
            "your-secure-api-key",
            "your-jwt-secret",
            "your-session-secret",
        ]
        .iter()
        .any(|s| t.contains(s));
        // The config loader names placeholders in order to refuse them.
        literal && !p.ends_with("crates/api/src/config.rs")
    });
    assert_eq!(bad, Vec::<String>::new());
}

#[test]
fn enum_spellings_appear_only_in_their_one_conversion() {
    // `status="STUDENT"` was stored as a literal in the old backend. In Campus an enum's
    // spelling lives in the domain's `string_enum!` declaration; persistence and api go
    // through `as_str()`/`FromStr`. SQL migrations (CHECK constraints) are not Rust and not scanned.
    use domain::{
        attempt::AttemptStatus, content::LessonKind, grading::Verdict, task::TaskKind, user::Role,
    };
    let mut spellings: Vec<&str> = Vec::new();
    spellings.extend(Role::ALL.iter().map(|r| r.as_str()));
    spellings.extend(AttemptStatus::ALL.iter().map(|r| r.as_str()));
    spellings.extend(TaskKind::ALL.iter().map(|r| r.as_str()));
    spellings.extend(LessonKind::ALL.iter().map(|r| r.as_str()));
    spellings.extend(Verdict::ALL.iter().map(|r| r.as_str()));
    let bad = offenders(|p, t| {
        let s = p.to_string_lossy();
        (s.contains("crates/persistence/") || s.contains("crates/api/"))
            && t.lines().any(|line| {
                let l = line.trim_start();
                // Doc comments, attributes (clap defaults go through `FromStr`), OpenAPI tags.
                let exempt = l.starts_with("//")
                    || l.starts_with("#[")
                    || [
                        "tag = \"",
                        "default_value = \"",
                        "NotFound(\"",
                        "corrupt(\"",
                    ]
                    .iter()
                    .any(|x| l.contains(x));
                let hit = !exempt && spellings.iter().any(|sp| l.contains(&format!("\"{sp}\"")));
                if hit {
                    eprintln!("enum spelling as a literal: {}: {l}", p.display());
                }
                hit
            })
    });
    assert_eq!(bad, Vec::<String>::new());
}

/// Naive and aware datetimes were mixed in the old backend, and a value answered at once
/// differed from the stored one (nanoseconds vs the database's microseconds). Campus reads the
/// clock in one place, `domain::now()` (UTC, cut to microseconds); nothing else may.
#[test]
fn the_clock_is_read_only_through_domain_now() {
    let bad = offenders(|p, text| {
        !p.ends_with("crates/domain/src/lib.rs")
            && (text.contains("Utc::now()")
                || text.contains("Local::now()")
                || text.contains("SystemTime::now()"))
    });
    assert!(bad.is_empty(), "read the clock with domain::now(): {bad:?}");
    // Naive values exist only at the database boundary (`to_db`/`from_db` in models.rs).
    let naive = offenders(|p, text| {
        !p.ends_with("crates/persistence/src/models.rs")
            && (text.contains("naive_utc()") || text.contains("naive_local()"))
    });
    assert!(
        naive.is_empty(),
        "convert through persistence::models: {naive:?}"
    );
}
