-- 003_registry: which launcher holds which camera (docs/deploy.md §8).
--
-- Several launchers share one database; PostgreSQL is their coordinator.
-- A launcher that accepts a camera takes a lease on it (take_camera), renews
-- it while the camera streams and ends it when the camera leaves. A camera
-- that reconnects elsewhere (its launcher crashed, or it was moved) is taken
-- by the new launcher at once: the old lease ends, the old launcher learns
-- it at its next renewal and stops the camera, and attendancesink drops
-- whatever it still sends for the camera from after the take (the lease's
-- epoch travels with each attendance event). Two launchers therefore never
-- both write attendance for one camera over the same moment.

-- One row per launcher process, refreshed at every heartbeat. A row whose
-- heartbeat expired belongs to a launcher that stopped or crashed.
CREATE TABLE launchers (
    id        text PRIMARY KEY CHECK (id <> ''),
    url       text NOT NULL DEFAULT '',
    capacity  integer NOT NULL CHECK (capacity >= 0),
    cameras   integer NOT NULL DEFAULT 0 CHECK (cameras >= 0),
    started   timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL DEFAULT now(),
    expires   timestamptz NOT NULL
);

-- One row per take. The epoch only grows (takes of one camera are
-- serialised by take_camera's lock), so a later take has a larger one.
-- Rows stay as the history of where each camera streamed; retention may
-- delete ended ones.
CREATE TABLE camera_leases (
    epoch       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    camera_id   text NOT NULL CHECK (camera_id <> ''),
    launcher_id text NOT NULL CHECK (launcher_id <> ''),
    taken       timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires     timestamptz NOT NULL,
    ended       timestamptz,
    end_reason  text
);
CREATE INDEX camera_leases_camera_idx ON camera_leases (camera_id, epoch);
CREATE INDEX camera_leases_open_idx ON camera_leases (launcher_id)
    WHERE ended IS NULL;

-- Ends the camera's open lease (whoever holds it) and opens a new one for
-- p_launcher; returns its epoch. The lock serialises takes of one camera
-- in one schema, so epochs follow the order of takes. The function keeps
-- the search_path it was created with (this schema), whoever calls it.
CREATE FUNCTION take_camera (p_camera text, p_launcher text, p_lease interval)
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    new_epoch bigint;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock (pg_catalog.hashtext (
        'surveillx camera ' || pg_catalog.current_schema () || ' ' || p_camera));
    UPDATE camera_leases SET ended = pg_catalog.clock_timestamp (),
        end_reason = CASE
            WHEN launcher_id = p_launcher THEN 'taken again by its launcher'
            WHEN expires < pg_catalog.clock_timestamp () THEN
                'expired; taken by ' || p_launcher
            ELSE 'taken over by ' || p_launcher END
        WHERE camera_id = p_camera AND ended IS NULL;
    INSERT INTO camera_leases (camera_id, launcher_id, expires)
        VALUES (p_camera, p_launcher, pg_catalog.clock_timestamp () + p_lease)
        RETURNING epoch INTO new_epoch;
    RETURN new_epoch;
END;
$$;

-- Each camera's latest lease: who holds it, or held it last.
CREATE VIEW camera_registry AS
    SELECT DISTINCT ON (l.camera_id) l.camera_id, l.launcher_id, l.epoch,
        l.taken, l.expires, l.ended, l.end_reason,
        CASE WHEN l.ended IS NOT NULL THEN 'ended'
             WHEN l.expires < now () THEN 'expired'
             ELSE 'held' END AS state,
        m.url AS launcher_url
    FROM camera_leases l LEFT JOIN launchers m ON m.id = l.launcher_id
    ORDER BY l.camera_id, l.epoch DESC;
