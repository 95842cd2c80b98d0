/* surveillx-gst — attendancesink's writer thread (see attwriter.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "attwriter.h"

#include <gst/gst.h>

#include <string.h>

#include "sxdb.h"

/* the element's category: these are its helpers */
GST_DEBUG_CATEGORY_EXTERN (gst_attendance_sink_debug);
#define GST_CAT_DEFAULT gst_attendance_sink_debug

#define INITIAL_BACKOFF_US (250 * G_TIME_SPAN_MILLISECOND)
/* Event ids only matter while a replay is possible; beyond that they are
 * dead weight. Two months covers a spool left behind over a holiday. */
#define EVENT_RETENTION "60 days"
#define UPSERT_STATEMENT "sx_attendance_upsert"

/* One prepared statement does the whole idempotent update:
 *  ev:     records the event id; a replayed event stops here;
 *  erased: the student was erased (surveillx-enroll remove --purge) and
 *          not enrolled again since, or after this sighting: it is dropped
 *          and the student not re-created (a camera may name them for a
 *          moment after the purge, until its gallery reloads);
 *  fence:  when the camera was taken by a later lease than the event's
 *          (another launcher, or a reconnect), the moment it was: an event
 *          that starts after it is dropped, one that spans it ends there,
 *          so two holders never both count one moment (003_registry.sql);
 *  added:  inserts a student we have never heard of (docs/database.md);
 *  upsert: the attendance row. The main query cannot see rows its own CTEs
 *  inserted, hence COALESCE over added's RETURNING. One row: whether the
 *  event was new, whether the student was added, whether a row was
 *  written, whether it was fenced (a new event neither written nor fenced
 *  was erased). LEAST ignores the NULL of an unfenced event. */
static const gchar upsert_sql[]
    = "WITH ev AS ("
      "  INSERT INTO attendance_events (event_id) VALUES ($1::uuid)"
      "  ON CONFLICT DO NOTHING RETURNING event_id),"
      " erased AS (SELECT 1 FROM erased_students e"
      "  WHERE e.external_id = $2 AND (e.erased >= $7::timestamptz"
      "   OR NOT EXISTS (SELECT 1 FROM students s"
      "    WHERE s.external_id = $2))),"
      " fence AS (SELECT min(l.taken) AS cut FROM camera_leases l"
      "  WHERE $10::bigint > 0 AND l.camera_id = $4 AND l.epoch > $10::bigint),"
      " fenced AS (SELECT 1 FROM fence WHERE cut <= $6::timestamptz),"
      " added AS ("
      "  INSERT INTO students (external_id, name)"
      "  SELECT $2, $3 WHERE EXISTS (SELECT 1 FROM ev)"
      "   AND NOT EXISTS (SELECT 1 FROM erased)"
      "   AND NOT EXISTS (SELECT 1 FROM fenced)"
      "  ON CONFLICT (external_id) DO NOTHING RETURNING id),"
      " upsert AS ("
      "  INSERT INTO attendance AS a (student, camera_id, session_key,"
      "   first_seen, last_seen, sightings, best_distance)"
      "  SELECT COALESCE((SELECT id FROM added),"
      "    (SELECT id FROM students WHERE external_id = $2)),"
      "   $4, $5, $6::timestamptz,"
      "   LEAST($7::timestamptz, (SELECT cut FROM fence)), $8::bigint,"
      "   $9::float8"
      "  WHERE EXISTS (SELECT 1 FROM ev) AND NOT EXISTS (SELECT 1 FROM erased)"
      "   AND NOT EXISTS (SELECT 1 FROM fenced)"
      "  ON CONFLICT (student, session_key) DO UPDATE SET"
      "   first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),"
      "   last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen),"
      "   sightings = a.sightings + EXCLUDED.sightings,"
      "   best_distance = LEAST(a.best_distance, EXCLUDED.best_distance)"
      "  RETURNING 1)"
      " SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM added),"
      "  (SELECT count(*) FROM upsert), (SELECT count(*) FROM fenced)";

typedef struct {
  gchar *student;
  gchar *label;
  gchar *camera_id;
  gchar *session_key;
  gint64 first_seen;
  gint64 last_seen;
  guint64 sightings;
  gdouble best_distance;
} Aggregate;

/* One PostgreSQL connection and writer thread per process, database,
 * schema and migrate setting, shared by every sink on it: many cameras in
 * one launcher cost the server one backend, not one each. The sinks'
 * writers take turns on it, each with its own aggregate, spool, pending
 * events, stats and callbacks. */
typedef struct {
  gchar *key;
  gchar *conninfo;
  gchar *schema;
  gboolean migrate;
  guint refs; /* under registry_lock */

  GMutex lock; /* also every writer's lock */
  GCond cond;
  GPtrArray *writers; /* under lock: joined and not yet retired */
  gboolean quit;      /* under lock: no writer left */
  gboolean failed;    /* under lock: fatal; retried when a writer joins */
  SxDb *db;           /* set/cleared by the thread under lock; read by a
                       * writer's stop to cancel a hung statement */
  gchar *description; /* under lock: the server, for writers that join */
  GThread *thread;

  /* thread only */
  gint64 next_attempt;
  gint64 backoff;
} Connection;

struct _SxAttWriter {
  Connection *conn;
  /* fixed at creation */
  gchar *camera_id;
  gint64 flush_interval; /* us */
  gint64 flush_timeout;  /* us */
  guint batch_size;
  gint64 max_backoff;       /* us */
  gint64 timetable_refresh; /* us */
  SxAttWriterCallbacks callbacks;
  gpointer user_data;

  /* under conn->lock: shared with the streaming and application threads */
  GHashTable *aggregates;  /* "session\nstudent" -> Aggregate */
  guint64 flush_requested; /* generation asked for by flush() */
  guint64 flush_collected; /* generation whose sightings are spooled */
  gboolean stopping;
  gint64 stop_deadline; /* monotonic us */
  gboolean exited;      /* retired by the thread, which no longer sees it */
  SxAttWriterStats stats;
  guint64 lease_epoch; /* for the events collected next */
  GPtrArray *pending;  /* SxAttEvent, spool order; changed by the thread
                        * only, its length read under the lock */

  /* connection thread only */
  SxSpool *spool;
  gint64 last_collect;
  guint64 serving; /* the flush generation this turn collects for */
  GPtrArray *collected;
  gboolean in_outage;
  gboolean one_at_a_time; /* isolating a statement the server refuses */
  gint64 next_timetable;  /* monotonic us */
};

static GMutex registry_lock;
static GHashTable *registry; /* key -> Connection, under registry_lock */

static void
aggregate_free (Aggregate *a)
{
  g_free (a->student);
  g_free (a->label);
  g_free (a->camera_id);
  g_free (a->session_key);
  g_free (a);
}

void
sx_att_writer_add_sighting (SxAttWriter *w, const gchar *student,
                            const gchar *label, const gchar *camera_id,
                            const gchar *session_key, gint64 when_us,
                            gdouble distance)
{
  gchar *key = g_strconcat (session_key, "\n", student, NULL);
  Aggregate *a;

  g_mutex_lock (&w->conn->lock);
  a = g_hash_table_lookup (w->aggregates, key);
  if (a == NULL) {
    a = g_new0 (Aggregate, 1);
    a->student = g_strdup (student);
    a->label = g_strdup (label);
    a->camera_id = g_strdup (camera_id);
    a->session_key = g_strdup (session_key);
    a->first_seen = when_us;
    a->best_distance = distance;
    g_hash_table_insert (w->aggregates, key, a);
    key = NULL;
  }
  a->last_seen = MAX (a->last_seen, when_us);
  a->first_seen = MIN (a->first_seen, when_us);
  a->best_distance = MIN (a->best_distance, distance);
  a->sightings++;
  w->stats.sightings++;
  g_mutex_unlock (&w->conn->lock);
  g_free (key);
}

void
sx_att_writer_set_lease_epoch (SxAttWriter *w, guint64 epoch)
{
  g_mutex_lock (&w->conn->lock);
  w->lease_epoch = epoch;
  g_mutex_unlock (&w->conn->lock);
}

/* Under lock. */
static GPtrArray *
collect_events (SxAttWriter *w)
{
  GPtrArray *events
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sx_att_event_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, w->aggregates);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Aggregate *a = value;
    SxAttEvent *e = sx_att_event_new ();

    e->event_id = g_uuid_string_random ();
    e->student = g_steal_pointer (&a->student);
    e->label = g_steal_pointer (&a->label);
    e->camera_id = g_steal_pointer (&a->camera_id);
    e->session_key = g_steal_pointer (&a->session_key);
    e->first_seen = a->first_seen;
    e->last_seen = a->last_seen;
    e->sightings = a->sightings;
    e->best_distance = a->best_distance;
    e->lease_epoch = w->lease_epoch;
    g_ptr_array_add (events, e);
  }
  g_hash_table_remove_all (w->aggregates);
  return events;
}

static void
set_last_error (SxAttWriter *w, const GError *error)
{
  g_mutex_lock (&w->conn->lock);
  g_free (w->stats.last_error);
  w->stats.last_error = g_strdup (error->message);
  g_mutex_unlock (&w->conn->lock);
}

/* The writers that take a turn now, under lock. No refs needed: only the
 * thread retires a writer, and its stop frees it only after that. */
static GPtrArray *
snapshot_writers (Connection *c)
{
  GPtrArray *writers = g_ptr_array_new ();
  for (guint i = 0; i < c->writers->len; i++)
    g_ptr_array_add (writers, c->writers->pdata[i]);
  return writers;
}

static gint64
shortest_backoff (Connection *c, GPtrArray *writers)
{
  gint64 max = G_MAXINT64;
  for (guint i = 0; i < writers->len; i++)
    max = MIN (max, ((SxAttWriter *)writers->pdata[i])->max_backoff);
  return max == G_MAXINT64 ? INITIAL_BACKOFF_US : max;
}

/* Every writer on it, those that joined since @writers was taken too. */
static void
set_connected (Connection *c, SxDb *db)
{
  g_mutex_lock (&c->lock);
  c->db = db;
  if (db) {
    g_free (c->description);
    c->description = g_strdup (sx_db_get_description (db));
  }
  for (guint i = 0; i < c->writers->len; i++) {
    SxAttWriter *w = c->writers->pdata[i];
    w->stats.connected = db != NULL;
    if (db)
      w->stats.connects++;
  }
  g_mutex_unlock (&c->lock);
}

static void
drop_connection (Connection *c)
{
  SxDb *db = c->db;
  set_connected (c, NULL);
  sx_db_free (db);
}

/* A problem to retry past: every writer hears of it once per outage. */
static void
report_transient (Connection *c, GPtrArray *writers, const GError *error)
{
  c->next_attempt = g_get_monotonic_time () + c->backoff;
  c->backoff = MIN (c->backoff * 2, shortest_backoff (c, writers));
  for (guint i = 0; i < writers->len; i++) {
    SxAttWriter *w = writers->pdata[i];
    set_last_error (w, error);
    if (!w->in_outage) {
      w->in_outage = TRUE;
      w->callbacks.problem (w->user_data, error, FALSE);
    }
  }
}

/* Configuration no retry gets past (bad password, missing schema): every
 * writer fails; events stay in the spools for the next start. */
static void
report_fatal (Connection *c, GPtrArray *writers, const GError *error)
{
  g_mutex_lock (&c->lock);
  c->failed = TRUE;
  for (guint i = 0; i < writers->len; i++) {
    SxAttWriter *w = writers->pdata[i];
    g_free (w->stats.last_error);
    w->stats.last_error = g_strdup (error->message);
    w->stats.failed = TRUE;
  }
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  for (guint i = 0; i < writers->len; i++) {
    SxAttWriter *w = writers->pdata[i];
    w->callbacks.problem (w->user_data, error, TRUE);
  }
}

static void
pass_db_notice (const gchar *message, gpointer user_data)
{
  GPtrArray *writers = user_data;
  /* the connection's notices (a migration, a newer schema) concern every
   * sink on it; the first one logs them */
  if (writers->len > 0) {
    SxAttWriter *w = writers->pdata[0];
    w->callbacks.notice (w->user_data, message);
  }
}

static gboolean
connect_db (Connection *c, GPtrArray *writers)
{
  GError *error = NULL;
  SxDb *db = sx_db_connect (c->conninfo, c->schema, &error);
  PGresult *res;

  if (db == NULL)
    goto failed;
  sx_db_set_notice_func (db, pass_db_notice, writers);
  if (!(c->migrate ? sx_db_migrate (db, &error)
                   : sx_db_check_version (db, &error)))
    goto failed;
  sx_db_set_notice_func (db, NULL, NULL);
  if (!sx_db_prepare (db, UPSERT_STATEMENT, upsert_sql, 10, &error))
    goto failed;
  /* Best effort housekeeping; a failure here must not stop attendance. */
  res = sx_db_exec (db,
                    "DELETE FROM attendance_events WHERE applied < "
                    "now() - interval '" EVENT_RETENTION "'",
                    0, NULL, NULL);
  if (res != NULL)
    PQclear (res);

  set_connected (c, db);
  c->backoff = INITIAL_BACKOFF_US;
  /* those that joined while it connected hear of it too */
  g_mutex_lock (&c->lock);
  GPtrArray *joined = snapshot_writers (c);
  g_mutex_unlock (&c->lock);
  for (guint i = 0; i < joined->len; i++) {
    SxAttWriter *w = joined->pdata[i];
    w->in_outage = FALSE;
    w->next_timetable = 0; /* read it now */
    w->callbacks.connected (w->user_data, sx_db_get_description (db));
  }
  g_ptr_array_unref (joined);
  return TRUE;

failed:
  sx_db_free (db);
  if (sx_db_error_is_transient (error))
    report_transient (c, writers, error);
  else
    report_fatal (c, writers, error);
  g_error_free (error);
  return FALSE;
}

static gchar *
iso_time (gint64 unix_us)
{
  GDateTime *base = g_date_time_new_from_unix_utc (unix_us / G_USEC_PER_SEC);
  GDateTime *exact = g_date_time_add (base, unix_us % G_USEC_PER_SEC);
  gchar *text = g_date_time_format_iso8601 (exact);

  g_date_time_unref (exact);
  g_date_time_unref (base);
  return text;
}

/* Returns the result of the upsert for one event (NULL + error). */
static PGresult *
upsert_event (SxDb *db, const SxAttEvent *e, GError **error)
{
  gchar *first = iso_time (e->first_seen);
  gchar *last = iso_time (e->last_seen);
  gchar *sightings = g_strdup_printf ("%" G_GUINT64_FORMAT, e->sightings);
  gchar distance[G_ASCII_DTOSTR_BUF_SIZE];
  gchar *epoch = g_strdup_printf ("%" G_GUINT64_FORMAT, e->lease_epoch);
  const gchar *params[10];
  PGresult *res;

  g_ascii_dtostr (distance, sizeof distance, e->best_distance);
  params[0] = e->event_id;
  params[1] = e->student;
  params[2] = e->label;
  params[3] = e->camera_id;
  params[4] = e->session_key;
  params[5] = first;
  params[6] = last;
  params[7] = sightings;
  params[8] = distance;
  params[9] = epoch;
  res = sx_db_exec_prepared (db, UPSERT_STATEMENT, 10, params, error);
  g_free (epoch);
  g_free (first);
  g_free (last);
  g_free (sightings);
  return res;
}

/* Drops the first @n pending events (thread only; the length is read under
 * the lock by others, hence it). */
static void
forget_written (SxAttWriter *w, guint n)
{
  GError *error = NULL;
  SxAttEvent *last = g_ptr_array_index (w->pending, n - 1);
  gboolean ok;

  if (n == w->pending->len)
    ok = sx_spool_clear (w->spool, &error); /* compaction */
  else
    ok = sx_spool_ack (w->spool, last->event_id, &error);
  if (!ok) {
    /* The events stay in the file and are replayed next start, which the
     * event ids make harmless. */
    GST_WARNING ("%s", error->message);
    g_error_free (error);
  }
  g_mutex_lock (&w->conn->lock);
  g_ptr_array_remove_range (w->pending, 0, n);
  g_mutex_unlock (&w->conn->lock);
}

typedef enum {
  BATCH_DONE,       /* committed, or one refused event set aside */
  BATCH_RETRY,      /* isolating a refused event: again, one at a time */
  BATCH_CONNECTION, /* the connection failed: reconnect later */
} BatchResult;

/* One transaction of up to batch_size of @w's events. */
static BatchResult
write_batch (Connection *c, SxAttWriter *w)
{
  guint n = w->one_at_a_time ? 1 : MIN (w->batch_size, w->pending->len);
  guint i, written = 0, duplicates = 0, erased = 0, fenced = 0, pending;
  GPtrArray *added = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  if (!sx_db_command (c->db, "BEGIN", &error))
    goto failed;
  for (i = 0; i < n; i++) {
    SxAttEvent *e = g_ptr_array_index (w->pending, i);
    PGresult *res = upsert_event (c->db, e, &error);

    if (res == NULL)
      goto failed;
    if (g_str_equal (PQgetvalue (res, 0, 0), "0")) {
      duplicates++;
    } else if (g_str_equal (PQgetvalue (res, 0, 3), "1")) {
      fenced++;
    } else if (g_str_equal (PQgetvalue (res, 0, 2), "0")) {
      erased++;
    } else {
      written++;
      if (g_str_equal (PQgetvalue (res, 0, 1), "1"))
        g_ptr_array_add (added, g_strdup (e->student));
    }
    PQclear (res);
  }
  if (!sx_db_command (c->db, "COMMIT", &error))
    goto failed;

  forget_written (w, n);
  w->one_at_a_time = FALSE;
  g_mutex_lock (&c->lock);
  w->stats.events_written += written;
  w->stats.events_duplicate += duplicates;
  w->stats.events_erased += erased;
  w->stats.events_fenced += fenced;
  w->stats.students_added += added->len;
  w->stats.pending = pending = w->pending->len;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  for (i = 0; i < added->len; i++)
    w->callbacks.student_added (w->user_data, g_ptr_array_index (added, i));
  w->callbacks.written (w->user_data, written, duplicates, pending);
  g_ptr_array_unref (added);
  return BATCH_DONE;

failed:
  g_ptr_array_unref (added);
  if (sx_db_is_ok (c->db))
    sx_db_command (c->db, "ROLLBACK", NULL);
  if (sx_db_error_is_transient (error)) {
    /* Including a COMMIT whose answer was lost: the replay is safe. The
     * caller drops the connection and tells every writer. */
    set_last_error (w, error);
    g_error_free (error);
    return BATCH_CONNECTION;
  }
  if (n > 1) {
    /* Find the one event the server refuses; the others must not wait
     * behind it. */
    w->one_at_a_time = TRUE;
    g_error_free (error);
    return BATCH_RETRY;
  } else {
    SxAttEvent *e = g_ptr_array_index (w->pending, 0);

    GST_WARNING ("the database refused the attendance of "
                 "\"%s\" in session \"%s\"; kept in %s.rejected: %s",
                 e->student, e->session_key, sx_spool_get_path (w->spool),
                 error->message);
    sx_spool_reject (w->spool, e, error->message);
    set_last_error (w, error);
    forget_written (w, 1);
    g_mutex_lock (&c->lock);
    w->stats.events_rejected++;
    w->stats.pending = w->pending->len;
    g_mutex_unlock (&c->lock);
    w->callbacks.problem (w->user_data, error, FALSE);
    g_error_free (error);
    return BATCH_DONE;
  }
}

static gboolean
may_write (SxAttWriter *w, gint64 now)
{
  return w->pending->len > 0 && !w->stats.failed
         && !(w->stopping && now >= w->stop_deadline);
}

/* The writers take turns, a batch each, until none has events left (or
 * time: a stopping writer's deadline). The error of a failed connection
 * in @error. FALSE when the connection failed. */
static gboolean
write_pending (Connection *c, GPtrArray *writers, GError **error)
{
  gboolean progress = TRUE;
  while (progress) {
    progress = FALSE;
    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      if (!may_write (w, g_get_monotonic_time ()))
        continue;
      switch (write_batch (c, w)) {
        case BATCH_CONNECTION:
          g_set_error_literal (error, SX_DB_ERROR, SX_DB_ERROR_CONNECT,
                               w->stats.last_error ? w->stats.last_error
                                                   : "connection lost");
          return FALSE;
        case BATCH_DONE:
        case BATCH_RETRY:
          progress = TRUE;
          break;
      }
    }
  }
  return TRUE;
}

/* Best effort: without the table's rows the day rule names sessions. */
static void
refresh_timetable (Connection *c, SxAttWriter *w)
{
  GError *error = NULL;
  SxTimetable *timetable = sx_timetable_load (c->db, w->camera_id, &error);

  w->next_timetable = g_get_monotonic_time () + w->timetable_refresh;
  if (timetable == NULL) {
    w->callbacks.problem (w->user_data, error, FALSE);
    g_error_free (error);
    return;
  }
  w->callbacks.timetable (w->user_data, timetable);
  sx_timetable_unref (timetable);
}

/* Under lock: whether @w's sightings are collected this turn. */
static gboolean
collect_due (SxAttWriter *w, gint64 now)
{
  return now >= w->last_collect + w->flush_interval
         || w->flush_requested != w->flush_collected || w->stopping;
}

/* Under lock: whether @w can leave (its stop is done or timed out). */
static gboolean
may_retire (SxAttWriter *w, gint64 now)
{
  return w->stopping && g_hash_table_size (w->aggregates) == 0
         && (w->pending->len == 0 || w->stats.failed
             || now >= w->stop_deadline);
}

/* Under lock: when the thread must look again, with nothing asked. */
static gint64
next_wake (Connection *c, gint64 now)
{
  gint64 wake = G_MAXINT64;
  gboolean want_db = FALSE;
  for (guint i = 0; i < c->writers->len; i++) {
    SxAttWriter *w = c->writers->pdata[i];
    wake = MIN (wake, w->last_collect + w->flush_interval);
    if (w->stopping)
      wake = MIN (wake, w->stop_deadline);
    /* Connect at once, not at the first sighting: migrations run and a
     * wrong password is reported while someone is watching the start. */
    if ((w->pending->len > 0 || (c->db == NULL && !w->stopping))
        && !w->stats.failed)
      want_db = TRUE;
    if (c->db != NULL && !w->stopping)
      wake = MIN (wake, w->next_timetable);
  }
  if (want_db && !c->failed)
    wake = MIN (wake, c->next_attempt);
  return wake;
}

/* Under lock: something to do before the next wake. */
static gboolean
asked (Connection *c, gint64 now)
{
  if (c->quit)
    return TRUE;
  for (guint i = 0; i < c->writers->len; i++) {
    SxAttWriter *w = c->writers->pdata[i];
    if (w->flush_requested != w->flush_collected || may_retire (w, now)
        || (w->stopping && g_hash_table_size (w->aggregates) > 0))
      return TRUE;
  }
  return FALSE;
}

static gpointer
connection_thread (gpointer data)
{
  Connection *c = data;

  g_mutex_lock (&c->lock);
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    gint64 wake = next_wake (c, now);
    while (now < wake && !asked (c, now)) {
      g_cond_wait_until (&c->cond, &c->lock, wake);
      now = g_get_monotonic_time ();
      wake = next_wake (c, now);
    }
    if (c->quit && c->writers->len == 0)
      break;

    /* collect under the lock, spool outside it */
    GPtrArray *writers = snapshot_writers (c);
    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      w->serving = w->flush_requested;
      w->collected = collect_due (w, now) ? collect_events (w) : NULL;
      if (w->collected)
        w->last_collect = now;
    }
    g_mutex_unlock (&c->lock);

    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      GPtrArray *events = g_steal_pointer (&w->collected);
      if (events == NULL)
        continue;
      if (events->len > 0) {
        GError *error = NULL;
        guint n_events = events->len;

        if (!sx_spool_append (w->spool, events, &error)) {
          /* Still written to the database below if it is up; only a crash
           * before then would lose them, so say so loudly. */
          set_last_error (w, error);
          w->callbacks.problem (w->user_data, error, FALSE);
          g_error_free (error);
        }
        g_mutex_lock (&c->lock);
        while (events->len > 0)
          g_ptr_array_add (w->pending, g_ptr_array_steal_index (events, 0));
        w->stats.events_spooled += n_events;
        w->stats.pending = w->pending->len;
        g_mutex_unlock (&c->lock);
        w->callbacks.spooled (w->user_data, n_events, w->pending->len);
      }
      g_ptr_array_unref (events);
    }

    gboolean want_db = FALSE;
    now = g_get_monotonic_time ();
    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      if (!w->stats.failed
          && (may_write (w, now) || (c->db == NULL && !w->stopping)))
        want_db = TRUE;
    }
    if (want_db && !c->failed && now >= c->next_attempt
        && (c->db != NULL || connect_db (c, writers))) {
      GError *error = NULL;
      if (!write_pending (c, writers, &error)) {
        drop_connection (c);
        report_transient (c, writers, error);
        g_error_free (error);
      }
    }
    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      if (c->db != NULL && !w->stopping
          && g_get_monotonic_time () >= w->next_timetable)
        refresh_timetable (c, w);
    }

    g_mutex_lock (&c->lock);
    now = g_get_monotonic_time ();
    for (guint i = 0; i < writers->len; i++) {
      SxAttWriter *w = writers->pdata[i];
      w->flush_collected = w->serving;
      w->stats.pending = w->pending->len;
      if (may_retire (w, now)) {
        /* the thread never looks at it again: its stop frees it */
        g_ptr_array_remove (c->writers, w);
        w->exited = TRUE;
      }
    }
    g_ptr_array_unref (writers);
    g_cond_broadcast (&c->cond);
  }
  SxDb *db = g_steal_pointer (&c->db);
  g_mutex_unlock (&c->lock);
  sx_db_free (db);
  return NULL;
}

/* The connection for @config, created (with its thread) on first use. */
static Connection *
connection_acquire (const SxAttWriterConfig *config)
{
  const gchar *conninfo = config->conninfo ? config->conninfo : "";
  g_autofree gchar *key = g_strdup_printf ("%s\n%s\n%d", conninfo,
                                           config->schema, !!config->migrate);
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);
  Connection *c = g_hash_table_lookup (registry, key);
  if (c == NULL) {
    c = g_new0 (Connection, 1);
    c->key = g_steal_pointer (&key);
    c->conninfo = g_strdup (conninfo);
    c->schema = g_strdup (config->schema);
    c->migrate = config->migrate;
    g_mutex_init (&c->lock);
    g_cond_init (&c->cond);
    c->writers = g_ptr_array_new ();
    c->backoff = INITIAL_BACKOFF_US;
    c->next_attempt = 0;
    g_hash_table_insert (registry, c->key, c);
    c->thread = g_thread_new ("attendance-writer", connection_thread, c);
  }
  c->refs++;
  g_mutex_unlock (&registry_lock);
  return c;
}

static void
connection_release (Connection *c)
{
  g_mutex_lock (&registry_lock);
  gboolean last = --c->refs == 0;
  if (last)
    g_hash_table_remove (registry, c->key);
  g_mutex_unlock (&registry_lock);
  if (!last)
    return;
  g_mutex_lock (&c->lock);
  c->quit = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  g_thread_join (c->thread);
  g_ptr_array_unref (c->writers);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c->conninfo);
  g_free (c->schema);
  g_free (c->description);
  g_free (c->key);
  g_free (c);
}

SxAttWriter *
sx_att_writer_new (const SxAttWriterConfig *config, SxSpool *spool,
                   GPtrArray *replay, const SxAttWriterCallbacks *callbacks,
                   gpointer user_data)
{
  SxAttWriter *w = g_new0 (SxAttWriter, 1);

  w->camera_id = g_strdup (config->camera_id);
  w->timetable_refresh
      = (gint64)MAX (config->timetable_refresh_s, 1) * G_TIME_SPAN_SECOND;
  w->flush_interval = (gint64)config->flush_interval_ms * 1000;
  w->flush_timeout = (gint64)config->flush_timeout_ms * 1000;
  w->batch_size = MAX (config->batch_size, 1);
  w->max_backoff
      = MAX ((gint64)config->max_backoff_ms * 1000, INITIAL_BACKOFF_US);
  w->callbacks = *callbacks;
  w->user_data = user_data;
  w->aggregates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)aggregate_free);
  w->spool = spool;
  w->pending
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sx_att_event_free);
  while (replay->len > 0)
    g_ptr_array_add (w->pending, g_ptr_array_steal_index (replay, 0));
  w->stats.pending = w->pending->len;
  w->last_collect = g_get_monotonic_time ();

  w->conn = connection_acquire (config);
  Connection *c = w->conn;
  g_autofree gchar *description = NULL;
  g_mutex_lock (&c->lock);
  if (c->db != NULL) {
    w->stats.connected = TRUE;
    w->stats.connects++;
    description = g_strdup (c->description);
  }
  /* a newcomer may bring the database back from a fatal problem (the
   * password fixed since): try again, and replay its events right away */
  c->failed = FALSE;
  c->next_attempt = 0;
  if (c->db != NULL)
    w->next_timetable = 0;
  g_ptr_array_add (c->writers, w);
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->lock);
  if (description)
    w->callbacks.connected (w->user_data, description);
  return w;
}

gboolean
sx_att_writer_flush (SxAttWriter *w, guint timeout_ms)
{
  Connection *c = w->conn;
  gint64 deadline
      = g_get_monotonic_time () + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
  guint64 generation;
  gboolean done;

  g_mutex_lock (&c->lock);
  generation = ++w->flush_requested;
  g_cond_broadcast (&c->cond);
  while (!(w->flush_collected >= generation && w->stats.pending == 0)
         && !w->stats.failed && !w->exited)
    if (!g_cond_wait_until (&c->cond, &c->lock, deadline))
      break;
  done = w->flush_collected >= generation && w->stats.pending == 0;
  g_mutex_unlock (&c->lock);
  return done;
}

void
sx_att_writer_free (SxAttWriter *w, SxAttWriterStats *final_stats)
{
  if (w == NULL)
    return;
  Connection *c = w->conn;
  g_mutex_lock (&c->lock);
  w->stopping = TRUE;
  w->stop_deadline = g_get_monotonic_time () + w->flush_timeout;
  g_cond_broadcast (&c->cond);
  /* A statement stuck on a server that stopped answering would hold the
   * thread past the deadline: cancel it (connects are bounded by
   * connect_timeout). The statement may be another sink's batch: it is
   * retried after the reconnect, which the event ids make safe. */
  gint64 grace = w->stop_deadline + 500 * G_TIME_SPAN_MILLISECOND;
  while (!w->exited)
    if (!g_cond_wait_until (&c->cond, &c->lock, grace))
      break;
  if (!w->exited && c->db != NULL)
    sx_db_cancel (c->db);
  while (!w->exited)
    g_cond_wait (&c->cond, &c->lock);
  if (final_stats != NULL) {
    *final_stats = w->stats;
    final_stats->last_error = g_strdup (w->stats.last_error);
  }
  g_mutex_unlock (&c->lock);
  connection_release (c);

  if (w->pending->len > 0)
    GST_INFO ("%u attendance events stay in %s for the "
              "next start",
              w->pending->len, sx_spool_get_path (w->spool));
  sx_spool_close (w->spool);
  g_ptr_array_unref (w->pending);
  g_hash_table_unref (w->aggregates);
  g_free (w->stats.last_error);
  g_free (w->camera_id);
  g_free (w);
}

void
sx_att_writer_get_stats (SxAttWriter *w, SxAttWriterStats *stats)
{
  g_mutex_lock (&w->conn->lock);
  *stats = w->stats;
  stats->last_error = g_strdup (w->stats.last_error);
  g_mutex_unlock (&w->conn->lock);
}
