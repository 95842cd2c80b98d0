/* surveillx-gst — lessons in progress (timetable.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "timetable.h"

#include <stdlib.h>

typedef struct {
  gint weekday; /* ISO 8601: 1 = Monday */
  gint starts;  /* seconds after midnight */
  gint ends;
  gchar *lesson_id;
} Lesson;

struct _SxTimetable {
  gatomicrefcount refcount;
  GArray *lessons; /* Lesson, by weekday then start */
};

static void
lesson_clear (gpointer data)
{
  g_free (((Lesson *)data)->lesson_id);
}

SxTimetable *
sx_timetable_load (SxDb *db, const gchar *camera_id, GError **error)
{
  const gchar *params[] = { camera_id };
  PGresult *res = sx_db_exec (
      db,
      "SELECT weekday, extract(epoch FROM starts)::integer,"
      " extract(epoch FROM ends)::integer, lesson_id FROM timetable"
      " WHERE camera_id = $1 ORDER BY weekday, starts, id",
      1, params, error);
  if (!res)
    return NULL;

  SxTimetable *timetable = g_new0 (SxTimetable, 1);
  g_atomic_ref_count_init (&timetable->refcount);
  timetable->lessons = g_array_new (FALSE, FALSE, sizeof (Lesson));
  g_array_set_clear_func (timetable->lessons, lesson_clear);
  for (gint row = 0; row < PQntuples (res); row++) {
    Lesson lesson = {
      .weekday = atoi (PQgetvalue (res, row, 0)),
      .starts = atoi (PQgetvalue (res, row, 1)),
      .ends = atoi (PQgetvalue (res, row, 2)),
      .lesson_id = g_strdup (PQgetvalue (res, row, 3)),
    };
    g_array_append_val (timetable->lessons, lesson);
  }
  PQclear (res);
  return timetable;
}

SxTimetable *
sx_timetable_ref (SxTimetable *timetable)
{
  g_atomic_ref_count_inc (&timetable->refcount);
  return timetable;
}

void
sx_timetable_unref (SxTimetable *timetable)
{
  if (timetable && g_atomic_ref_count_dec (&timetable->refcount)) {
    g_array_unref (timetable->lessons);
    g_free (timetable);
  }
}

guint
sx_timetable_n_lessons (SxTimetable *timetable)
{
  return timetable->lessons->len;
}

const gchar *
sx_timetable_lesson_at (SxTimetable *timetable, GDateTime *local_time)
{
  gint weekday = g_date_time_get_day_of_week (local_time);
  gint second = g_date_time_get_hour (local_time) * 3600
                + g_date_time_get_minute (local_time) * 60
                + g_date_time_get_second (local_time);

  /* sorted by start: the first match started earliest */
  for (guint i = 0; i < timetable->lessons->len; i++) {
    const Lesson *l = &g_array_index (timetable->lessons, Lesson, i);
    if (l->weekday == weekday && l->starts <= second && second < l->ends)
      return l->lesson_id;
  }
  return NULL;
}
