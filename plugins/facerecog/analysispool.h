/* surveillx-gst — the process's face analysis threads, shared by cameras.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Analysis is CPU-bound and a box carries many cameras: one thread per
 * camera would have a dozen threads fighting over two cores, each camera
 * analysed at whatever rate the scheduler happens to give it. The pool
 * serves the whole process, cameras first come, first served: a client is
 * queued at most once, so with every camera waiting they take turns.
 *
 * It has one thread per core but one (at least one; the environment
 * variable SURVEILLX_ANALYSIS_THREADS overrides): a core stays free for
 * decoding, encoding and the rest of the box. Niceness alone does not
 * keep it free: under Linux's autogroup scheduling, niceness orders
 * threads within their session only, so analysis at nice 19 with every
 * core busy still takes CPU time from other services (the dashboard) —
 * measured in docs/performance.md.
 *
 * Threads start with the first client and live as long as the process
 * (like the models they use).
 */
#ifndef SX_ANALYSIS_POOL_H
#define SX_ANALYSIS_POOL_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SxPoolClient SxPoolClient;

/* Runs on a pool thread; never on two threads at once for one client. */
typedef void (*SxPoolJobFunc) (gpointer user_data);

/* `nice`: the pool thread's niceness while it runs this client's job
 * (Linux, per thread; lowering it again needs CAP_SYS_NICE). */
SxPoolClient *sx_pool_client_new (SxPoolJobFunc func, gpointer user_data,
                                  gint nice);

/* Queues one run of the job at the tail. Already queued: nothing changes
 * (the job reads its latest input when it runs). Running: queued again
 * once this run returns. */
void sx_pool_client_submit (SxPoolClient *client);

/* Drops a queued run and waits for a running one to return; afterwards
 * the job function is not called again. Frees the client. */
void sx_pool_client_free (SxPoolClient *client);

/* Threads the pool runs (or will run) in this process. */
guint sx_pool_n_threads (void);

G_END_DECLS

#endif /* SX_ANALYSIS_POOL_H */
