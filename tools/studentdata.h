/* surveillx-gst — a student's data through its life in the database:
 * consent, withdrawal, removal and erasure, the subject-access export,
 * retention, lesson registers, and the audit log every change writes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain GLib + sxdb. Each call is one transaction that also writes its
 * audit_log row (docs/privacy.md): who (@actor, and the database role),
 * when, what, whose, counts only, never a descriptor.
 */
#ifndef SX_STUDENT_DATA_H
#define SX_STUDENT_DATA_H

#include "sxdb.h"

G_BEGIN_DECLS

/* Writes one audit row inside the caller's transaction. @detail_json: a
 * JSON object, or NULL for {}. */
gboolean sx_audit (SxDb *db, const gchar *actor, const gchar *action,
                   const gchar *external_id, const gchar *detail_json,
                   GError **error);

/* Records consent for an enrolled student (e.g. one enrolled before consent
 * was recorded, or consenting again after a withdrawal), given on @given (a
 * date PostgreSQL reads) or now when NULL. */
gboolean sx_student_consent (SxDb *db, const gchar *actor,
                             const gchar *external_id, const gchar *source,
                             const gchar *given, GError **error);

/* Withdraws consent: the descriptors are deleted at once (every running
 * recogniser reloads on the NOTIFY and stops naming the student); the
 * student row and past attendance stay. */
gboolean sx_student_withdraw (SxDb *db, const gchar *actor,
                              const gchar *external_id, guint *n_descriptors,
                              GError **error);

/* Ends an enrolment: descriptors deleted, the student inactive, attendance
 * kept. With @purge the student is erased instead: the row, descriptors,
 * attendance and lesson places; sightings still spooled by a camera from
 * before now are dropped when they reach the database. */
gboolean sx_student_remove (SxDb *db, const gchar *actor,
                            const gchar *external_id, gboolean purge,
                            guint *n_descriptors, guint *n_attendance,
                            GError **error);

/* Everything held about one student, as a JSON document (subject access):
 * the student row with consent, descriptors, attendance, lesson places and
 * the audit entries about them. */
gchar *sx_student_export (SxDb *db, const gchar *actor,
                          const gchar *external_id, GError **error);

/* Deletes attendance last seen, and event ids applied, more than @days
 * days ago. */
gboolean sx_retention_apply (SxDb *db, const gchar *actor, guint days,
                             guint64 *n_attendance, guint64 *n_events,
                             GError **error);

G_END_DECLS

#endif /* SX_STUDENT_DATA_H */
