/* surveillx-gst — the lessons one camera's room holds in a week, and which
 * one is in progress at a given local time.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loaded from the timetable table (sql/002_privacy.sql) by the writer
 * thread, read by the streaming thread: immutable once loaded, shared by
 * reference.
 */
#ifndef SX_TIMETABLE_H
#define SX_TIMETABLE_H

#include "sxdb.h"

G_BEGIN_DECLS

typedef struct _SxTimetable SxTimetable;

SxTimetable *sx_timetable_load (SxDb *db, const gchar *camera_id,
                                GError **error);
SxTimetable *sx_timetable_ref (SxTimetable *timetable);
void sx_timetable_unref (SxTimetable *timetable);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxTimetable, sx_timetable_unref)

guint sx_timetable_n_lessons (SxTimetable *timetable);

/* The lesson in progress at @local_time (start inclusive, end exclusive),
 * the earliest-starting if several overlap; NULL between lessons. */
const gchar *sx_timetable_lesson_at (SxTimetable *timetable,
                                     GDateTime *local_time);

G_END_DECLS

#endif /* SX_TIMETABLE_H */
