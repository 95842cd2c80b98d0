-- 001_initial: students, their face descriptors, attendance, and a NOTIFY
-- when the gallery changes.
--
-- sxdb applies this with search_path set to the target schema only, so names
-- stay unqualified and the same file serves any schema (docs/database.md).
-- schema_migrations itself is created by sxdb before any migration runs.

CREATE TABLE students (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id text NOT NULL UNIQUE CHECK (external_id <> ''),
    name        text NOT NULL DEFAULT '',
    active      boolean NOT NULL DEFAULT true,
    created     timestamptz NOT NULL DEFAULT now()
);

-- One row per enrolled photo. real[] rather than bytea: readable with psql,
-- portable across byte orders, and the CHECK keeps malformed rows out.
CREATE TABLE face_descriptors (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student      bigint NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    descriptor   real[] NOT NULL
                 CHECK (array_ndims(descriptor) = 1
                        AND cardinality(descriptor) = 128
                        AND array_position(descriptor, NULL) IS NULL),
    source_photo text NOT NULL DEFAULT '',
    created      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_descriptors_student_idx ON face_descriptors (student);

-- One row per student per class session; later sightings update it.
CREATE TABLE attendance (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    student       bigint NOT NULL REFERENCES students (id) ON DELETE CASCADE,
    camera_id     text NOT NULL,
    session_key   text NOT NULL,
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    sightings     bigint NOT NULL DEFAULT 0 CHECK (sightings >= 0),
    best_distance double precision,
    UNIQUE (student, session_key)
);
CREATE INDEX attendance_session_idx ON attendance (session_key);

-- Every attendance update a writer sends carries a random event id, recorded
-- here in the same transaction. A batch replayed after an ambiguous commit
-- (connection lost before COMMIT's answer) finds its ids and changes nothing,
-- so sightings are never counted twice. Old ids may be pruned (applied).
CREATE TABLE attendance_events (
    event_id uuid PRIMARY KEY,
    applied  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attendance_events_applied_idx ON attendance_events (applied);

-- Running recognisers LISTEN on surveillx_gallery and reload; the payload
-- names the schema so several deployments can share a database.
CREATE FUNCTION gallery_notify () RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_student bigint;
BEGIN
    IF TG_TABLE_NAME = 'students' THEN
        IF TG_OP = 'DELETE' THEN changed_student := OLD.id;
        ELSE changed_student := NEW.id; END IF;
    ELSE
        IF TG_OP = 'DELETE' THEN changed_student := OLD.student;
        ELSE changed_student := NEW.student; END IF;
    END IF;
    PERFORM pg_catalog.pg_notify ('surveillx_gallery',
        pg_catalog.json_build_object ('schema', TG_TABLE_SCHEMA,
            'table', TG_TABLE_NAME, 'op', TG_OP,
            'student', changed_student)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER students_gallery_notify
    AFTER INSERT OR UPDATE OR DELETE ON students
    FOR EACH ROW EXECUTE FUNCTION gallery_notify ();
CREATE TRIGGER face_descriptors_gallery_notify
    AFTER INSERT OR UPDATE OR DELETE ON face_descriptors
    FOR EACH ROW EXECUTE FUNCTION gallery_notify ();
