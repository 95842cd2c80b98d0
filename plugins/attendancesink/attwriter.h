/* surveillx-gst — attendancesink's writer: one sink's aggregate, spool
 * and pending events, written over a database connection shared per
 * process.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The streaming thread only adds sightings to an in-memory aggregate (one
 * entry per student and session, under a mutex held for a hash lookup).
 * Every flush-interval the writer thread turns the aggregate into events,
 * appends them to the spool (fsync), then sends the spool's pending events
 * to PostgreSQL in order, batch-size per transaction, reconnecting with
 * exponential backoff. Every sink of a process with the same conninfo,
 * schema and migrate setting shares that thread and its one connection;
 * the sinks take turns a batch at a time, and a problem of the connection
 * reaches each of them. The element adapts the callbacks.
 */
#ifndef SX_ATT_WRITER_H
#define SX_ATT_WRITER_H

#include <glib.h>

#include "spool.h"
#include "timetable.h"

G_BEGIN_DECLS

typedef struct {
  const gchar *conninfo;
  const gchar *schema;
  const gchar *camera_id; /* whose timetable to read */
  gboolean migrate;
  guint flush_interval_ms;
  guint flush_timeout_ms;
  guint batch_size;
  guint max_backoff_ms;
  guint timetable_refresh_s; /* re-read the timetable this often */
} SxAttWriterConfig;

/* Called from the writer thread. */
typedef struct {
  void (*connected) (gpointer user_data, const gchar *description);
  void (*spooled) (gpointer user_data, guint n_events, guint n_pending);
  void (*written) (gpointer user_data, guint n_written, guint n_duplicates,
                   guint n_pending);
  void (*student_added) (gpointer user_data, const gchar *external_id);
  /* @fatal: configuration the writer cannot retry past (bad password,
   * missing schema); events stay in the spool for the next start. Transient
   * problems are reported once per outage. */
  void (*problem) (gpointer user_data, const GError *error, gboolean fatal);
  /* Not a problem, worth a line in the log (sxdb's notices). */
  void (*notice) (gpointer user_data, const gchar *message);
  /* The camera's timetable, read at each connect and every
   * timetable_refresh_s while connected (the callee takes a reference if it
   * keeps it). */
  void (*timetable) (gpointer user_data, SxTimetable *timetable);
} SxAttWriterCallbacks;

typedef struct {
  guint64 sightings; /* accepted faces */
  guint64 events_spooled;
  guint64 events_written;
  guint64 events_duplicate; /* replayed events the database already had */
  guint64 events_rejected;
  guint64 events_erased; /* the student was erased after the sighting */
  guint64 events_fenced; /* the camera had been taken by a later lease */
  guint64 students_added;
  guint64 connects;
  guint pending; /* spooled, not yet in the database */
  gboolean connected;
  gboolean failed;   /* gave up on the database (fatal problem) */
  gchar *last_error; /* free it */
} SxAttWriterStats;

typedef struct _SxAttWriter SxAttWriter;

/* Takes @spool and the events @replay holds (from sx_spool_open) and starts
 * the thread, which writes the replayed events first. */
SxAttWriter *sx_att_writer_new (const SxAttWriterConfig *config, SxSpool *spool,
                                GPtrArray *replay,
                                const SxAttWriterCallbacks *callbacks,
                                gpointer user_data);

void sx_att_writer_add_sighting (SxAttWriter *writer, const gchar *student,
                                 const gchar *label, const gchar *camera_id,
                                 const gchar *session_key, gint64 when_us,
                                 gdouble distance);

/* Waits, at most @timeout_ms, until every sighting added so far is in the
 * database. TRUE when it is. */
/* The camera's lease (sql/003_registry.sql) for the events made from now
 * on; 0: none. Any thread. */
void sx_att_writer_set_lease_epoch (SxAttWriter *writer, guint64 epoch);

gboolean sx_att_writer_flush (SxAttWriter *writer, guint timeout_ms);

/* Flushes within flush-timeout, stops the thread, closes the spool (what
 * is not written stays there) and frees the writer. @final_stats (may be
 * NULL) receives the counters after the last flush. */
void sx_att_writer_free (SxAttWriter *writer, SxAttWriterStats *final_stats);

void sx_att_writer_get_stats (SxAttWriter *writer, SxAttWriterStats *stats);

G_END_DECLS

#endif /* SX_ATT_WRITER_H */
