/* The process's analysis pool: cameras take turns, a client's job never
 * runs twice at once, freeing a client waits for its running job.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "analysispool.h"

#include <glib.h>

#define N_CLIENTS 3
#define RUNS_EACH 10

typedef struct {
  guint index;
  gint runs_left;
  gint inside; /* atomic: jobs of this client running */
  gint max_inside;
  SxPoolClient *client;
} Camera;

static GMutex order_lock;
static GArray *order; /* client index of each run, in order */

static void
camera_job (gpointer data)
{
  Camera *c = data;
  gint inside = g_atomic_int_add (&c->inside, 1) + 1;
  c->max_inside = MAX (c->max_inside, inside);
  g_mutex_lock (&order_lock);
  g_array_append_val (order, c->index);
  g_mutex_unlock (&order_lock);
  g_usleep (2000);
  /* Still waiting for more frames: like a camera whose next frame is
   * offered while the current one is analysed. */
  if (--c->runs_left > 0)
    sx_pool_client_submit (c->client);
  g_atomic_int_add (&c->inside, -1);
}

/* With one thread (set in main) and every camera always waiting, runs go
 * round-robin: nobody is served twice before everybody has been once. */
static void
test_cameras_take_turns (void)
{
  Camera cams[N_CLIENTS];
  order = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < N_CLIENTS; i++) {
    cams[i] = (Camera){ i, RUNS_EACH, 0, 0, NULL };
    cams[i].client = sx_pool_client_new (camera_job, &cams[i], 0);
  }
  g_mutex_lock (&order_lock); /* so all three are queued before a run */
  for (guint i = 0; i < N_CLIENTS; i++) {
    sx_pool_client_submit (cams[i].client);
    sx_pool_client_submit (cams[i].client); /* queued once only */
  }
  g_mutex_unlock (&order_lock);

  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  for (;;) {
    g_mutex_lock (&order_lock);
    guint done = order->len;
    g_mutex_unlock (&order_lock);
    if (done >= N_CLIENTS * RUNS_EACH || g_get_monotonic_time () > deadline)
      break;
    g_usleep (10000);
  }
  for (guint i = 0; i < N_CLIENTS; i++)
    sx_pool_client_free (cams[i].client);

  g_assert_cmpuint (order->len, ==, N_CLIENTS * RUNS_EACH);
  for (guint r = 0; r < order->len; r++)
    g_assert_cmpuint (g_array_index (order, guint, r), ==,
                      g_array_index (order, guint, r % N_CLIENTS));
  for (guint i = 0; i < N_CLIENTS; i++) {
    g_assert_cmpint (cams[i].runs_left, ==, 0);
    g_assert_cmpint (cams[i].max_inside, ==, 1);
  }
  g_array_unref (order);
}

typedef struct {
  gint started, finished, calls;
} SlowJob;

static void
slow_job (gpointer data)
{
  SlowJob *j = data;
  g_atomic_int_inc (&j->calls);
  g_atomic_int_set (&j->started, 1);
  g_usleep (200000);
  g_atomic_int_set (&j->finished, 1);
}

/* Freeing waits for the running job and drops the queued next run. */
static void
test_free_waits_for_running_job (void)
{
  SlowJob j = { 0, 0, 0 };
  SxPoolClient *client = sx_pool_client_new (slow_job, &j, 0);
  sx_pool_client_submit (client);
  while (!g_atomic_int_get (&j.started))
    g_usleep (1000);
  sx_pool_client_submit (client); /* run again after this one... */
  sx_pool_client_free (client);   /* ...but not after the free */
  g_assert_cmpint (g_atomic_int_get (&j.finished), ==, 1);
  g_usleep (300000);
  g_assert_cmpint (g_atomic_int_get (&j.calls), ==, 1);
}

int
main (int argc, char **argv)
{
  g_setenv ("SURVEILLX_ANALYSIS_THREADS", "1", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysispool/cameras-take-turns", test_cameras_take_turns);
  g_test_add_func ("/analysispool/free-waits", test_free_waits_for_running_job);
  return g_test_run ();
}
