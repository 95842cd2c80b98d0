/* The launcher's HTTP side: WebRTC offers in, one camera pipeline each.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Routes (docs/signaling.md): POST /offer, POST /webrtc/offer (FastRTC),
 * POST/PATCH/DELETE/OPTIONS /whip/..., GET /, GET /healthz, GET /metrics.
 */
#pragma once

#include "camera.h"
#include "listener.h"
#include "registry.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint max_cameras;
  gsize max_body;       /* bytes; larger requests get 413 */
  gchar *token;         /* the operator's bearer token, NULL: none */
  gchar *camera_secret; /* signs per-camera tokens (credentials.h), NULL:
                           none; with neither, no authentication */
  guint eos_timeout_ms; /* bound on the EOS flush at shutdown */
  GStrv cors_origins;   /* origins whose pages may read responses ("*":
                           any); NULL: the launcher's own page only */
  SxListenerOptions connections;
  SxCameraOptions camera;
} SxSignalingOptions;

typedef struct _SxSignaling SxSignaling;

/* @pipe_text: the pipe file's content, @origin its name for messages,
 * @vars: --set and SURVEILLX_* variables (copied; CAMERA_ID is added per
 * camera). */
SxSignaling *sx_signaling_new (const gchar *pipe_text, const gchar *origin,
                               GHashTable *vars,
                               const SxSignalingOptions *options);

/* @address: NULL or "0.0.0.0" for every interface. @port 0: any free one. */
gboolean sx_signaling_listen (SxSignaling *sig, const gchar *address,
                              guint port, GError **error);

/* Joins the launchers' registry (registry.h): each camera is leased while
 * it streams and stopped when another launcher takes it; a full launcher
 * sends newcomers to one with room. Call once, after listening. */
gboolean sx_signaling_use_registry (SxSignaling *sig,
                                    const SxRegistryOptions *options,
                                    GError **error);

/* The first listening URI, e.g. http://192.0.2.1:8080/ */
gchar *sx_signaling_get_uri (SxSignaling *sig);

typedef void (*SxSignalingShutdownFunc) (gpointer user_data);

/* Stops listening, sends EOS to every pipeline so the sinks flush (bounded
 * by eos_timeout_ms), stops them all, then calls @done (main context). */
void sx_signaling_shutdown (SxSignaling *sig, SxSignalingShutdownFunc done,
                            gpointer user_data);

void sx_signaling_free (SxSignaling *sig);

G_END_DECLS
