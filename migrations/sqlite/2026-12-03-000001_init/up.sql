-- Campus schema, SQLite. Keep in step with ../../postgres/<same folder>/up.sql: the persistence
-- tests prove both backends end with the same tables and columns.
-- UUIDs and JSON are TEXT (portable); timestamps are TIMESTAMP holding UTC, converted to
-- DateTime<Utc> at the persistence boundary. Enum CHECK lists are the domain enums' `as_str()`.

CREATE TABLE users (
    id                TEXT NOT NULL PRIMARY KEY,
    username          TEXT NOT NULL,
    username_key      TEXT NOT NULL CONSTRAINT users_username_key_key UNIQUE,
    role              TEXT NOT NULL CONSTRAINT users_role_check CHECK (role IN ('student', 'teacher', 'admin')),
    password_hash     TEXT,
    external_id_hash  TEXT CONSTRAINT users_external_id_hash_key UNIQUE,
    telegram_user_id  BIGINT CONSTRAINT users_telegram_user_id_key UNIQUE,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    CONSTRAINT users_username_key_lower_check CHECK (username_key = lower(username))
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT NOT NULL PRIMARY KEY,
    family_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMP NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    rotated_at  TIMESTAMP,
    revoked_at  TIMESTAMP
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE topics (
    id           TEXT NOT NULL PRIMARY KEY,
    slug         TEXT NOT NULL CONSTRAINT topics_slug_key UNIQUE,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    position     INTEGER NOT NULL,
    published    BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
CREATE INDEX topics_position_idx ON topics (position);

CREATE TABLE lessons (
    id          TEXT NOT NULL PRIMARY KEY,
    topic_id    TEXT NOT NULL REFERENCES topics (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL CONSTRAINT lessons_kind_check CHECK (kind IN ('article', 'video', 'practice')),
    body        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    published   BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT lessons_topic_slug_key UNIQUE (topic_id, slug)
);
CREATE INDEX lessons_topic_position_idx ON lessons (topic_id, position);

CREATE TABLE tasks (
    id          TEXT NOT NULL PRIMARY KEY,
    lesson_id   TEXT NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL CONSTRAINT tasks_kind_check CHECK (kind IN ('reading', 'quiz', 'code')),
    position    INTEGER NOT NULL,
    published   BOOLEAN NOT NULL,
    data        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT tasks_lesson_slug_key UNIQUE (lesson_id, slug)
);
CREATE INDEX tasks_lesson_position_idx ON tasks (lesson_id, position);

CREATE TABLE attempts (
    id           TEXT NOT NULL PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id      TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    input        TEXT NOT NULL,
    status       TEXT NOT NULL CONSTRAINT attempts_status_check CHECK (status IN ('queued', 'running', 'done')),
    verdict      TEXT CONSTRAINT attempts_verdict_check CHECK (verdict IN ('accepted', 'wrong_answer', 'time_limit', 'memory_limit', 'output_limit', 'runtime_error', 'syntax_error', 'internal_error')),
    score        REAL,
    report       TEXT,
    created_at   TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP
);
CREATE INDEX attempts_user_created_idx ON attempts (user_id, created_at);
CREATE INDEX attempts_task_idx ON attempts (task_id);
CREATE INDEX attempts_status_idx ON attempts (status);

CREATE TABLE solutions (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt_id  TEXT NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    solved_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, task_id)
);
CREATE INDEX solutions_task_idx ON solutions (task_id);

CREATE TABLE feedback (
    id          TEXT NOT NULL PRIMARY KEY,
    attempt_id  TEXT NOT NULL REFERENCES attempts (id) ON DELETE CASCADE,
    body        TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX feedback_attempt_idx ON feedback (attempt_id);

CREATE TABLE saved_sessions (
    id          TEXT NOT NULL PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    task_id     TEXT REFERENCES tasks (id) ON DELETE SET NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX saved_sessions_owner_idx ON saved_sessions (owner_id);

CREATE TABLE link_codes (
    code_hash   TEXT NOT NULL PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX link_codes_user_idx ON link_codes (user_id);
