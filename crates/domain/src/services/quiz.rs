//! Quiz grading, on the server: the right answers never leave it before an attempt.

use crate::{
    error::FieldError,
    grading::{overall_verdict, weighted_score, GradeReport, TestOutcome, Verdict},
    task::{Limits, QuizTask},
};
use std::collections::BTreeSet;

/// Grades one answer set: `answers[i]` holds the chosen option indexes of question `i`. A
/// question is right when the chosen set equals the right set exactly (order and repeats do
/// not matter). Each question is one outcome named `question N` (1-based), weight 1; a right
/// answer shows the question's explanation.
pub fn grade_quiz(quiz: &QuizTask, answers: &[Vec<u32>]) -> Result<GradeReport, Vec<FieldError>> {
    let mut errs = Vec::new();
    if answers.len() != quiz.questions.len() {
        errs.push(FieldError::new(
            "answers",
            format!(
                "must hold one entry per question ({}), got {}",
                quiz.questions.len(),
                answers.len()
            ),
        ));
    }
    for (i, (q, chosen)) in quiz.questions.iter().zip(answers).enumerate() {
        if chosen.iter().any(|&c| c as usize >= q.options.len()) {
            errs.push(FieldError::new(
                format!("answers[{i}]"),
                format!(
                    "names an option that does not exist (question has {})",
                    q.options.len()
                ),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let tests: Vec<TestOutcome> = quiz
        .questions
        .iter()
        .zip(answers)
        .enumerate()
        .map(|(i, (q, chosen))| {
            let want: BTreeSet<u32> = q.correct.iter().copied().collect();
            let got: BTreeSet<u32> = chosen.iter().copied().collect();
            let passed = want == got;
            TestOutcome {
                name: format!("question {}", i + 1),
                verdict: if passed {
                    Verdict::Accepted
                } else {
                    Verdict::WrongAnswer
                },
                passed,
                time_ms: 0,
                weight: 1,
                hidden: false,
                input: None,
                expected: None,
                actual: None,
                message: if passed { q.explanation.clone() } else { None },
            }
        })
        .collect();
    Ok(GradeReport {
        verdict: overall_verdict(&tests),
        score: weighted_score(&tests),
        tests,
        diagnostics: None,
        image_id: String::new(),
        limits: Limits::default(),
        duration_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::task::QuizQuestion;

    fn quiz() -> QuizTask {
        QuizTask {
            questions: vec![
                QuizQuestion {
                    prompt: "2+2?".into(),
                    options: vec!["3".into(), "4".into()],
                    correct: vec![1],
                    explanation: Some("arithmetic".into()),
                },
                QuizQuestion {
                    prompt: "even?".into(),
                    options: vec!["2".into(), "3".into(), "4".into()],
                    correct: vec![0, 2],
                    explanation: None,
                },
            ],
        }
    }

    #[test]
    fn all_right_is_accepted_with_full_score_and_order_does_not_matter() {
        let r = grade_quiz(&quiz(), &[vec![1], vec![2, 0, 2]]).unwrap();
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(r.score, 1.0);
        assert_eq!(r.tests[0].message.as_deref(), Some("arithmetic"));
    }

    #[test]
    fn a_partial_multiple_choice_is_wrong_and_scored_per_question() {
        let r = grade_quiz(&quiz(), &[vec![1], vec![0]]).unwrap();
        assert_eq!(r.verdict, Verdict::WrongAnswer);
        assert_eq!(r.score, 0.5);
        assert!(r.tests[0].passed);
        assert!(!r.tests[1].passed);
        assert!(r.tests[1].message.is_none());
    }

    #[test]
    fn malformed_answers_name_the_field() {
        let e = grade_quiz(&quiz(), &[vec![1]]).unwrap_err();
        assert_eq!(e[0].field, "answers");
        let e = grade_quiz(&quiz(), &[vec![1], vec![7]]).unwrap_err();
        assert_eq!(e[0].field, "answers[1]");
    }
}
