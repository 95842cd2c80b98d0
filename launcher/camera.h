/* One camera = one pipeline built from the pipe file around a webrtcbin.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The launcher knows the elements only through the pipe file, properties,
 * signals and bus messages: this file includes no element header.
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

G_BEGIN_DECLS

/* The name the pipe file gives its webrtcbin. */
#define SX_CAMERA_WEBRTC_NAME "webrtc"

typedef struct {
  gchar *stun_server;      /* stun://host:port or NULL */
  gchar **turn_servers;    /* turn(s)://user:pass@host:port, NULL-terminated */
  gchar *ice_address;      /* only this local address in candidates */
  guint gather_timeout_ms; /* bound on ICE gathering before answering */
  guint
      media_timeout_ms; /* no frame for this long after connect: stop; 0 off */
  guint disconnect_grace_ms; /* ICE "disconnected" for this long: stop */
  /* RTP encoding names the launcher answers with, preferred first (the
   * pipe file must decode them: sx_camera_validate_pipeline) */
  gchar **codecs;
} SxCameraOptions;

typedef struct _SxCamera SxCamera;

/* Called on the main context when the camera stops by itself (pipeline
 * error, ICE failure, no media, end of stream). The owner then calls
 * sx_camera_stop(). */
typedef void (*SxCameraStoppedFunc) (SxCamera *camera, const gchar *reason,
                                     gpointer user_data);

/* Called on the main context when an EOS or a stop completed. */
typedef void (*SxCameraDoneFunc) (SxCamera *camera, gpointer user_data);

/* Called on the main context with the answer SDP, or an error. */
typedef void (*SxCameraAnswerFunc) (SxCamera *camera, const gchar *answer_sdp,
                                    const GError *error, gpointer user_data);

/* Builds (does not start) the pipeline from @pipeline_text: it must hold a
 * webrtcbin named "webrtc". Call on the main context: bus messages and
 * callbacks are dispatched there. */
SxCamera *sx_camera_new (const gchar *id, const gchar *pipeline_text,
                         const SxCameraOptions *options,
                         SxCameraStoppedFunc stopped, gpointer user_data,
                         GError **error);

/* Checks @pipeline_text builds and has the named webrtcbin, then drops it.
 * @decodable (may be NULL) gets those of @preference its branches decode,
 * in @preference's order; none is an error. */
gboolean sx_camera_validate_pipeline (const gchar *pipeline_text,
                                      const gchar *const *preference,
                                      gchar ***decodable, GError **error);

SxCamera *sx_camera_ref (SxCamera *camera);
void sx_camera_unref (SxCamera *camera);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SxCamera, sx_camera_unref);

const gchar *sx_camera_get_id (SxCamera *camera);

/* The camera's pipeline, named after its id: log lines about the camera
 * name it (GST_INFO_OBJECT), so GST_DEBUG output reads per camera. */
GstElement *sx_camera_get_pipeline (SxCamera *camera);

/* Starts the pipeline and answers @offer (taken) on a worker thread:
 * set-remote-description, create-answer (one codec: the first of
 * options->codecs the offer has; the pipe file's branches for the others
 * removed; the offered payload type and transport-wide-cc extension),
 * set-local-description, ICE gathering (bounded by gather_timeout_ms); @done
 * gets the answer with candidates. */
void sx_camera_answer (SxCamera *camera, GstSDPMessage *offer,
                       SxCameraAnswerFunc done, gpointer user_data);

/* Sends EOS into every branch fed by webrtcbin so the sinks flush. @done is
 * called (main context) when the pipeline posted EOS, or right away if no
 * media flowed yet. Returns FALSE if nothing needed flushing. */
gboolean sx_camera_send_eos (SxCamera *camera, SxCameraDoneFunc done,
                             gpointer user_data);

/* Stops for good: no more callbacks; the pipeline goes to NULL on a worker
 * thread (sinks may wait for their servers) and @done (may be NULL) is
 * called on the main context afterwards. FALSE (and no @done) if it was
 * already stopped. */
gboolean sx_camera_stop (SxCamera *camera, SxCameraDoneFunc done,
                         gpointer user_data);

/* Adds a trickled remote candidate for the offer's m-line @mline. Any
 * thread; before the offer is applied it is queued, not lost. */
void sx_camera_add_ice_candidate (SxCamera *camera, guint mline,
                                  const gchar *candidate);

/* Gives every element of the pipeline with a "lease-epoch" property
 * (attendancesink) the camera's lease in the launchers' registry. */
void sx_camera_set_lease_epoch (SxCamera *camera, guint64 epoch);

typedef struct {
  guint64 frames_in;      /* video frames received (RTP marker bits) */
  guint64 faces;          /* faces in facerecog's messages */
  guint64 faces_carried;  /* ... whose identity was carried undescribed */
  guint64 analyses;       /* facerecog's messages (one per analysis) */
  guint64 frames_emitted; /* socketiosink's "sent" */
  guint64 drops;          /* socketiosink's "dropped" */
  gboolean connected;     /* ICE connected */
  /* the selected ICE pair's remote candidate: host, srflx, prflx, relay
   * ("" until known) */
  gchar remote_candidate_type[16];
  gchar codec[8]; /* negotiated RTP encoding name ("" until answered) */
} SxCameraStats;

void sx_camera_get_stats (SxCamera *camera, SxCameraStats *stats);

G_END_DECLS
