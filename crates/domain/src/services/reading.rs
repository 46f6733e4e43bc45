//! Reading the course: topics, lessons with previous/next navigation, tasks as students see them.

use crate::{
    content::{Lesson, Topic},
    ports::ContentRepo,
    task::Task,
    DomainError,
};
use uuid::Uuid;

/// The course in reading order, as [`ContentRepo::outline`] returns it.
pub type Outline = Vec<(Topic, Vec<Lesson>)>;

/// Where a lesson lives for a front end: `/topics/{topicSlug}/lessons/{lessonSlug}`. Slugs are
/// unique per parent, so the path is unique and stable across renames of titles.
pub fn lesson_link(topic: &Topic, lesson: &Lesson) -> String {
    format!("/topics/{}/lessons/{}", topic.slug, lesson.slug)
}

/// One end of a previous/next link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavLink {
    pub lesson_id: Uuid,
    pub lesson_name: String,
    pub lesson_link: String,
    pub topic_id: Uuid,
}

impl NavLink {
    fn of(topic: &Topic, lesson: &Lesson) -> Self {
        Self {
            lesson_id: lesson.id,
            lesson_name: lesson.title.clone(),
            lesson_link: lesson_link(topic, lesson),
            topic_id: topic.id,
        }
    }
}

/// A lesson located in the outline, with its neighbours in reading order. Neighbours cross
/// topic boundaries: the last lesson of a topic links to the first of the next non-empty topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub topic: Topic,
    pub lesson: Lesson,
    pub previous: Option<NavLink>,
    pub next: Option<NavLink>,
}

/// Finds `lesson_id` in `outline`; `None` when the outline (for this viewer) does not hold it.
pub fn locate(outline: &[(Topic, Vec<Lesson>)], lesson_id: Uuid) -> Option<Located> {
    let flat: Vec<(&Topic, &Lesson)> = outline
        .iter()
        .flat_map(|(t, ls)| ls.iter().map(move |l| (t, l)))
        .collect();
    let i = flat.iter().position(|(_, l)| l.id == lesson_id)?;
    let (topic, lesson) = flat[i];
    let previous = i
        .checked_sub(1)
        .and_then(|p| flat.get(p))
        .map(|(t, l)| NavLink::of(t, l));
    let next = flat.get(i + 1).map(|(t, l)| NavLink::of(t, l));
    Some(Located {
        topic: topic.clone(),
        lesson: lesson.clone(),
        previous,
        next,
    })
}

/// A lesson as a reader gets it: its place in the course and its tasks in public form.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonView {
    pub located: Located,
    /// Tasks with [`crate::task::TaskData::public_view`] applied: no hidden tests, no reference
    /// solution, no quiz answers, whoever reads.
    pub tasks: Vec<Task>,
}

/// Assembles a lesson for a reader. `outline` must be the outline for the same audience
/// (`include_drafts`), so a student never reaches an unpublished lesson, nor a published lesson
/// of an unpublished topic: both are `NotFound`, indistinguishable from a lesson that never was.
pub fn lesson_view(
    repo: &dyn ContentRepo,
    outline: &[(Topic, Vec<Lesson>)],
    include_drafts: bool,
    lesson_id: Uuid,
) -> Result<LessonView, DomainError> {
    let located = locate(outline, lesson_id).ok_or(DomainError::NotFound("lesson"))?;
    let tasks = repo
        .tasks(lesson_id, include_drafts)?
        .into_iter()
        .map(public_task)
        .collect();
    Ok(LessonView { located, tasks })
}

/// The task with its data reduced to what a student may see.
pub fn public_task(mut task: Task) -> Task {
    task.data = task.data.public_view();
    task
}

/// A task for a reader: `NotFound` for a student when the task, its lesson or its topic is not
/// published. Returns the full task; callers apply [`public_task`] before showing it.
pub fn readable_task(
    repo: &dyn ContentRepo,
    outline: &[(Topic, Vec<Lesson>)],
    include_drafts: bool,
    task_id: Uuid,
) -> Result<(Task, Located), DomainError> {
    let task = repo.task(task_id)?.ok_or(DomainError::NotFound("task"))?;
    if !task.published && !include_drafts {
        return Err(DomainError::NotFound("task"));
    }
    let located = locate(outline, task.lesson_id).ok_or(DomainError::NotFound("task"))?;
    Ok((task, located))
}

/// A topic with its lessons, for one audience; `NotFound` when the topic is not in `outline`.
pub fn topic_with_lessons(
    outline: &[(Topic, Vec<Lesson>)],
    topic_id: Uuid,
) -> Result<(Topic, Vec<Lesson>), DomainError> {
    outline
        .iter()
        .find(|(t, _)| t.id == topic_id)
        .cloned()
        .ok_or(DomainError::NotFound("topic"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::services::fakes::{code_task_data, FakeRepo};

    fn course() -> (FakeRepo, Vec<Uuid>, Vec<Uuid>) {
        let repo = FakeRepo::default();
        let t1 = repo.add_topic("basics", true);
        let t2 = repo.add_topic("loops", true);
        let t3 = repo.add_topic("drafts", false);
        let l1 = repo.add_lesson(t1, "hello", true);
        let l2 = repo.add_lesson(t1, "vars", true);
        let l_hidden = repo.add_lesson(t1, "wip", false);
        let l3 = repo.add_lesson(t2, "for", true);
        let l4 = repo.add_lesson(t3, "secret", true);
        (repo, vec![t1, t2, t3], vec![l1, l2, l_hidden, l3, l4])
    }

    #[test]
    fn navigation_crosses_topic_boundaries_both_ways() {
        let (repo, topics, lessons) = course();
        let outline = repo.outline(false).unwrap();
        let at_end_of_topic = locate(&outline, lessons[1]).unwrap();
        let next = at_end_of_topic.next.unwrap();
        assert_eq!(next.lesson_id, lessons[3]);
        assert_eq!(next.topic_id, topics[1]);
        assert_eq!(next.lesson_link, "/topics/loops/lessons/for");
        let first_of_next = locate(&outline, lessons[3]).unwrap();
        assert_eq!(first_of_next.previous.unwrap().lesson_id, lessons[1]);
        assert!(
            first_of_next.next.is_none(),
            "the unpublished topic must not be linked"
        );
        assert!(locate(&outline, lessons[0]).unwrap().previous.is_none());
    }

    #[test]
    fn students_never_reach_unpublished_lessons_or_topics() {
        let (repo, _, lessons) = course();
        let outline = repo.outline(false).unwrap();
        for hidden in [lessons[2], lessons[4]] {
            assert!(matches!(
                lesson_view(&repo, &outline, false, hidden),
                Err(DomainError::NotFound(_))
            ));
        }
        let drafts = repo.outline(true).unwrap();
        let v = lesson_view(&repo, &drafts, true, lessons[2]).unwrap();
        assert_eq!(v.located.next.unwrap().lesson_id, lessons[3]);
    }

    #[test]
    fn lesson_tasks_are_public_views_and_drafts_are_left_out_for_students() {
        let (repo, _, lessons) = course();
        let shown = repo.add_task(lessons[0], "sum", true, code_task_data());
        let _draft = repo.add_task(lessons[0], "draft", false, code_task_data());
        let outline = repo.outline(false).unwrap();
        let v = lesson_view(&repo, &outline, false, lessons[0]).unwrap();
        assert_eq!(v.tasks.len(), 1);
        assert_eq!(v.tasks[0].id, shown);
        let crate::task::TaskData::Code(c) = &v.tasks[0].data else {
            panic!("kind changed")
        };
        assert!(c.reference_solution.is_none());
        assert!(c.tests.iter().all(|t| !t.hidden));
        assert_eq!(c.tests.len(), 1, "the hidden test must be dropped");
    }

    #[test]
    fn a_published_task_in_an_unpublished_lesson_is_not_readable_by_students() {
        let (repo, _, lessons) = course();
        let t = repo.add_task(lessons[2], "x", true, code_task_data());
        let outline = repo.outline(false).unwrap();
        assert!(readable_task(&repo, &outline, false, t).is_err());
        let drafts = repo.outline(true).unwrap();
        assert!(readable_task(&repo, &drafts, true, t).is_ok());
    }
}
