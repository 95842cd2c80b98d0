/* surveillx-gst — attendancesink's local spool of attendance events.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A write-ahead log: every event is appended (and fsync'd) before the
 * writer tries the database, so neither an outage nor a crash loses it.
 * One JSON object per line, readable with `cat`:
 *   {"event":"<uuid>","student":..,"label":..,"camera":..,"session":..,
 *    "first":<unix us>,"last":<unix us>,"sightings":n,"distance":d,
 *    "epoch":n}   (epoch only when the camera holds a lease)
 *   {"ack":"<uuid>"}   every event up to and including <uuid> is in the DB
 * When nothing is pending the file is truncated (compaction). Replaying an
 * event that did reach the database is harmless: its id makes the upsert a
 * no-op. The file is flock'ed: one sink per spool.
 */
#ifndef SX_SPOOL_H
#define SX_SPOOL_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gchar *event_id; /* random UUID: makes the database write idempotent */
  gchar *student;  /* external id, as facerecog's "id" */
  gchar *label;    /* facerecog's label: the name if we must add the student */
  gchar *camera_id;
  gchar *session_key;
  gint64 first_seen; /* wall clock, microseconds since the Unix epoch */
  gint64 last_seen;
  guint64 sightings;
  gdouble best_distance;
  /* the camera's lease when the event was made (sql/003_registry.sql); 0:
   * no registry, never fenced */
  guint64 lease_epoch;
} SxAttEvent;

SxAttEvent *sx_att_event_new (void);
void sx_att_event_free (SxAttEvent *event);

typedef struct _SxSpool SxSpool;

/* Opens (creating it and its folder) and locks the spool; fills @pending
 * (SxAttEvent, owned by the array) with the events not yet acknowledged, in
 * the order they were written. A torn last line (crash mid-write) is
 * dropped with a warning; so is any unreadable line. */
SxSpool *sx_spool_open (const gchar *path, GPtrArray *pending, GError **error);
void sx_spool_close (SxSpool *spool);
const gchar *sx_spool_get_path (SxSpool *spool);

/* Appends and fsyncs; on failure the file is cut back to where it was. */
gboolean sx_spool_append (SxSpool *spool, GPtrArray *events, GError **error);
/* Records that every event up to @event_id is stored (not fsync'd: losing
 * an ack only means a harmless replay). */
gboolean sx_spool_ack (SxSpool *spool, const gchar *event_id, GError **error);
/* Nothing pending: empty the file. */
gboolean sx_spool_clear (SxSpool *spool, GError **error);
/* Appends an event the database refused for good to <path>.rejected, so a
 * person can look at it; best effort. */
void sx_spool_reject (SxSpool *spool, const SxAttEvent *event,
                      const gchar *reason);

G_END_DECLS

#endif /* SX_SPOOL_H */
