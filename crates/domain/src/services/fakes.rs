//! In-memory fakes of the ports, for the services' unit tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{
    attempt::{Attempt, AttemptStatus, Feedback, Page, Solution},
    content::{Lesson, LessonKind, Slug, Topic},
    course::Course,
    grading::{GradeReport, Verdict},
    ports::{AttemptRepo, ContentPatch, ContentRepo, ImportSummary, SessionRepo},
    session::SavedSession,
    task::{
        Checker, CodeTask, IoTest, Limits, QuizQuestion, QuizTask, Task, TaskData, TestBody,
        TestCase,
    },
    RepoError, Timestamp,
};
use std::sync::Mutex;
use uuid::Uuid;

pub fn now() -> Timestamp {
    crate::now()
}

pub fn code_task_data() -> TaskData {
    let case = |name: &str, hidden: bool| TestCase {
        name: name.into(),
        hidden,
        weight: 1,
        body: TestBody::Io(IoTest {
            stdin: "1 2\n".into(),
            expected: "3\n".into(),
            checker: Checker::Lines,
        }),
    };
    TaskData::Code(CodeTask {
        statement: "Add two numbers".into(),
        starter_code: String::new(),
        limits: Limits::default(),
        entry_point: None,
        tests: vec![case("sample", false), case("secret", true)],
        reference_solution: Some("print(sum(map(int, input().split())))".into()),
    })
}

pub fn quiz_task_data() -> TaskData {
    TaskData::Quiz(QuizTask {
        questions: vec![QuizQuestion {
            prompt: "2+2?".into(),
            options: vec!["3".into(), "4".into()],
            correct: vec![1],
            explanation: None,
        }],
    })
}

#[derive(Default)]
struct State {
    topics: Vec<Topic>,
    lessons: Vec<Lesson>,
    tasks: Vec<Task>,
    attempts: Vec<Attempt>,
    solutions: Vec<Solution>,
    sessions: Vec<SavedSession>,
}

#[derive(Default)]
pub struct FakeRepo {
    state: Mutex<State>,
}

impl FakeRepo {
    pub fn add_topic(&self, slug: &str, published: bool) -> Uuid {
        let mut s = self.state.lock().unwrap();
        let t = Topic {
            id: Uuid::new_v4(),
            slug: Slug::parse(slug).unwrap(),
            title: slug.to_uppercase(),
            description: String::new(),
            position: s.topics.len() as i32,
            published,
            created_at: now(),
            updated_at: now(),
        };
        s.topics.push(t.clone());
        t.id
    }

    pub fn add_lesson(&self, topic_id: Uuid, slug: &str, published: bool) -> Uuid {
        let mut s = self.state.lock().unwrap();
        let l = Lesson {
            id: Uuid::new_v4(),
            topic_id,
            slug: Slug::parse(slug).unwrap(),
            title: slug.to_uppercase(),
            kind: LessonKind::Article,
            body: String::new(),
            position: s.lessons.len() as i32,
            published,
            created_at: now(),
            updated_at: now(),
        };
        s.lessons.push(l.clone());
        l.id
    }

    pub fn add_task(&self, lesson_id: Uuid, slug: &str, published: bool, data: TaskData) -> Uuid {
        let mut s = self.state.lock().unwrap();
        let t = Task {
            id: Uuid::new_v4(),
            lesson_id,
            slug: Slug::parse(slug).unwrap(),
            title: slug.to_uppercase(),
            position: s.tasks.len() as i32,
            published,
            data,
            created_at: now(),
            updated_at: now(),
        };
        s.tasks.push(t.clone());
        t.id
    }

    /// Removes a task without touching its attempts (what a crash mid-delete could leave).
    pub fn forget_task(&self, id: Uuid) {
        self.state.lock().unwrap().tasks.retain(|t| t.id != id);
    }
}

impl ContentRepo for FakeRepo {
    fn list_topics(&self, include_unpublished: bool) -> Result<Vec<Topic>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .topics
            .iter()
            .filter(|t| include_unpublished || t.published)
            .cloned()
            .collect())
    }
    fn topic(&self, id: Uuid) -> Result<Option<Topic>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .topics
            .iter()
            .find(|t| t.id == id)
            .cloned())
    }
    fn insert_topic(&self, topic: &Topic) -> Result<Topic, RepoError> {
        self.state.lock().unwrap().topics.push(topic.clone());
        Ok(topic.clone())
    }
    fn update_topic(&self, _: Uuid, _: &ContentPatch, _: Timestamp) -> Result<Topic, RepoError> {
        unimplemented!()
    }
    fn delete_topic(&self, _: Uuid) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn reorder_topics(&self, _: &[Uuid]) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn lessons(&self, topic_id: Uuid, include_unpublished: bool) -> Result<Vec<Lesson>, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.lessons
            .iter()
            .filter(|l| l.topic_id == topic_id && (include_unpublished || l.published))
            .cloned()
            .collect())
    }
    fn lesson(&self, id: Uuid) -> Result<Option<Lesson>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .lessons
            .iter()
            .find(|l| l.id == id)
            .cloned())
    }
    fn insert_lesson(&self, lesson: &Lesson) -> Result<Lesson, RepoError> {
        self.state.lock().unwrap().lessons.push(lesson.clone());
        Ok(lesson.clone())
    }
    fn update_lesson(&self, _: Uuid, _: &ContentPatch, _: Timestamp) -> Result<Lesson, RepoError> {
        unimplemented!()
    }
    fn delete_lesson(&self, _: Uuid) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn reorder_lessons(&self, _: Uuid, _: &[Uuid]) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn tasks(&self, lesson_id: Uuid, include_unpublished: bool) -> Result<Vec<Task>, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.tasks
            .iter()
            .filter(|t| t.lesson_id == lesson_id && (include_unpublished || t.published))
            .cloned()
            .collect())
    }
    fn task(&self, id: Uuid) -> Result<Option<Task>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .tasks
            .iter()
            .find(|t| t.id == id)
            .cloned())
    }
    fn insert_task(&self, task: &Task) -> Result<Task, RepoError> {
        self.state.lock().unwrap().tasks.push(task.clone());
        Ok(task.clone())
    }
    fn update_task(&self, _: &Task) -> Result<Task, RepoError> {
        unimplemented!()
    }
    fn delete_task(&self, _: Uuid) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn delete_content(
        &self,
        _: crate::ports::ContentItem,
        _: bool,
    ) -> Result<crate::ports::DeleteOutcome, RepoError> {
        unimplemented!()
    }
    fn reorder_tasks(&self, _: Uuid, _: &[Uuid]) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn outline(&self, include_unpublished: bool) -> Result<Vec<(Topic, Vec<Lesson>)>, RepoError> {
        let topics = self.list_topics(include_unpublished)?;
        topics
            .into_iter()
            .map(|t| {
                let ls = self.lessons(t.id, include_unpublished)?;
                Ok((t, ls))
            })
            .collect()
    }
    fn import_course(&self, _: &Course, _: Timestamp) -> Result<ImportSummary, RepoError> {
        unimplemented!()
    }
    fn export_course(&self) -> Result<Course, RepoError> {
        unimplemented!()
    }
}

impl AttemptRepo for FakeRepo {
    fn insert_attempt(&self, attempt: &Attempt) -> Result<(), RepoError> {
        self.state.lock().unwrap().attempts.push(attempt.clone());
        Ok(())
    }
    fn attempt(&self, id: Uuid) -> Result<Option<Attempt>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .attempts
            .iter()
            .find(|a| a.id == id)
            .cloned())
    }
    fn insert_attempt_capped(&self, attempt: &Attempt, max: u32) -> Result<bool, RepoError> {
        let mut s = self.state.lock().unwrap();
        let n = s
            .attempts
            .iter()
            .filter(|a| a.user_id == attempt.user_id && a.status != AttemptStatus::Done)
            .count();
        if n >= max as usize {
            return Ok(false);
        }
        s.attempts.push(attempt.clone());
        Ok(true)
    }
    fn count_unfinished_of_user(&self, user_id: Uuid) -> Result<u64, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.attempts
            .iter()
            .filter(|a| a.user_id == user_id && a.status != AttemptStatus::Done)
            .count() as u64)
    }
    fn claim_attempt(&self, id: Uuid, now: Timestamp) -> Result<bool, RepoError> {
        let mut s = self.state.lock().unwrap();
        match s.attempts.iter_mut().find(|a| a.id == id) {
            Some(a) if a.status == AttemptStatus::Queued => {
                a.status = AttemptStatus::Running;
                a.started_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn requeue_stale_attempt(&self, id: Uuid, before: Timestamp) -> Result<bool, RepoError> {
        let mut s = self.state.lock().unwrap();
        match s.attempts.iter_mut().find(|a| a.id == id) {
            Some(a)
                if a.status == AttemptStatus::Running
                    && a.started_at.is_some_and(|t| t < before) =>
            {
                a.status = AttemptStatus::Queued;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn requeue_finished_attempt(&self, id: Uuid) -> Result<bool, RepoError> {
        let mut s = self.state.lock().unwrap();
        match s.attempts.iter_mut().find(|a| a.id == id) {
            Some(a) if a.status == AttemptStatus::Done => {
                a.status = AttemptStatus::Queued;
                a.report = None;
                a.finished_at = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn set_status(&self, id: Uuid, status: AttemptStatus, now: Timestamp) -> Result<(), RepoError> {
        let mut s = self.state.lock().unwrap();
        let a = s
            .attempts
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(RepoError::NotFound("attempt"))?;
        a.status = status;
        if status == AttemptStatus::Running {
            a.started_at = Some(now);
        }
        Ok(())
    }
    fn finish_attempt(
        &self,
        id: Uuid,
        report: &GradeReport,
        now: Timestamp,
    ) -> Result<(), RepoError> {
        let mut s = self.state.lock().unwrap();
        let a = s
            .attempts
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or(RepoError::NotFound("attempt"))?;
        if a.status != AttemptStatus::Running {
            return Err(RepoError::Conflict(
                "only a running attempt can be finished".into(),
            ));
        }
        a.status = AttemptStatus::Done;
        a.report = Some(report.clone());
        a.finished_at = Some(now);
        let (user_id, task_id) = (a.user_id, a.task_id);
        if report.verdict == Verdict::Accepted
            && !s
                .solutions
                .iter()
                .any(|x| x.user_id == user_id && x.task_id == task_id)
        {
            s.solutions.push(Solution {
                user_id,
                task_id,
                attempt_id: id,
                solved_at: now,
            });
        }
        Ok(())
    }
    fn attempts_of_user(
        &self,
        user_id: Uuid,
        task_id: Option<Uuid>,
        page: Page,
    ) -> Result<Vec<Attempt>, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.attempts
            .iter()
            .rev()
            .filter(|a| a.user_id == user_id && task_id.is_none_or(|t| a.task_id == t))
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .cloned()
            .collect())
    }
    fn attempts_of_task(&self, task_id: Uuid) -> Result<Vec<Attempt>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .attempts
            .iter()
            .filter(|a| a.task_id == task_id)
            .cloned()
            .collect())
    }
    fn solutions_of_user(&self, user_id: Uuid, page: Page) -> Result<Vec<Solution>, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.solutions
            .iter()
            .filter(|x| x.user_id == user_id)
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .cloned()
            .collect())
    }
    fn unfinished_attempts(&self) -> Result<Vec<Attempt>, RepoError> {
        let s = self.state.lock().unwrap();
        Ok(s.attempts
            .iter()
            .filter(|a| a.status != AttemptStatus::Done)
            .cloned()
            .collect())
    }
    fn insert_feedback(&self, _: &Feedback) -> Result<(), RepoError> {
        unimplemented!()
    }
    fn feedback_of_attempt(&self, _: Uuid) -> Result<Vec<Feedback>, RepoError> {
        unimplemented!()
    }
}

impl SessionRepo for FakeRepo {
    fn insert_session(&self, session: &SavedSession) -> Result<(), RepoError> {
        self.state.lock().unwrap().sessions.push(session.clone());
        Ok(())
    }
    fn session(&self, id: Uuid) -> Result<Option<SavedSession>, RepoError> {
        Ok(self
            .state
            .lock()
            .unwrap()
            .sessions
            .iter()
            .find(|s| s.id == id)
            .cloned())
    }
    fn update_session(
        &self,
        id: Uuid,
        state: &serde_json::Value,
        now: Timestamp,
    ) -> Result<SavedSession, RepoError> {
        let mut s = self.state.lock().unwrap();
        let x = s
            .sessions
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or(RepoError::NotFound("session"))?;
        x.state = state.clone();
        x.updated_at = now;
        Ok(x.clone())
    }
    fn delete_session(&self, id: Uuid) -> Result<(), RepoError> {
        self.state.lock().unwrap().sessions.retain(|s| s.id != id);
        Ok(())
    }
}
