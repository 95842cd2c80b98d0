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
 *  added:  inserts a student we have never heard of (docs/database.md);
 *  upsert: the attendance row. The main query cannot see rows its own CTEs
 *  inserted, hence COALESCE over added's RETURNING. One row: whether the
 *  event was new, whether the student was added, whether a row was
 *  written (a new event not written was erased). */
static const gchar upsert_sql[]
    = "WITH ev AS ("
      "  INSERT INTO attendance_events (event_id) VALUES ($1::uuid)"
      "  ON CONFLICT DO NOTHING RETURNING event_id),"
      " erased AS (SELECT 1 FROM erased_students e"
      "  WHERE e.external_id = $2 AND (e.erased >= $7::timestamptz"
      "   OR NOT EXISTS (SELECT 1 FROM students s"
      "    WHERE s.external_id = $2))),"
      " added AS ("
      "  INSERT INTO students (external_id, name)"
      "  SELECT $2, $3 WHERE EXISTS (SELECT 1 FROM ev)"
      "   AND NOT EXISTS (SELECT 1 FROM erased)"
      "  ON CONFLICT (external_id) DO NOTHING RETURNING id),"
      " upsert AS ("
      "  INSERT INTO attendance AS a (student, camera_id, session_key,"
      "   first_seen, last_seen, sightings, best_distance)"
      "  SELECT COALESCE((SELECT id FROM added),"
      "    (SELECT id FROM students WHERE external_id = $2)),"
      "   $4, $5, $6::timestamptz, $7::timestamptz, $8::bigint, $9::float8"
      "  WHERE EXISTS (SELECT 1 FROM ev) AND NOT EXISTS (SELECT 1 FROM erased)"
      "  ON CONFLICT (student, session_key) DO UPDATE SET"
      "   first_seen = LEAST(a.first_seen, EXCLUDED.first_seen),"
      "   last_seen = GREATEST(a.last_seen, EXCLUDED.last_seen),"
      "   sightings = a.sightings + EXCLUDED.sightings,"
      "   best_distance = LEAST(a.best_distance, EXCLUDED.best_distance)"
      "  RETURNING 1)"
      " SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM added),"
      "  (SELECT count(*) FROM upsert)";

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

struct _SxAttWriter {
  /* fixed at creation */
  gchar *conninfo;
  gchar *schema;
  gchar *camera_id;
  gboolean migrate;
  gint64 flush_interval; /* us */
  gint64 flush_timeout;  /* us */
  guint batch_size;
  gint64 max_backoff;       /* us */
  gint64 timetable_refresh; /* us */
  SxAttWriterCallbacks callbacks;
  gpointer user_data;
  GThread *thread;

  GMutex lock;
  GCond cond;
  /* under lock: shared with the streaming and application threads */
  GHashTable *aggregates;  /* "session\nstudent" -> Aggregate */
  guint64 flush_requested; /* generation asked for by flush() */
  guint64 flush_collected; /* generation whose sightings are spooled */
  gboolean stopping;
  gint64 stop_deadline; /* monotonic us */
  gboolean exited;
  SxAttWriterStats stats;
  SxDb *db; /* set/cleared by the thread, read by
             * free() to cancel a hung statement */

  /* writer thread only */
  SxSpool *spool;
  GPtrArray *pending; /* SxAttEvent, spool order */
  gint64 next_attempt;
  gint64 backoff;
  gboolean in_outage;
  gboolean one_at_a_time; /* isolating a statement the server refuses */
  gint64 next_timetable;  /* monotonic us */
};

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

  g_mutex_lock (&w->lock);
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
  g_mutex_unlock (&w->lock);
  g_free (key);
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
    g_ptr_array_add (events, e);
  }
  g_hash_table_remove_all (w->aggregates);
  return events;
}

static void
set_last_error (SxAttWriter *w, const GError *error)
{
  g_mutex_lock (&w->lock);
  g_free (w->stats.last_error);
  w->stats.last_error = g_strdup (error->message);
  g_mutex_unlock (&w->lock);
}

static void
drop_connection (SxAttWriter *w)
{
  SxDb *db;

  g_mutex_lock (&w->lock);
  db = w->db;
  w->db = NULL;
  w->stats.connected = FALSE;
  g_mutex_unlock (&w->lock);
  sx_db_free (db);
}

static void
report_transient (SxAttWriter *w, const GError *error)
{
  gint64 now = g_get_monotonic_time ();

  set_last_error (w, error);
  w->next_attempt = now + w->backoff;
  w->backoff = MIN (w->backoff * 2, w->max_backoff);
  if (!w->in_outage) {
    w->in_outage = TRUE;
    w->callbacks.problem (w->user_data, error, FALSE);
  }
}

static void
report_fatal (SxAttWriter *w, const GError *error)
{
  set_last_error (w, error);
  g_mutex_lock (&w->lock);
  w->stats.failed = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  w->callbacks.problem (w->user_data, error, TRUE);
}

static gboolean
is_failed (SxAttWriter *w)
{
  gboolean failed;

  g_mutex_lock (&w->lock);
  failed = w->stats.failed;
  g_mutex_unlock (&w->lock);
  return failed;
}

static void
pass_db_notice (const gchar *message, gpointer user_data)
{
  SxAttWriter *w = user_data;
  w->callbacks.notice (w->user_data, message);
}

static gboolean
connect_db (SxAttWriter *w)
{
  GError *error = NULL;
  SxDb *db = sx_db_connect (w->conninfo, w->schema, &error);
  PGresult *res;

  if (db == NULL)
    goto failed;
  sx_db_set_notice_func (db, pass_db_notice, w);
  if (!(w->migrate ? sx_db_migrate (db, &error)
                   : sx_db_check_version (db, &error)))
    goto failed;
  if (!sx_db_prepare (db, UPSERT_STATEMENT, upsert_sql, 9, &error))
    goto failed;
  /* Best effort housekeeping; a failure here must not stop attendance. */
  res = sx_db_exec (db,
                    "DELETE FROM attendance_events WHERE applied < "
                    "now() - interval '" EVENT_RETENTION "'",
                    0, NULL, NULL);
  if (res != NULL)
    PQclear (res);

  g_mutex_lock (&w->lock);
  w->db = db;
  w->stats.connected = TRUE;
  w->stats.connects++;
  g_mutex_unlock (&w->lock);
  w->in_outage = FALSE;
  w->backoff = INITIAL_BACKOFF_US;
  w->callbacks.connected (w->user_data, sx_db_get_description (db));
  w->next_timetable = 0; /* read it now */
  return TRUE;

failed:
  sx_db_free (db);
  if (sx_db_error_is_transient (error))
    report_transient (w, error);
  else
    report_fatal (w, error);
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
upsert_event (SxAttWriter *w, const SxAttEvent *e, GError **error)
{
  gchar *first = iso_time (e->first_seen);
  gchar *last = iso_time (e->last_seen);
  gchar *sightings = g_strdup_printf ("%" G_GUINT64_FORMAT, e->sightings);
  gchar distance[G_ASCII_DTOSTR_BUF_SIZE];
  const gchar *params[9];
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
  res = sx_db_exec_prepared (w->db, UPSERT_STATEMENT, 9, params, error);
  g_free (first);
  g_free (last);
  g_free (sightings);
  return res;
}

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
  g_ptr_array_remove_range (w->pending, 0, n);
}

/* One transaction of up to batch_size events. FALSE: stop for now. */
static gboolean
write_batch (SxAttWriter *w)
{
  guint n = w->one_at_a_time ? 1 : MIN (w->batch_size, w->pending->len);
  guint i, written = 0, duplicates = 0, erased = 0, pending;
  GPtrArray *added = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  if (!sx_db_command (w->db, "BEGIN", &error))
    goto failed;
  for (i = 0; i < n; i++) {
    SxAttEvent *e = g_ptr_array_index (w->pending, i);
    PGresult *res = upsert_event (w, e, &error);

    if (res == NULL)
      goto failed;
    if (g_str_equal (PQgetvalue (res, 0, 0), "0")) {
      duplicates++;
    } else if (g_str_equal (PQgetvalue (res, 0, 2), "0")) {
      erased++;
    } else {
      written++;
      if (g_str_equal (PQgetvalue (res, 0, 1), "1"))
        g_ptr_array_add (added, g_strdup (e->student));
    }
    PQclear (res);
  }
  if (!sx_db_command (w->db, "COMMIT", &error))
    goto failed;

  forget_written (w, n);
  w->one_at_a_time = FALSE;
  g_mutex_lock (&w->lock);
  w->stats.events_written += written;
  w->stats.events_duplicate += duplicates;
  w->stats.events_erased += erased;
  w->stats.students_added += added->len;
  w->stats.pending = pending = w->pending->len;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  for (i = 0; i < added->len; i++)
    w->callbacks.student_added (w->user_data, g_ptr_array_index (added, i));
  w->callbacks.written (w->user_data, written, duplicates, pending);
  g_ptr_array_unref (added);
  return TRUE;

failed:
  g_ptr_array_unref (added);
  if (sx_db_is_ok (w->db))
    sx_db_command (w->db, "ROLLBACK", NULL);
  if (sx_db_error_is_transient (error)) {
    /* Including a COMMIT whose answer was lost: the replay is safe. */
    drop_connection (w);
    report_transient (w, error);
    g_error_free (error);
    return FALSE;
  }
  if (n > 1) {
    /* Find the one event the server refuses; the others must not wait
     * behind it. */
    w->one_at_a_time = TRUE;
    g_error_free (error);
    return TRUE;
  } else {
    SxAttEvent *e = g_ptr_array_index (w->pending, 0);

    GST_WARNING ("the database refused the attendance of "
                 "\"%s\" in session \"%s\"; kept in %s.rejected: %s",
                 e->student, e->session_key, sx_spool_get_path (w->spool),
                 error->message);
    sx_spool_reject (w->spool, e, error->message);
    set_last_error (w, error);
    forget_written (w, 1);
    g_mutex_lock (&w->lock);
    w->stats.events_rejected++;
    w->stats.pending = w->pending->len;
    g_mutex_unlock (&w->lock);
    w->callbacks.problem (w->user_data, error, FALSE);
    g_error_free (error);
    return TRUE;
  }
}

static void
write_pending (SxAttWriter *w, gint64 deadline)
{
  if (w->db == NULL && !connect_db (w))
    return;
  while (w->pending->len > 0) {
    if (!write_batch (w))
      return;
    if (deadline > 0 && g_get_monotonic_time () >= deadline)
      return;
  }
}

/* Best effort: without the table's rows the day rule names sessions. */
static void
refresh_timetable (SxAttWriter *w)
{
  GError *error = NULL;
  SxTimetable *timetable = sx_timetable_load (w->db, w->camera_id, &error);

  w->next_timetable = g_get_monotonic_time () + w->timetable_refresh;
  if (timetable == NULL) {
    w->callbacks.problem (w->user_data, error, FALSE);
    g_error_free (error);
    return;
  }
  w->callbacks.timetable (w->user_data, timetable);
  sx_timetable_unref (timetable);
}

static gpointer
writer_thread (gpointer data)
{
  SxAttWriter *w = data;
  gint64 last_collect = g_get_monotonic_time ();

  g_mutex_lock (&w->lock);
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    gint64 wake = last_collect + w->flush_interval;
    /* Connect at once, not at the first sighting: migrations run and a
     * wrong password is reported while someone is watching the start. */
    gboolean can_write
        = (w->pending->len > 0 || w->db == NULL) && !w->stats.failed;
    guint64 serving;
    GPtrArray *events;

    if (can_write && w->next_attempt < wake)
      wake = w->next_attempt;
    if (w->stopping)
      wake = MIN (wake, w->stop_deadline);
    while (now < wake && w->flush_requested == w->flush_collected
           && !(w->stopping && (w->pending->len == 0 || !can_write))) {
      g_cond_wait_until (&w->cond, &w->lock, wake);
      now = g_get_monotonic_time ();
      if (w->stopping)
        wake = MIN (wake, w->stop_deadline);
    }
    serving = w->flush_requested;
    events = collect_events (w);
    g_mutex_unlock (&w->lock);

    last_collect = now;
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
      while (events->len > 0)
        g_ptr_array_add (w->pending, g_ptr_array_steal_index (events, 0));
      g_mutex_lock (&w->lock);
      w->stats.events_spooled += n_events;
      w->stats.pending = w->pending->len;
      g_mutex_unlock (&w->lock);
      w->callbacks.spooled (w->user_data, n_events, w->pending->len);
    }
    g_ptr_array_unref (events);

    if ((w->pending->len > 0 || (w->db == NULL && !w->stopping))
        && !is_failed (w) && g_get_monotonic_time () >= w->next_attempt)
      write_pending (w, w->stopping ? w->stop_deadline : 0);
    if (w->db != NULL && !w->stopping
        && g_get_monotonic_time () >= w->next_timetable)
      refresh_timetable (w);

    g_mutex_lock (&w->lock);
    w->flush_collected = serving;
    w->stats.pending = w->pending->len;
    g_cond_broadcast (&w->cond);
    if (w->stopping && g_hash_table_size (w->aggregates) == 0
        && (w->pending->len == 0 || w->stats.failed
            || g_get_monotonic_time () >= w->stop_deadline))
      break;
  }
  w->exited = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  drop_connection (w);
  return NULL;
}

SxAttWriter *
sx_att_writer_new (const SxAttWriterConfig *config, SxSpool *spool,
                   GPtrArray *replay, const SxAttWriterCallbacks *callbacks,
                   gpointer user_data)
{
  SxAttWriter *w = g_new0 (SxAttWriter, 1);

  w->conninfo = g_strdup (config->conninfo ? config->conninfo : "");
  w->schema = g_strdup (config->schema);
  w->camera_id = g_strdup (config->camera_id);
  w->timetable_refresh
      = (gint64)MAX (config->timetable_refresh_s, 1) * G_TIME_SPAN_SECOND;
  w->migrate = config->migrate;
  w->flush_interval = (gint64)config->flush_interval_ms * 1000;
  w->flush_timeout = (gint64)config->flush_timeout_ms * 1000;
  w->batch_size = MAX (config->batch_size, 1);
  w->max_backoff
      = MAX ((gint64)config->max_backoff_ms * 1000, INITIAL_BACKOFF_US);
  w->callbacks = *callbacks;
  w->user_data = user_data;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->aggregates = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)aggregate_free);
  w->spool = spool;
  w->pending
      = g_ptr_array_new_with_free_func ((GDestroyNotify)sx_att_event_free);
  while (replay->len > 0)
    g_ptr_array_add (w->pending, g_ptr_array_steal_index (replay, 0));
  w->stats.pending = w->pending->len;
  w->backoff = INITIAL_BACKOFF_US;
  w->next_attempt = 0; /* replay right away */
  w->thread = g_thread_new ("attendance-writer", writer_thread, w);
  return w;
}

gboolean
sx_att_writer_flush (SxAttWriter *w, guint timeout_ms)
{
  gint64 deadline
      = g_get_monotonic_time () + (gint64)timeout_ms * G_TIME_SPAN_MILLISECOND;
  guint64 generation;
  gboolean done;

  g_mutex_lock (&w->lock);
  generation = ++w->flush_requested;
  g_cond_broadcast (&w->cond);
  while (!(w->flush_collected >= generation && w->stats.pending == 0)
         && !w->stats.failed && !w->exited)
    if (!g_cond_wait_until (&w->cond, &w->lock, deadline))
      break;
  done = w->flush_collected >= generation && w->stats.pending == 0;
  g_mutex_unlock (&w->lock);
  return done;
}

void
sx_att_writer_free (SxAttWriter *w, SxAttWriterStats *final_stats)
{
  gint64 grace;

  if (w == NULL)
    return;
  g_mutex_lock (&w->lock);
  w->stopping = TRUE;
  w->stop_deadline = g_get_monotonic_time () + w->flush_timeout;
  g_cond_broadcast (&w->cond);
  /* A statement stuck on a server that stopped answering would hold the
   * thread past the deadline: cancel it (connects are bounded by
   * connect_timeout). */
  grace = w->stop_deadline + 500 * G_TIME_SPAN_MILLISECOND;
  while (!w->exited)
    if (!g_cond_wait_until (&w->cond, &w->lock, grace))
      break;
  if (!w->exited && w->db != NULL)
    sx_db_cancel (w->db);
  g_mutex_unlock (&w->lock);
  g_thread_join (w->thread);
  if (final_stats != NULL)
    sx_att_writer_get_stats (w, final_stats);

  if (w->pending->len > 0)
    GST_INFO ("%u attendance events stay in %s for the "
              "next start",
              w->pending->len, sx_spool_get_path (w->spool));
  sx_spool_close (w->spool);
  g_ptr_array_unref (w->pending);
  g_hash_table_unref (w->aggregates);
  g_free (w->stats.last_error);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w->conninfo);
  g_free (w->schema);
  g_free (w->camera_id);
  g_free (w);
}

void
sx_att_writer_get_stats (SxAttWriter *w, SxAttWriterStats *stats)
{
  g_mutex_lock (&w->lock);
  *stats = w->stats;
  stats->last_error = g_strdup (w->stats.last_error);
  g_mutex_unlock (&w->lock);
}
