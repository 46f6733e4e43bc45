//! Hidden tests say only passed or failed: no input, expected or actual output, no message, no
//! time (a program can turn its hidden input into a duration), and nothing a hidden test leaves
//! behind reaches a visible test's report. Real Docker, real image.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use domain::task::Checker;

/// Sleeps as many milliseconds as the code of its input's first byte (`A` = 65 ms).
const TIMING_LEAK: &str =
    "import sys, time\ns = sys.stdin.read()\ntime.sleep(ord(s[0]) / 1000)\nprint('no')\n";

#[tokio::test]
async fn a_hidden_tests_outcome_carries_no_input_output_message_or_time() {
    let mut t = task(vec![
        io_case("visible", "A", "yes", Checker::Lines),
        io_case("secret", "Zsecret input", "secret expected", Checker::Lines),
    ]);
    t.tests[1].hidden = true;
    let r = attack_task(TIMING_LEAK, &t).await;
    let visible = &r.tests[0];
    assert!(!visible.passed && visible.time_ms >= 65, "{visible:?}");
    assert!(visible.input.is_some() && visible.actual.is_some());
    let hidden = &r.tests[1];
    assert!(hidden.hidden && !hidden.passed, "{hidden:?}");
    assert_eq!(hidden.verdict, domain::grading::Verdict::WrongAnswer);
    assert!(
        hidden.input.is_none()
            && hidden.expected.is_none()
            && hidden.actual.is_none()
            && hidden.message.is_none(),
        "{hidden:?}"
    );
    assert_eq!(
        hidden.time_ms, 0,
        "a hidden test reports no time: {hidden:?}"
    );
    // The run's length would carry the same information.
    assert_eq!(r.duration_ms, 0, "{r:?}");
    let text = serde_json::to_string(&r).unwrap();
    assert!(
        !text.contains("secret input") && !text.contains("secret expected"),
        "{text}"
    );
}

#[tokio::test]
async fn hidden_input_does_not_reach_a_later_visible_test() {
    // The hidden test (first in the task) stores its input in /tmp, in a directory it then makes
    // read-only; the visible test (second) prints whatever it finds.
    let code = r#"
import os, sys
data = sys.stdin.read()
if data.startswith("secret"):
    with open("/tmp/leak", "w") as f:
        f.write(data)
    os.makedirs("/tmp/d/e", exist_ok=True)
    with open("/tmp/d/e/leak", "w") as f:
        f.write(data)
    os.chmod("/tmp/d/e", 0o500)
    os.chmod("/tmp/d", 0o500)
    print("stored")
else:
    found = []
    for path in ("/tmp/leak", "/tmp/d/e/leak"):
        try:
            with open(path) as f:
                found.append(f.read())
        except OSError:
            pass
    print("found: " + "|".join(found))
"#;
    let mut t = task(vec![
        io_case("secret", "secret-7f3a", "stored", Checker::Lines),
        io_case("visible", "", "found:", Checker::Lines),
    ]);
    t.tests[0].hidden = true;
    let r = attack_task(code, &t).await;
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("7f3a"), "hidden input leaked: {text}");
    assert_eq!(actual_of(&r, 1), "found: \n", "{r:?}");
    assert!(r.tests[0].passed && r.tests[1].passed, "{r:?}");
}

#[tokio::test]
async fn visible_tests_start_with_an_empty_tmp() {
    // Isolation between tests: what one visible test writes, the next does not see.
    let code = "import os\nprint(sorted(os.listdir('/tmp')))\nopen('/tmp/mine', 'w').write('x')\n";
    let t = task(vec![
        io_case("a", "", "[]", Checker::Lines),
        io_case("b", "", "[]", Checker::Lines),
    ]);
    let r = attack_task(code, &t).await;
    assert_verdict(&r, domain::grading::Verdict::Accepted);
}

fn actual_of(r: &domain::grading::GradeReport, i: usize) -> &str {
    r.tests[i].actual.as_deref().unwrap_or("")
}
