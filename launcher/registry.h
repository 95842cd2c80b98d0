/* The launchers' camera registry in PostgreSQL (sql/003_registry.sql):
 * which launcher holds which camera, and where a full launcher sends
 * newcomers. SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One connection and one thread per launcher. Takes, renewals and
 * releases run there, so a slow or absent database never holds up an
 * answer; the results come back on the main context. While the database is
 * away the thread reconnects with backoff and cameras keep streaming
 * (their attendance spooled); takes queued meanwhile are done when it
 * returns.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const gchar *conninfo;    /* "" : libpq's PG* environment */
  const gchar *schema;      /* the attendance schema: the sinks' fence reads
                               its camera_leases */
  const gchar *launcher_id; /* unique among the launchers */
  const gchar *url;         /* where cameras reach this launcher ("" : none;
                               then nobody redirects to it) */
  guint capacity;           /* --max-cameras */
  guint lease_ms;           /* a lease lasts this long unrenewed; renewed
                               every third of it */
} SxRegistryOptions;

typedef struct _SxRegistry SxRegistry;

/* Main context: @camera_id lost its lease @epoch to a later take (the
 * camera reconnected to another launcher). */
typedef void (*SxRegistryLostFunc) (const gchar *camera_id, guint64 epoch,
                                    gpointer user_data);

/* Main context: the take of @camera_id got @epoch (not called when the
 * database refused the take for good: logged, the camera streams without
 * a lease). */
typedef void (*SxRegistryTakenFunc) (const gchar *camera_id, guint64 epoch,
                                     gpointer user_data);

/* Checks the options (not the database: that is retried) and starts the
 * thread. Callbacks run on the thread-default main context of the caller. */
SxRegistry *sx_registry_new (const SxRegistryOptions *options,
                             SxRegistryLostFunc lost, gpointer user_data,
                             GError **error);

/* Takes @camera_id for this launcher (ending whoever held it); @taken is
 * called with the epoch, then owns @data (@destroy afterwards, and also
 * when the registry is freed first). */
void sx_registry_take (SxRegistry *reg, const gchar *camera_id,
                       SxRegistryTakenFunc taken, gpointer data,
                       GDestroyNotify destroy);

/* Ends the lease @epoch of @camera_id (the camera left). */
void sx_registry_release (SxRegistry *reg, const gchar *camera_id,
                          guint64 epoch, const gchar *reason);

/* Cameras held now, written at the next heartbeat. */
void sx_registry_set_load (SxRegistry *reg, guint cameras);

/* The URL of another live launcher with room (as of the last heartbeat),
 * or NULL. */
gchar *sx_registry_dup_redirect (SxRegistry *reg);

/* Whether the thread is connected now; @launcher_id for /healthz. */
gboolean sx_registry_is_connected (SxRegistry *reg);
const gchar *sx_registry_get_launcher_id (SxRegistry *reg);

/* Ends every lease still held and marks this launcher gone (bounded: a
 * database that does not answer is given up on), then stops the thread. */
void sx_registry_free (SxRegistry *reg);

G_END_DECLS
