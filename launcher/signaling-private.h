/* What the launcher's signaling files share (signaling.c and one file per
 * signaling shape: signaling-offer.c, signaling-fastrtc.c, signaling-whip.c,
 * signaling-status.c). Not installed, not for the rest of the launcher.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "signaling.h"

#include "credentials.h"
#include "listener.h"
#include "registry.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* "sxsignaling": requests, refusals and each camera's signaling (per
 * camera on its pipeline: sx_camera_get_pipeline()) */
GST_DEBUG_CATEGORY_EXTERN (sx_signaling_debug);
#define GST_CAT_DEFAULT sx_signaling_debug

/* A browser trickles a few dozen candidates */
#define MAX_CANDIDATES_PER_CAMERA 128

typedef enum {
  STYLE_AIORTC,  /* {"sdp","type"} in and out; errors {"error"} */
  STYLE_FASTRTC, /* FastRTC: failures {"status":"failed","meta":{...}} */
  STYLE_WHIP,    /* application/sdp in and out, 201 + Location */
} OfferStyle;

/* A camera and what its signaling needs to know about it. */
typedef struct {
  SxCamera *camera;
  OfferStyle style;
  gchar *session;      /* FastRTC's webrtc_id, or the WHIP resource's id */
  gchar *identity;     /* who started it (sx_credentials_identify(), or
                          "address:IP" without credentials): only the same
                          may replace or feed it */
  gchar *ice_ufrag;    /* the offer's, to tell trickle from an ICE restart */
  GStrv mids;          /* the offer's a=mid per m-line ("" where none) */
  guint candidates;    /* trickled so far */
  guint64 lease_epoch; /* the registry's lease on it, 0 until taken */
} Peer;

struct _SxSignaling {
  SoupServer *server;
  SxListener *listener;
  SxCredentials *creds;
  gchar *pipe_text;
  gchar *origin;
  GHashTable *vars;
  SxSignalingOptions options;

  SxRegistry *registry;  /* NULL: no registry (one launcher) */
  GHashTable *peers;     /* camera id -> Peer */
  GHashTable *restarts;  /* id -> GUINT_TO_POINTER (count) */
  GHashTable *responses; /* status code -> GUINT_TO_POINTER (count) */
  guint64 cameras_started;
  guint stops_in_flight;   /* cameras going to NULL */
  guint flushes_in_flight; /* cameras flushing before they stop (DELETE) */

  gboolean shutting_down;
  guint eos_pending;
  GSource *eos_timer;
  SxSignalingShutdownFunc shutdown_done;
  gpointer shutdown_data;
};

/* FastRTC codes that FastRTC reports with HTTP 200 and a JSON failure. */
#define FASTRTC_UNKNOWN_CONNECTION "unknown_connection"
#define FASTRTC_CONCURRENCY_LIMIT "concurrency_limit_reached"

/* ---- signaling.c ---- */

void signaling_count_response (SxSignaling *sig, guint status);
void signaling_respond_json (SxSignaling *sig, SoupServerMessage *msg,
                             guint status, JsonBuilder *builder);
void signaling_respond_empty (SxSignaling *sig, SoupServerMessage *msg,
                              guint status);
/* Refuses a request with @status and a reason: {"error": reason}, or for
 * FastRTC's route {"status":"failed","meta":{"error":code,...}} (HTTP 200
 * for the failures FastRTC itself reports that way). */
void signaling_reject (SxSignaling *sig, SoupServerMessage *msg,
                       OfferStyle style, guint status, const gchar *code,
                       const gchar *format, ...) G_GNUC_PRINTF (6, 7);

#define signaling_respond_error(sig, msg, status, ...)                         \
  signaling_reject (sig, msg, STYLE_AIORTC, status, NULL, __VA_ARGS__)

/* Who sent @msg, as the early handler found it: an identity from
 * SxCredentials, or "address:<IP>" when the launcher needs none (then a
 * camera belongs to the address that started it). NULL: no valid
 * credential. */
const gchar *signaling_identity_of (SoupServerMessage *msg);
Peer *signaling_lookup_peer (SxSignaling *sig, const gchar *camera_id);
/* A camera leaving on request (WHIP DELETE): out of the table at once, its
 * sinks flushed (bounded by the EOS timeout), then stopped. */
void signaling_close_camera (SxSignaling *sig, SxCamera *camera);
/* Everything after the request's own shape: the camera id, the SDP, the
 * limits, then the pipeline and the answer (asynchronous: @msg is paused).
 * @session: FastRTC's webrtc_id (WHIP makes its own). */
void signaling_start_camera (SxSignaling *sig, SoupServerMessage *msg,
                             OfferStyle style, const gchar *camera_id,
                             const gchar *sdp_text, const gchar *session);
/* The m-line index a trickled candidate belongs to: by mid when given,
 * else by index, else the first. -1 if the mid is unknown. */
gint signaling_peer_mline (Peer *peer, const gchar *mid, gint index);
/* FALSE after a 405 naming @allow ("POST" or "PATCH, DELETE") */
gboolean signaling_require_method (SxSignaling *sig, SoupServerMessage *msg,
                                   const gchar *allow);
gboolean signaling_content_type_is (SoupServerMessage *msg,
                                    const gchar *expected);

/* ---- signaling-offer.c: the JSON offer (POST /offer; FastRTC reads its
 * offers the same way) ---- */

/* The request's JSON object, or NULL after a 400 (or 413) reply. */
JsonObject *signaling_read_json_object (SxSignaling *sig,
                                        SoupServerMessage *msg,
                                        OfferStyle style, JsonParser *parser);
/* The parts of an offer message both JSON routes share. */
gboolean signaling_read_json_offer (SxSignaling *sig, SoupServerMessage *msg,
                                    OfferStyle style, JsonObject *obj,
                                    const gchar **sdp_text, gchar **camera_id);
/* JSON routes take application/json only (FALSE after a 415). */
gboolean signaling_require_json (SxSignaling *sig, SoupServerMessage *msg,
                                 OfferStyle style);
void signaling_handle_offer (SxSignaling *sig, SoupServerMessage *msg);

/* ---- signaling-fastrtc.c ---- */

void signaling_handle_fastrtc (SxSignaling *sig, SoupServerMessage *msg,
                               GHashTable *query);

/* ---- signaling-whip.c ---- */

/* --stun/--turn as WHIP Link headers (a 201, or OPTIONS for the token
 * holder: TURN credentials) */
void signaling_add_ice_server_links (SxSignaling *sig, SoupServerMessage *msg);
void signaling_handle_whip (SxSignaling *sig, SoupServerMessage *msg,
                            const gchar *rest);
/* CORS preflight and WHIP's OPTIONS, for every route */
void signaling_handle_options (SxSignaling *sig, SoupServerMessage *msg,
                               const gchar *path);

/* ---- signaling-status.c ---- */

void signaling_handle_page (SxSignaling *sig, SoupServerMessage *msg);
void signaling_handle_healthz (SxSignaling *sig, SoupServerMessage *msg);
void signaling_handle_metrics (SxSignaling *sig, SoupServerMessage *msg);

G_END_DECLS
