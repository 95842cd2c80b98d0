/* The launchers' camera registry in PostgreSQL: leases, heartbeats and
 * where to send newcomers. SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The registry's thread owns its connection and the leases this launcher
 * holds (camera id -> epoch). Every third of a lease it writes the
 * launcher's heartbeat, renews every held lease in one statement (a lease
 * missing from the answer was ended by another launcher's take: the camera
 * is lost) and reads which other launcher has room. Requests from the main
 * context (take, release) wake it at once.
 */
#include "registry.h"

#include "sxdb.h"

#include <gst/gst.h>
#include <stdlib.h>

GST_DEBUG_CATEGORY_STATIC (sx_registry_debug);
#define GST_CAT_DEFAULT sx_registry_debug

/* How long the last words (releases, "gone") may take at shutdown */
#define SHUTDOWN_BUDGET_US (3 * G_USEC_PER_SEC)
#define MIN_BACKOFF_US (250 * G_TIME_SPAN_MILLISECOND)
#define MAX_BACKOFF_US (5 * G_USEC_PER_SEC)

typedef enum { OP_TAKE, OP_RELEASE } OpKind;

typedef struct {
  OpKind kind;
  gchar *camera_id;
  guint64 epoch; /* OP_RELEASE: which; OP_TAKE: the answer */
  gchar *reason;
  SxRegistryTakenFunc taken;
  gpointer data;
  GDestroyNotify destroy;
} Op;

typedef struct {
  gchar *camera_id;
  guint64 epoch;
} Lost;

struct _SxRegistry {
  gint refs; /* the main context's and the thread's */
  gchar *conninfo;
  gchar *schema;
  gchar *launcher_id;
  gchar *url;
  guint capacity;
  gint64 lease_us;
  SxRegistryLostFunc lost;
  gpointer user_data;
  GMainContext *context;

  GMutex lock;
  GCond cond;
  /* under lock */
  GQueue ops;      /* Op, from the main context to the thread */
  GQueue done;     /* Op (takes answered), thread to main */
  GQueue lost_q;   /* Lost, thread to main */
  GSource *notify; /* idle source delivering done and lost_q */
  guint cameras;
  gchar *redirect;
  gboolean connected;
  gboolean quit;
  gboolean finished; /* the thread has said its last words */
  gboolean detached; /* the main side is gone: deliver nothing */

  /* thread only */
  GThread *thread;
  SxDb *db;
  GHashTable *held; /* camera id -> epoch (as gpointer-sized guint64*) */
  gboolean registered;
  gint64 backoff;
};

static void
op_free (Op *op)
{
  if (op->destroy)
    op->destroy (op->data);
  g_free (op->camera_id);
  g_free (op->reason);
  g_free (op);
}

static void
lost_free (Lost *l)
{
  g_free (l->camera_id);
  g_free (l);
}

static void
registry_unref (SxRegistry *reg)
{
  if (!g_atomic_int_dec_and_test (&reg->refs))
    return;
  g_queue_clear_full (&reg->ops, (GDestroyNotify)op_free);
  g_queue_clear_full (&reg->done, (GDestroyNotify)op_free);
  g_queue_clear_full (&reg->lost_q, (GDestroyNotify)lost_free);
  g_clear_pointer (&reg->held, g_hash_table_unref);
  g_mutex_clear (&reg->lock);
  g_cond_clear (&reg->cond);
  g_main_context_unref (reg->context);
  g_free (reg->conninfo);
  g_free (reg->schema);
  g_free (reg->launcher_id);
  g_free (reg->url);
  g_free (reg->redirect);
  g_free (reg);
}

/* ---- delivery to the main context ---- */

static gboolean
deliver (gpointer user_data)
{
  SxRegistry *reg = user_data;
  GQueue done = G_QUEUE_INIT, lost = G_QUEUE_INIT;

  g_mutex_lock (&reg->lock);
  g_clear_pointer (&reg->notify, g_source_unref);
  done = reg->done;
  lost = reg->lost_q;
  g_queue_init (&reg->done);
  g_queue_init (&reg->lost_q);
  g_mutex_unlock (&reg->lock);

  for (GList *l = done.head; l; l = l->next) {
    Op *op = l->data;
    if (op->taken && op->epoch != 0)
      op->taken (op->camera_id, op->epoch, op->data);
  }
  for (GList *l = lost.head; l; l = l->next) {
    Lost *lo = l->data;
    reg->lost (lo->camera_id, lo->epoch, reg->user_data);
  }
  g_queue_clear_full (&done, (GDestroyNotify)op_free);
  g_queue_clear_full (&lost, (GDestroyNotify)lost_free);
  return G_SOURCE_REMOVE;
}

/* Under lock. */
static void
schedule_delivery (SxRegistry *reg)
{
  if (reg->notify != NULL || reg->detached)
    return;
  reg->notify = g_idle_source_new ();
  g_source_set_callback (reg->notify, deliver, reg, NULL);
  g_source_attach (reg->notify, reg->context);
}

/* ---- the thread's statements ---- */

static gchar *
lease_interval (SxRegistry *reg)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT " milliseconds",
                          reg->lease_us / 1000);
}

static gboolean
write_heartbeat (SxRegistry *reg, guint cameras, GError **error)
{
  g_autofree gchar *capacity = g_strdup_printf ("%u", reg->capacity);
  g_autofree gchar *count = g_strdup_printf ("%u", cameras);
  g_autofree gchar *lease = lease_interval (reg);
  const gchar *params[]
      = { reg->launcher_id, reg->url, capacity, count, lease };
  /* the first heartbeat of this process restarts the row: started, and
   * the leases a previous run of this launcher left open (it crashed) */
  PGresult *res = sx_db_exec (
      reg->db,
      reg->registered
          ? "UPDATE launchers SET url = $2, capacity = $3::int,"
            " cameras = $4::int, heartbeat = clock_timestamp(),"
            " expires = clock_timestamp() + $5::interval WHERE id = $1"
            " RETURNING 1"
          : "INSERT INTO launchers (id, url, capacity, cameras, started,"
            " heartbeat, expires) VALUES ($1, $2, $3::int, $4::int,"
            " clock_timestamp(), clock_timestamp(),"
            " clock_timestamp() + $5::interval)"
            " ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url,"
            " capacity = EXCLUDED.capacity, cameras = EXCLUDED.cameras,"
            " started = EXCLUDED.started, heartbeat = EXCLUDED.heartbeat,"
            " expires = EXCLUDED.expires RETURNING 1",
      5, params, error);
  if (res == NULL)
    return FALSE;
  gboolean present = PQntuples (res) == 1;
  PQclear (res);
  if (!present) { /* someone deleted the row: write it again */
    reg->registered = FALSE;
    return write_heartbeat (reg, cameras, error);
  }
  if (!reg->registered) {
    const gchar *id_param[] = { reg->launcher_id };
    res = sx_db_exec (reg->db,
                      "UPDATE camera_leases SET ended = clock_timestamp(),"
                      " end_reason = 'its launcher restarted'"
                      " WHERE launcher_id = $1 AND ended IS NULL",
                      1, id_param, error);
    if (res == NULL)
      return FALSE;
    if (atoi (PQcmdTuples (res)) > 0)
      GST_INFO ("ended %s lease(s) a previous run of %s left open",
                PQcmdTuples (res), reg->launcher_id);
    PQclear (res);
    reg->registered = TRUE;
  }
  return TRUE;
}

/* Renews every held lease; those not renewed were taken by a later lease:
 * reported lost. */
static gboolean
renew_leases (SxRegistry *reg, GError **error)
{
  if (g_hash_table_size (reg->held) == 0)
    return TRUE;
  GString *array = g_string_new ("{");
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, reg->held);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_string_append_printf (array, "%s%" G_GUINT64_FORMAT,
                            array->len > 1 ? "," : "", *(guint64 *)v);
  g_string_append_c (array, '}');
  g_autofree gchar *lease = lease_interval (reg);
  const gchar *params[] = { array->str, lease };
  PGresult *res = sx_db_exec (
      reg->db,
      "UPDATE camera_leases SET expires = clock_timestamp() + $2::interval"
      " WHERE epoch = ANY ($1::bigint[]) AND ended IS NULL RETURNING epoch",
      2, params, error);
  g_string_free (array, TRUE);
  if (res == NULL)
    return FALSE;
  g_autoptr (GHashTable) renewed
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (gint i = 0; i < PQntuples (res); i++) {
    gint64 *e = g_new (gint64, 1);
    *e = g_ascii_strtoll (PQgetvalue (res, i, 0), NULL, 10);
    g_hash_table_add (renewed, e);
  }
  PQclear (res);

  g_mutex_lock (&reg->lock);
  g_hash_table_iter_init (&it, reg->held);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    gint64 epoch = (gint64) * (guint64 *)v;
    if (g_hash_table_contains (renewed, &epoch))
      continue;
    GST_INFO ("camera %s: lease %" G_GINT64_FORMAT " was ended by a later take",
              (const gchar *)k, epoch);
    Lost *lost = g_new0 (Lost, 1);
    lost->camera_id = g_strdup (k);
    lost->epoch = (guint64)epoch;
    g_queue_push_tail (&reg->lost_q, lost);
    g_hash_table_iter_remove (&it);
  }
  if (reg->lost_q.length > 0)
    schedule_delivery (reg);
  g_mutex_unlock (&reg->lock);
  return TRUE;
}

static gboolean
read_redirect (SxRegistry *reg, GError **error)
{
  const gchar *params[] = { reg->launcher_id };
  /* the launcher with the most room; ties by id, so launchers agree */
  PGresult *res
      = sx_db_exec (reg->db,
                    "SELECT url FROM launchers WHERE id <> $1 AND url <> ''"
                    " AND expires > clock_timestamp() AND cameras < capacity"
                    " ORDER BY capacity - cameras DESC, id LIMIT 1",
                    1, params, error);
  if (res == NULL)
    return FALSE;
  gchar *url = PQntuples (res) == 1 ? g_strdup (PQgetvalue (res, 0, 0)) : NULL;
  PQclear (res);
  g_mutex_lock (&reg->lock);
  g_free (reg->redirect);
  reg->redirect = url;
  g_mutex_unlock (&reg->lock);
  return TRUE;
}

static gboolean
run_op (SxRegistry *reg, Op *op, GError **error)
{
  if (op->kind == OP_TAKE) {
    g_autofree gchar *lease = lease_interval (reg);
    const gchar *params[] = { op->camera_id, reg->launcher_id, lease };
    PGresult *res = sx_db_exec (
        reg->db, "SELECT take_camera ($1, $2, $3::interval)", 3, params, error);
    if (res == NULL)
      return FALSE;
    op->epoch = g_ascii_strtoull (PQgetvalue (res, 0, 0), NULL, 10);
    PQclear (res);
    guint64 *epoch = g_new (guint64, 1);
    *epoch = op->epoch;
    /* a camera taken again replaces its earlier lease here too */
    g_hash_table_replace (reg->held, g_strdup (op->camera_id), epoch);
    GST_INFO ("camera %s: lease %" G_GUINT64_FORMAT " taken", op->camera_id,
              op->epoch);
    return TRUE;
  }
  guint64 *held = g_hash_table_lookup (reg->held, op->camera_id);
  if (held && *held == op->epoch)
    g_hash_table_remove (reg->held, op->camera_id);
  g_autofree gchar *epoch = g_strdup_printf ("%" G_GUINT64_FORMAT, op->epoch);
  const gchar *params[] = { epoch, op->reason };
  PGresult *res = sx_db_exec (reg->db,
                              "UPDATE camera_leases SET ended = "
                              "clock_timestamp(), end_reason = $2"
                              " WHERE epoch = $1::bigint AND ended IS NULL",
                              2, params, error);
  if (res == NULL)
    return FALSE;
  PQclear (res);
  GST_INFO ("camera %s: lease %" G_GUINT64_FORMAT " released (%s)",
            op->camera_id, op->epoch, op->reason);
  return TRUE;
}

/* The queued requests, in order; FALSE (the op kept first) on a
 * connection problem. */
static gboolean
run_ops (SxRegistry *reg, GError **error)
{
  for (;;) {
    g_mutex_lock (&reg->lock);
    Op *op = g_queue_pop_head (&reg->ops);
    g_mutex_unlock (&reg->lock);
    if (op == NULL)
      return TRUE;
    if (!run_op (reg, op, error)) {
      if (sx_db_error_is_transient (*error) || !sx_db_is_ok (reg->db)) {
        g_mutex_lock (&reg->lock);
        g_queue_push_head (&reg->ops, op);
        g_mutex_unlock (&reg->lock);
        return FALSE;
      }
      /* a statement refused for good: say so and go on with the rest; a
       * take's data goes back to the main context (epoch 0: no lease) */
      GST_ERROR ("camera %s: %s", op->camera_id, (*error)->message);
      g_clear_error (error);
      op->epoch = 0;
    }
    if (op->kind == OP_TAKE) {
      g_mutex_lock (&reg->lock);
      g_queue_push_tail (&reg->done, op);
      schedule_delivery (reg);
      g_mutex_unlock (&reg->lock);
    } else {
      op_free (op);
    }
  }
}

static gboolean
ensure_connected (SxRegistry *reg, GError **error)
{
  if (reg->db && sx_db_is_ok (reg->db))
    return TRUE;
  g_clear_pointer (&reg->db, sx_db_free);
  SxDb *db = sx_db_connect (reg->conninfo, reg->schema, error);
  if (db == NULL)
    return FALSE;
  if (!sx_db_migrate (db, error)) {
    sx_db_free (db);
    return FALSE;
  }
  reg->db = db;
  GST_INFO ("registry connected: %s, schema \"%s\", launcher %s",
            sx_db_get_description (db), reg->schema, reg->launcher_id);
  return TRUE;
}

static void
set_connected (SxRegistry *reg, gboolean connected)
{
  g_mutex_lock (&reg->lock);
  reg->connected = connected;
  g_mutex_unlock (&reg->lock);
}

/* One round: connect, queued requests, and (when due) the heartbeat. */
static gboolean
work (SxRegistry *reg, gboolean heartbeat, GError **error)
{
  if (!ensure_connected (reg, error))
    return FALSE;
  set_connected (reg, TRUE);
  if (!reg->registered)
    heartbeat = TRUE;
  if (heartbeat) {
    g_mutex_lock (&reg->lock);
    guint cameras = reg->cameras;
    g_mutex_unlock (&reg->lock);
    if (!write_heartbeat (reg, cameras, error))
      return FALSE;
  }
  if (!run_ops (reg, error))
    return FALSE;
  if (heartbeat && (!renew_leases (reg, error) || !read_redirect (reg, error)))
    return FALSE;
  return TRUE;
}

/* At shutdown: every lease still held ends, and the launcher row expires
 * now, so nobody redirects here. */
static void
say_goodbye (SxRegistry *reg)
{
  g_autoptr (GError) error = NULL;
  if (!reg->db || !sx_db_is_ok (reg->db))
    return;
  run_ops (reg, &error);
  g_clear_error (&error);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, reg->held);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    g_autofree gchar *epoch
        = g_strdup_printf ("%" G_GUINT64_FORMAT, *(guint64 *)v);
    const gchar *params[] = { epoch };
    PGresult *res
        = sx_db_exec (reg->db,
                      "UPDATE camera_leases SET ended = clock_timestamp(),"
                      " end_reason = 'its launcher stopped'"
                      " WHERE epoch = $1::bigint AND ended IS NULL",
                      1, params, &error);
    if (res == NULL)
      return;
    PQclear (res);
  }
  const gchar *params[] = { reg->launcher_id };
  PGresult *res = sx_db_exec (reg->db,
                              "UPDATE launchers SET cameras = 0,"
                              " expires = clock_timestamp() WHERE id = $1",
                              1, params, &error);
  if (res)
    PQclear (res);
}

static gpointer
thread_main (gpointer data)
{
  SxRegistry *reg = data;
  gint64 period = reg->lease_us / 3;
  gint64 next_heartbeat = 0, next_attempt = 0;
  gboolean failing = FALSE;

  for (;;) {
    g_mutex_lock (&reg->lock);
    for (;;) {
      if (reg->quit)
        break;
      gint64 now = g_get_monotonic_time ();
      gint64 wake = failing ? next_attempt : next_heartbeat;
      if (!failing && reg->ops.length > 0)
        break;
      if (now >= wake)
        break;
      g_cond_wait_until (&reg->cond, &reg->lock, wake);
    }
    gboolean quit = reg->quit;
    g_mutex_unlock (&reg->lock);
    if (quit)
      break;

    gint64 now = g_get_monotonic_time ();
    if (failing && now < next_attempt)
      continue;
    gboolean heartbeat = now >= next_heartbeat;
    g_autoptr (GError) error = NULL;
    if (work (reg, heartbeat, &error)) {
      if (failing)
        GST_INFO ("registry reachable again");
      failing = FALSE;
      reg->backoff = 0;
      if (heartbeat)
        next_heartbeat = now + period;
      continue;
    }
    set_connected (reg, FALSE);
    if (!failing)
      GST_WARNING ("registry: %s (retrying; cameras keep streaming)",
                   error->message);
    failing = TRUE;
    if (!sx_db_is_ok (reg->db))
      g_clear_pointer (&reg->db, sx_db_free);
    reg->backoff = reg->backoff ? MIN (reg->backoff * 2, MAX_BACKOFF_US)
                                : MIN_BACKOFF_US;
    next_attempt = g_get_monotonic_time () + reg->backoff;
  }

  say_goodbye (reg);
  g_clear_pointer (&reg->db, sx_db_free);
  g_mutex_lock (&reg->lock);
  reg->finished = TRUE;
  g_cond_broadcast (&reg->cond);
  g_mutex_unlock (&reg->lock);
  registry_unref (reg);
  return NULL;
}

/* ---- the main context's side ---- */

SxRegistry *
sx_registry_new (const SxRegistryOptions *options, SxRegistryLostFunc lost,
                 gpointer user_data, GError **error)
{
  if (!sx_registry_debug)
    GST_DEBUG_CATEGORY_INIT (sx_registry_debug, "sxregistry", 0,
                             "surveillx-launcher camera registry");
  if (!sx_db_check_conninfo (options->conninfo, error)
      || !sx_db_check_schema_name (options->schema, error))
    return NULL;
  SxRegistry *reg = g_new0 (SxRegistry, 1);
  reg->refs = 2;
  reg->conninfo = g_strdup (options->conninfo ? options->conninfo : "");
  reg->schema = g_strdup (options->schema);
  reg->launcher_id = g_strdup (options->launcher_id);
  reg->url = g_strdup (options->url ? options->url : "");
  reg->capacity = options->capacity;
  reg->lease_us = (gint64)options->lease_ms * G_TIME_SPAN_MILLISECOND;
  reg->lost = lost;
  reg->user_data = user_data;
  reg->context = g_main_context_ref_thread_default ();
  g_mutex_init (&reg->lock);
  g_cond_init (&reg->cond);
  reg->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  reg->thread = g_thread_new ("sx-registry", thread_main, reg);
  return reg;
}

static void
push_op (SxRegistry *reg, Op *op)
{
  g_mutex_lock (&reg->lock);
  g_queue_push_tail (&reg->ops, op);
  g_cond_broadcast (&reg->cond);
  g_mutex_unlock (&reg->lock);
}

void
sx_registry_take (SxRegistry *reg, const gchar *camera_id,
                  SxRegistryTakenFunc taken, gpointer data,
                  GDestroyNotify destroy)
{
  Op *op = g_new0 (Op, 1);
  op->kind = OP_TAKE;
  op->camera_id = g_strdup (camera_id);
  op->taken = taken;
  op->data = data;
  op->destroy = destroy;
  push_op (reg, op);
}

void
sx_registry_release (SxRegistry *reg, const gchar *camera_id, guint64 epoch,
                     const gchar *reason)
{
  Op *op = g_new0 (Op, 1);
  op->kind = OP_RELEASE;
  op->camera_id = g_strdup (camera_id);
  op->epoch = epoch;
  op->reason = g_strdup (reason);
  push_op (reg, op);
}

void
sx_registry_set_load (SxRegistry *reg, guint cameras)
{
  g_mutex_lock (&reg->lock);
  reg->cameras = cameras;
  g_mutex_unlock (&reg->lock);
}

gchar *
sx_registry_dup_redirect (SxRegistry *reg)
{
  g_mutex_lock (&reg->lock);
  gchar *url = g_strdup (reg->redirect);
  g_mutex_unlock (&reg->lock);
  return url;
}

gboolean
sx_registry_is_connected (SxRegistry *reg)
{
  g_mutex_lock (&reg->lock);
  gboolean connected = reg->connected;
  g_mutex_unlock (&reg->lock);
  return connected;
}

const gchar *
sx_registry_get_launcher_id (SxRegistry *reg)
{
  return reg->launcher_id;
}

void
sx_registry_free (SxRegistry *reg)
{
  g_mutex_lock (&reg->lock);
  reg->quit = TRUE;
  reg->detached = TRUE;
  if (reg->notify) {
    g_source_destroy (reg->notify);
    g_clear_pointer (&reg->notify, g_source_unref);
  }
  g_cond_broadcast (&reg->cond);
  gint64 deadline = g_get_monotonic_time () + SHUTDOWN_BUDGET_US;
  while (!reg->finished)
    if (!g_cond_wait_until (&reg->cond, &reg->lock, deadline))
      break;
  gboolean finished = reg->finished;
  g_mutex_unlock (&reg->lock);
  if (finished) {
    g_thread_join (reg->thread);
  } else {
    /* a database that does not answer: leave the thread to finish (it
     * holds its own reference); the leases expire by themselves */
    GST_WARNING ("registry: the database did not answer within %d s at "
                 "shutdown; leases will expire instead",
                 (gint)(SHUTDOWN_BUDGET_US / G_USEC_PER_SEC));
    g_thread_unref (reg->thread);
  }
  registry_unref (reg);
}
