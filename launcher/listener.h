/* The launcher's own TCP listener in front of libsoup's HTTP server:
 * connection limits, request and idle timeouts, an accept loop that
 * survives running out of file descriptors, and early answers that stop
 * reading the request.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Why not soup_server_listen(): libsoup 3.2's listener drops its accept
 * source on the first failed accept (EMFILE), so no client is ever accepted
 * again; it has no limit on connections and no timeout on a request or an
 * idle connection. This accepts itself and hands each connection to the
 * SoupServer (soup_server_accept_iostream), which still parses HTTP.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  guint max_connections;    /* open at once; more are answered 503 */
  guint max_per_address;    /* open at once from one IP address */
  guint request_timeout_ms; /* a request's headers and body must arrive
                               within this, from its first byte (or the
                               connection's start) */
  guint idle_timeout_ms;    /* a kept-alive connection may wait this long
                               for its next request */
  GTlsCertificate *tls_certificate; /* NULL: plain HTTP */
} SxListenerOptions;

typedef struct _SxListener SxListener;

/* Feeds @server; @options is copied (the certificate is referenced). */
SxListener *sx_listener_new (SoupServer *server,
                             const SxListenerOptions *options);

/* @address: NULL or "0.0.0.0" for every interface (IPv6 and IPv4),
 * @port 0: any free port. Starts accepting at once. */
gboolean sx_listener_listen (SxListener *listener, const gchar *address,
                             guint port, GError **error);

/* e.g. http://192.0.2.1:8080/ (https:// with a certificate) */
gchar *sx_listener_get_uri (SxListener *listener);

/* Stops accepting; connections already open go on. */
void sx_listener_stop (SxListener *listener);

void sx_listener_free (SxListener *listener);

typedef struct {
  guint open;            /* connections open now */
  guint64 accepted;      /* since start */
  guint64 refused;       /* over max_connections or max_per_address */
  guint64 timed_out;     /* closed by request_timeout_ms or idle_timeout_ms */
  guint64 accept_paused; /* times accepting paused for lack of fds */
} SxListenerStats;

void sx_listener_get_stats (SxListener *listener, SxListenerStats *stats);

/* From an early handler: sends @msg's response (status, headers and body
 * as set) at once with "Connection: close", and closes the connection
 * without reading the request's body, after draining at most a little of
 * it so the client can still read the answer. */
void sx_listener_answer_and_close (SoupServerMessage *msg);

G_END_DECLS
