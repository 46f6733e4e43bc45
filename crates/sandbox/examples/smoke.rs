//! Grades one program against a one-test task and prints the report: a quick manual check.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use domain::grading::Grader;
use domain::task::{Checker, CodeTask, IoTest, Limits, TestBody, TestCase};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let code = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "print(int(input())*2)".into());
    let g = sandbox::DockerGrader::connect(sandbox::SandboxConfig::default()).await?;
    let task = CodeTask {
        statement: "double".into(),
        starter_code: String::new(),
        limits: Limits::default(),
        entry_point: None,
        tests: vec![TestCase {
            name: "t".into(),
            hidden: false,
            weight: 1,
            body: TestBody::Io(IoTest {
                stdin: "21\n".into(),
                expected: "42\n".into(),
                checker: Checker::Lines,
            }),
        }],
        reference_solution: None,
    };
    for _ in 0..10 {
        let t = std::time::Instant::now();
        let r = g.grade(&code, &task).await?;
        println!(
            "{} {:?} {}",
            r.verdict,
            t.elapsed(),
            serde_json::to_string(&r)?
        );
    }
    Ok(())
}
