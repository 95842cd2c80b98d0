/* surveillx-gst — the SQL migrations embedded by sxdb-embed.py.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_DB_MIGRATIONS_H
#define SX_DB_MIGRATIONS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint version;     /* NNN of sql/NNN_name.sql: 1, 2, ... */
  const gchar *name; /* the name part */
  const gchar *sql;  /* the file's text, run as one PQexec */
} SxDbMigration;

/* Sorted by version, without gaps. */
extern const SxDbMigration sx_db_migrations[];
extern const guint sx_db_n_migrations;

G_END_DECLS

#endif /* SX_DB_MIGRATIONS_H */
