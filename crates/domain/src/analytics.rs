//! Analytics computed from attempts: pure functions, so every backend agrees.

use crate::{attempt::Attempt, grading::Verdict};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskStats {
    pub attempts: u64,
    pub students_tried: u64,
    pub students_passed: u64,
    /// students_passed / students_tried, 0 when nobody tried.
    pub pass_rate: f64,
    /// Median number of attempts a student needed up to and including the first accepted one.
    pub median_attempts_to_pass: Option<f64>,
    /// Test names with how many finished attempts failed them, most failed first (at most 10).
    pub most_failed_tests: Vec<(String, u64)>,
}

pub fn task_stats(attempts: &[Attempt]) -> TaskStats {
    let mut by_user: HashMap<Uuid, Vec<&Attempt>> = HashMap::new();
    for a in attempts {
        by_user.entry(a.user_id).or_default().push(a);
    }
    let mut to_pass: Vec<f64> = Vec::new();
    for list in by_user.values_mut() {
        list.sort_by_key(|a| a.created_at);
        if let Some(i) = list.iter().position(|a| {
            a.report
                .as_ref()
                .is_some_and(|r| r.verdict == Verdict::Accepted)
        }) {
            to_pass.push((i + 1) as f64);
        }
    }
    let mut failed: BTreeMap<&str, u64> = BTreeMap::new();
    for r in attempts.iter().filter_map(|a| a.report.as_ref()) {
        for t in r.tests.iter().filter(|t| !t.passed) {
            *failed.entry(t.name.as_str()).or_default() += 1;
        }
    }
    let mut most_failed: Vec<(String, u64)> = failed
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    most_failed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    most_failed.truncate(10);
    let tried = by_user.len() as u64;
    let passed = to_pass.len() as u64;
    TaskStats {
        attempts: attempts.len() as u64,
        students_tried: tried,
        students_passed: passed,
        pass_rate: if tried == 0 {
            0.0
        } else {
            passed as f64 / tried as f64
        },
        median_attempts_to_pass: median(&mut to_pass),
        most_failed_tests: most_failed,
    }
}

fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
