/* surveillx-gst — the process's face analysis threads, shared by cameras.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "analysispool.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 64

struct _SxPoolClient {
  SxPoolJobFunc func;
  gpointer user_data;
  gint nice;
  GList link; /* in `queue` while queued */
  gboolean queued;
  gboolean running;
  gboolean run_again; /* submitted while running */
};

/* Everything below is under `lock`. */
static GMutex lock;
static GCond work_ready; /* a client was queued */
static GCond job_done;   /* a running job returned */
static GQueue queue = G_QUEUE_INIT;
static guint n_started;

guint
sx_pool_n_threads (void)
{
  static gsize n;
  if (g_once_init_enter (&n)) {
    guint cores = g_get_num_processors ();
    guint threads = cores > 1 ? cores - 1 : 1;
    const gchar *env = g_getenv ("SURVEILLX_ANALYSIS_THREADS");
    if (env && *env) {
      gchar *end = NULL;
      guint64 v = g_ascii_strtoull (env, &end, 10);
      if (end && *end == '\0' && v >= 1 && v <= MAX_THREADS)
        threads = (guint)v;
      else
        g_warning ("SURVEILLX_ANALYSIS_THREADS='%s' is not a number from 1 "
                   "to %d; using %u threads",
                   env, MAX_THREADS, threads);
    }
    g_once_init_leave (&n, CLAMP (threads, 1, MAX_THREADS));
  }
  return (guint)n;
}

static void
set_thread_nice (gint nice)
{
  static gint warned;

  /* Linux applies a nice value to one thread when given its tid. Going
   * back down (elements with different worker-nice values) needs
   * CAP_SYS_NICE: say so once, not at every job. */
  if (setpriority (PRIO_PROCESS, (id_t)syscall (SYS_gettid), nice) != 0
      && g_atomic_int_compare_and_exchange (&warned, 0, 1))
    g_warning ("could not set an analysis thread's niceness to %d: %s", nice,
               g_strerror (errno));
}

static gpointer
pool_thread_main (gpointer data)
{
  (void)data;
  gint current_nice = 0;

  g_mutex_lock (&lock);
  for (;;) {
    while (g_queue_is_empty (&queue))
      g_cond_wait (&work_ready, &lock);
    SxPoolClient *client = g_queue_peek_head (&queue);
    g_queue_unlink (&queue, &client->link);
    client->queued = FALSE;
    client->running = TRUE;
    SxPoolJobFunc func = client->func;
    gpointer user_data = client->user_data;
    gint nice = client->nice;
    g_mutex_unlock (&lock);

    if (nice != current_nice) {
      set_thread_nice (nice);
      current_nice = nice;
    }
    func (user_data);

    g_mutex_lock (&lock);
    client->running = FALSE;
    if (client->run_again) {
      client->run_again = FALSE;
      client->queued = TRUE;
      g_queue_push_tail_link (&queue, &client->link);
      g_cond_signal (&work_ready);
    }
    g_cond_broadcast (&job_done);
  }
  g_mutex_unlock (&lock);
  return NULL;
}

SxPoolClient *
sx_pool_client_new (SxPoolJobFunc func, gpointer user_data, gint nice)
{
  g_return_val_if_fail (func != NULL, NULL);
  SxPoolClient *client = g_new0 (SxPoolClient, 1);
  client->func = func;
  client->user_data = user_data;
  client->nice = nice;
  client->link.data = client;

  guint wanted = sx_pool_n_threads ();
  g_mutex_lock (&lock);
  while (n_started < wanted) {
    gchar name[16];
    g_snprintf (name, sizeof name, "sx-analysis-%u", n_started);
    /* Never joined: the threads serve the process until it exits. */
    g_thread_unref (g_thread_new (name, pool_thread_main, NULL));
    n_started++;
  }
  g_mutex_unlock (&lock);
  return client;
}

void
sx_pool_client_submit (SxPoolClient *client)
{
  g_mutex_lock (&lock);
  if (client->running) {
    client->run_again = TRUE;
  } else if (!client->queued) {
    client->queued = TRUE;
    g_queue_push_tail_link (&queue, &client->link);
    g_cond_signal (&work_ready);
  }
  g_mutex_unlock (&lock);
}

void
sx_pool_client_free (SxPoolClient *client)
{
  if (!client)
    return;
  g_mutex_lock (&lock);
  if (client->queued) {
    g_queue_unlink (&queue, &client->link);
    client->queued = FALSE;
  }
  client->run_again = FALSE;
  while (client->running) {
    g_cond_wait (&job_done, &lock);
    /* a run_again set meanwhile re-queued it: take it out again */
    if (client->queued) {
      g_queue_unlink (&queue, &client->link);
      client->queued = FALSE;
    }
  }
  g_mutex_unlock (&lock);
  g_free (client);
}
