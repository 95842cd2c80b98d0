-- 002_privacy: consent, erasure, the audit log, and lessons
-- (docs/privacy.md explains each; docs/database.md the tables).

-- Consent. A student is recognised only while consent is recorded and not
-- withdrawn (the galleries load no one else); withdrawing also deletes the
-- descriptors. Students enrolled before this migration had no consent
-- record: they keep being recognised, marked with the source below so that
-- `surveillx-enroll list` shows whom the operator must review.
ALTER TABLE students
    ADD COLUMN consent_given     timestamptz,
    ADD COLUMN consent_source    text NOT NULL DEFAULT '',
    ADD COLUMN consent_withdrawn timestamptz;
UPDATE students SET consent_given = created,
    consent_source = 'enrolled before consent was recorded (migration 002)'
    WHERE EXISTS (SELECT 1 FROM face_descriptors d WHERE d.student = students.id);

-- Erasure. A purged student's row (and with it their descriptors and
-- attendance) is deleted; their external id stays here so that sightings
-- still waiting in a camera's spool from before the erasure are dropped
-- when they arrive instead of re-creating the student.
CREATE TABLE erased_students (
    external_id text PRIMARY KEY,
    erased      timestamptz NOT NULL DEFAULT now()
);

-- Who did what to whose data, and when. Never a descriptor or a photo:
-- counts and sources only.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    db_user     text NOT NULL DEFAULT current_user,
    action      text NOT NULL,
    external_id text,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_student_idx ON audit_log (external_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- Lessons. attendancesink names the session after the lesson in progress
-- on its camera, in the launcher's local time: "<lesson_id>/<YYYY-MM-DD>";
-- outside every lesson the day rule applies ("<camera>/<YYYY-MM-DD>").
CREATE TABLE timetable (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id   text NOT NULL,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO, 1 = Monday
    starts      time NOT NULL,
    ends        time NOT NULL CHECK (ends > starts),
    lesson_id   text NOT NULL CHECK (lesson_id <> '' AND strpos(lesson_id, '/') = 0),
    late_after  interval NOT NULL DEFAULT '5 minutes'
);
CREATE INDEX timetable_camera_idx ON timetable (camera_id, weekday);

-- Who is expected in a lesson (for absences).
CREATE TABLE lesson_students (
    lesson_id text NOT NULL,
    student   bigint NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    PRIMARY KEY (lesson_id, student)
);

-- The register of one lesson on one day: everyone expected or seen, each
-- present, late (first seen after start + late_after) or absent. Times are
-- read in the session's TimeZone, which should be the launchers'.
CREATE FUNCTION lesson_register (lesson text, lesson_day date)
RETURNS TABLE (external_id text, name text, status text,
               first_seen timestamptz, last_seen timestamptz, camera_id text)
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
    WITH slot AS (
        SELECT min(t.starts) AS starts, max(t.late_after) AS late_after
        FROM timetable t
        WHERE t.lesson_id = lesson
          AND t.weekday = extract(isodow FROM lesson_day)),
    seen AS (
        SELECT a.student, a.first_seen, a.last_seen, a.camera_id
        FROM attendance a
        WHERE a.session_key = lesson || '/' || to_char(lesson_day, 'YYYY-MM-DD')),
    expected AS (
        SELECT ls.student FROM lesson_students ls WHERE ls.lesson_id = lesson
        UNION
        SELECT seen.student FROM seen)
    SELECT s.external_id, s.name,
           CASE WHEN seen.student IS NULL THEN 'absent'
                WHEN slot.starts IS NOT NULL
                     AND seen.first_seen > (lesson_day + slot.starts + slot.late_after)::timestamptz
                THEN 'late'
                ELSE 'present' END,
           seen.first_seen, seen.last_seen, seen.camera_id
    FROM expected
    JOIN students s ON s.id = expected.student
    LEFT JOIN seen ON seen.student = expected.student
    CROSS JOIN slot
    ORDER BY s.external_id
$$;
