/* One camera = one pipeline built from the pipe file around a webrtcbin.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Threads: the camera is created, observed (bus, timers) and stopped on the
 * main context. Work that blocks (state changes: facerecog loads models,
 * socketiosink waits for its server; webrtcbin's promises; ICE gathering)
 * runs on a worker thread per operation, which reports back through
 * g_main_context_invoke. webrtcbin's notifications arrive on its own
 * threads and are forwarded the same way.
 */
#include "camera.h"
#include "codecbranch.h"
#include "sdpoffer.h"

#include <surveillx/faceresult.h>

#include <gio/gio.h>
#include <gst/rtp/rtp.h>
#include <gst/webrtc/webrtc.h>
#include <stdatomic.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

GST_DEBUG_CATEGORY_STATIC (sx_camera_debug);
#define GST_CAT_DEFAULT sx_camera_debug

struct _SxCamera {
  gchar *id;
  GstElement *pipeline;
  GstElement *webrtc;
  GObject *ice_agent; /* held for webrtcbin's lifetime */
  SxCameraOptions options;
  GMainContext *context;
  GSource *bus_source;
  GSource *watchdog;
  GSource *disconnect_timer;

  SxCameraStoppedFunc stopped_func;
  gpointer stopped_data;
  gboolean stopped;   /* main context: no more callbacks */
  gboolean answered;  /* main context */
  gboolean connected; /* main context */

  SxCameraDoneFunc eos_func;
  gpointer eos_data;
  GList *eos_waiting; /* sinks (refs) that have not posted EOS */

  /* Serialises starting against stopping, so a stop that overtakes an
   * answer still in progress leaves the pipeline in NULL. */
  GMutex state_lock;
  gboolean stopping; /* under state_lock and lock */

  GMutex lock;
  GCond cond; /* ICE gathering state changed, or stopping */

  /* Remote ICE candidates that came (trickled) before the offer was
   * applied: webrtcbin cannot take them yet. */
  GQueue early_candidates;         /* of RemoteCandidate, under lock */
  gboolean remote_description_set; /* under lock */
  GPtrArray *data_channels;        /* under lock */

  gchar *remote_candidate_type; /* of the selected pair, under lock */
  gchar codec[8];               /* negotiated encoding name, under lock */
  GPtrArray *pruned_heads;      /* heads of branches removed (codecbranch.h) */
  guint stats_tick;             /* main context */

  atomic_uint_fast64_t frames_in;
  atomic_int_fast64_t last_frame_us;
  guint64 faces, faces_carried, analyses, frames_emitted,
      drops; /* main context */
};

static void camera_free (SxCamera *camera);
static void clear_eos_waiting (SxCamera *camera);

typedef struct {
  guint mline;
  gchar *candidate;
} RemoteCandidate;

static void
remote_candidate_free (gpointer data)
{
  RemoteCandidate *c = data;
  g_free (c->candidate);
  g_free (c);
}

static void
drop_data_channel (gpointer data)
{
  GObject *channel = data;
  g_signal_handlers_disconnect_matched (channel, G_SIGNAL_MATCH_FUNC, 0, 0,
                                        NULL, NULL, NULL);
  g_object_unref (channel);
}

static void
drop_source (GSource **source)
{
  if (*source) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

SxCamera *
sx_camera_ref (SxCamera *camera)
{
  return g_atomic_rc_box_acquire (camera);
}

void
sx_camera_unref (SxCamera *camera)
{
  g_atomic_rc_box_release_full (camera, (GDestroyNotify)camera_free);
}

GstElement *
sx_camera_get_pipeline (SxCamera *camera)
{
  return camera->pipeline;
}

const gchar *
sx_camera_get_id (SxCamera *camera)
{
  return camera->id;
}

static void
camera_free (SxCamera *camera)
{
  clear_eos_waiting (camera);
  drop_source (&camera->bus_source);
  drop_source (&camera->watchdog);
  drop_source (&camera->disconnect_timer);
  if (camera->pipeline) {
    /* normally already NULL (sx_camera_stop); a camera dropped before it
     * started is still cheap to bring down here */
    gst_element_set_state (camera->pipeline, GST_STATE_NULL);
  }
  g_queue_clear_full (&camera->early_candidates, remote_candidate_free);
  g_clear_pointer (&camera->data_channels, g_ptr_array_unref);
  g_free (camera->remote_candidate_type);
  g_clear_object (&camera->ice_agent);
  g_clear_object (&camera->webrtc);
  g_clear_object (&camera->pipeline);
  /* after the pipeline: webrtcbin's delayed links point at these */
  g_clear_pointer (&camera->pruned_heads, g_ptr_array_unref);
  g_free (camera->options.stun_server);
  g_strfreev (camera->options.turn_servers);
  g_strfreev (camera->options.codecs);
  g_free (camera->options.ice_address);
  g_main_context_unref (camera->context);
  g_mutex_clear (&camera->state_lock);
  g_mutex_clear (&camera->lock);
  g_cond_clear (&camera->cond);
  g_free (camera->id);
}

/* Runs @func(camera) on the main context, holding a reference meanwhile. */
static void
invoke_on_main (SxCamera *camera, GSourceFunc func)
{
  g_main_context_invoke_full (camera->context, G_PRIORITY_DEFAULT, func,
                              sx_camera_ref (camera),
                              (GDestroyNotify)sx_camera_unref);
}

static void
stop_self (SxCamera *camera, const gchar *reason)
{
  if (camera->stopped || camera->stopped_func == NULL)
    return;
  GST_INFO_OBJECT (camera->pipeline, "stops: %s", reason);
  SxCameraStoppedFunc func = camera->stopped_func;
  camera->stopped_func = NULL; /* reported once */
  func (camera, reason, camera->stopped_data);
}

/* ---- frames in: a video frame ends with an RTP marker bit (VP8, VP9, H.264)
 * ---- */

static gboolean
count_one (GstBuffer **buffer, guint idx, gpointer user_data)
{
  SxCamera *camera = user_data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map (*buffer, GST_MAP_READ, &rtp)) {
    if (gst_rtp_buffer_get_marker (&rtp)) {
      atomic_fetch_add (&camera->frames_in, 1);
      atomic_store (&camera->last_frame_us, g_get_monotonic_time ());
    }
    gst_rtp_buffer_unmap (&rtp);
  }
  return TRUE;
}

static GstPadProbeReturn
count_frames_probe (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
    count_one (&buffer, 0, user_data);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    gst_buffer_list_foreach (GST_PAD_PROBE_INFO_BUFFER_LIST (info), count_one,
                             user_data);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
pad_is_video (GstPad *pad)
{
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_is_empty (caps))
    return FALSE;
  const gchar *media
      = gst_structure_get_string (gst_caps_get_structure (caps, 0), "media");
  return g_strcmp0 (media, "video") == 0;
}

/* Connected after gst_parse_launch()'s own handler, which performs the pipe
 * file's delayed link `webrtc. ! rtpvp8depay ...` on the first pad that
 * fits. Whatever it leaves unlinked (an audio track, a second video track)
 * goes to a fakesink: an unlinked pad would stop the whole stream with
 * not-linked. */
static void
on_pad_added (GstElement *webrtc, GstPad *pad, SxCamera *camera)
{
  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gboolean video = pad_is_video (pad);
  if (video)
    gst_pad_add_probe (
        pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
        count_frames_probe, camera, NULL);
  if (gst_pad_is_linked (pad)) {
    GST_INFO_OBJECT (camera->pipeline, "%s linked by the pipe file",
                     GST_PAD_NAME (pad));
    return;
  }
  GST_WARNING_OBJECT (
      camera->pipeline, "the pipe file takes no %s track (%s): discarded",
      video ? "further video" : "non-video", GST_PAD_NAME (pad));
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (camera->pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  g_autoptr (GstPad) sinkpad = gst_element_get_static_pad (sink, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (camera->pipeline, "could not discard %s",
                        GST_PAD_NAME (pad));
}

/* ---- ICE state ---- */

static void request_ice_stats (SxCamera *camera);

static gboolean
disconnect_grace_expired (gpointer user_data)
{
  SxCamera *camera = user_data;
  g_clear_pointer (&camera->disconnect_timer, g_source_unref);
  stop_self (camera, "ICE disconnected");
  return G_SOURCE_REMOVE;
}

static gboolean
ice_state_changed_main (gpointer user_data)
{
  SxCamera *camera = user_data;
  if (camera->stopped)
    return G_SOURCE_REMOVE;
  GstWebRTCICEConnectionState state;
  g_object_get (camera->webrtc, "ice-connection-state", &state, NULL);
  GST_INFO_OBJECT (camera->pipeline, "ICE connection state %d", state);
  switch (state) {
    case GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED:
      camera->connected = TRUE;
      camera->stats_tick = 1; /* and again in a few seconds */
      request_ice_stats (camera);
      drop_source (&camera->disconnect_timer);
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_FAILED:
      camera->connected = FALSE;
      stop_self (camera, "ICE failed");
      break;
    case GST_WEBRTC_ICE_CONNECTION_STATE_DISCONNECTED:
    case GST_WEBRTC_ICE_CONNECTION_STATE_CLOSED:
      /* "disconnected" may heal (consent freshness retries); a peer that
       * really left stays there */
      camera->connected = FALSE;
      if (camera->disconnect_timer == NULL) {
        camera->disconnect_timer
            = g_timeout_source_new (camera->options.disconnect_grace_ms);
        g_source_set_callback (camera->disconnect_timer,
                               disconnect_grace_expired, camera, NULL);
        g_source_attach (camera->disconnect_timer, camera->context);
      }
      break;
    default:
      break;
  }
  return G_SOURCE_REMOVE;
}

static void
on_ice_connection_state (GObject *webrtc, GParamSpec *pspec, SxCamera *camera)
{
  invoke_on_main (camera, ice_state_changed_main);
}

static void
on_ice_gathering_state (GObject *webrtc, GParamSpec *pspec, SxCamera *camera)
{
  g_mutex_lock (&camera->lock);
  g_cond_broadcast (&camera->cond);
  g_mutex_unlock (&camera->lock);
}

/* ---- data channels ---- */

static void
on_channel_message (GObject *channel, const gchar *text, SxCamera *camera)
{
  /* FastRTC clients talk on their channel (e.g. "pause"); nothing in a
   * camera pipeline answers, but it is worth seeing when debugging */
  GST_DEBUG_OBJECT (camera->pipeline, "data channel message: %.200s", text);
}

/* FastRTC's clients open a data channel with their offer; webrtcbin
 * negotiates it (SCTP) and hands it over here. It is kept open for the
 * camera's lifetime: a channel nobody holds is closed. */
static void
on_data_channel (GstElement *webrtc, GObject *channel, SxCamera *camera)
{
  g_autofree gchar *label = NULL;
  g_object_get (channel, "label", &label, NULL);
  GST_INFO_OBJECT (camera->pipeline, "data channel '%s' opened by the peer",
                   label ? label : "");
  g_signal_connect (channel, "on-message-string",
                    G_CALLBACK (on_channel_message), camera);
  g_mutex_lock (&camera->lock);
  g_ptr_array_add (camera->data_channels, g_object_ref (channel));
  g_mutex_unlock (&camera->lock);
}

/* ---- remote ICE candidates (trickle) ---- */

void
sx_camera_add_ice_candidate (SxCamera *camera, guint mline,
                             const gchar *candidate)
{
  g_mutex_lock (&camera->lock);
  if (!camera->remote_description_set) {
    RemoteCandidate *c = g_new0 (RemoteCandidate, 1);
    c->mline = mline;
    c->candidate = g_strdup (candidate);
    g_queue_push_tail (&camera->early_candidates, c);
    g_mutex_unlock (&camera->lock);
    GST_DEBUG_OBJECT (camera->pipeline,
                      "candidate queued until the offer is applied");
    return;
  }
  g_mutex_unlock (&camera->lock);
  GST_DEBUG_OBJECT (camera->pipeline, "remote candidate for m-line %u: %s",
                    mline, candidate);
  g_signal_emit_by_name (camera->webrtc, "add-ice-candidate", mline, candidate);
}

/* After set-remote-description: the queued candidates go in, later ones
 * go straight through. */
static void
flush_early_candidates (SxCamera *camera)
{
  g_mutex_lock (&camera->lock);
  camera->remote_description_set = TRUE;
  GQueue queued = camera->early_candidates;
  g_queue_init (&camera->early_candidates);
  g_mutex_unlock (&camera->lock);
  for (GList *l = queued.head; l; l = l->next) {
    RemoteCandidate *c = l->data;
    g_signal_emit_by_name (camera->webrtc, "add-ice-candidate", c->mline,
                           c->candidate);
  }
  g_queue_clear_full (&queued, remote_candidate_free);
}

/* ---- bus and watchdog (main context) ---- */

static void
clear_eos_waiting (SxCamera *camera)
{
  g_list_free_full (camera->eos_waiting, gst_object_unref);
  camera->eos_waiting = NULL;
}

/* The pipeline's own EOS never comes: webrtcbin counts as a sink (it holds
 * nicesink) and is not flushed. So the sinks' own EOS messages, forwarded
 * by the pipeline (message-forward), are counted instead. */
static void
sink_flushed (SxCamera *camera, GstObject *sink)
{
  GList *l = g_list_find (camera->eos_waiting, sink);
  if (l == NULL)
    return;
  GST_INFO_OBJECT (camera->pipeline, "%s flushed", GST_OBJECT_NAME (sink));
  gst_object_unref (l->data);
  camera->eos_waiting = g_list_delete_link (camera->eos_waiting, l);
  if (camera->eos_waiting == NULL && camera->eos_func) {
    SxCameraDoneFunc func = camera->eos_func;
    camera->eos_func = NULL;
    func (camera, camera->eos_data);
  }
}

static gboolean
on_bus_message (GstBus *bus, GstMessage *msg, gpointer user_data)
{
  SxCamera *camera = user_data;
  if (camera->stopped)
    return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR: {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;
      gst_message_parse_error (msg, &err, &debug);
      GST_WARNING_OBJECT (camera->pipeline, "error from %s: %s (%s)",
                          GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message,
                          debug ? debug : "");
      g_autofree gchar *reason
          = g_strdup_printf ("pipeline error: %s", err->message);
      stop_self (camera, reason);
      break;
    }
    case GST_MESSAGE_WARNING: {
      g_autoptr (GError) err = NULL;
      gst_message_parse_warning (msg, &err, NULL);
      GST_INFO_OBJECT (camera->pipeline, "warning from %s: %s",
                       GST_OBJECT_NAME (GST_MESSAGE_SRC (msg)), err->message);
      break;
    }
    case GST_MESSAGE_EOS:
      stop_self (camera, "end of stream");
      break;
    case GST_MESSAGE_ELEMENT: {
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "GstBinForwarded")) {
        GstMessage *inner = NULL;
        gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, NULL);
        if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS)
          sink_flushed (camera, GST_MESSAGE_SRC (inner));
        if (inner)
          gst_message_unref (inner);
      } else if (gst_structure_has_name (s, SX_FACE_MESSAGE_NAME)) {
        const GValue *faces = gst_structure_get_value (s, SX_FACE_MSG_FACES);
        guint n = faces && GST_VALUE_HOLDS_LIST (faces)
                      ? gst_value_list_get_size (faces)
                      : 0;
        for (guint i = 0; i < n; i++) {
          const GValue *face = gst_value_list_get_value (faces, i);
          gboolean carried = FALSE;
          if (GST_VALUE_HOLDS_STRUCTURE (face)
              && gst_structure_get_boolean (gst_value_get_structure (face),
                                            SX_FACE_FIELD_CARRIED, &carried)
              && carried)
            camera->faces_carried++;
        }
        camera->faces += n;
        camera->analyses++;
      } else if (gst_structure_has_name (s, "socketiosink-stats")) {
        guint64 v;
        if (gst_structure_get_uint64 (s, "sent", &v))
          camera->frames_emitted = v;
        if (gst_structure_get_uint64 (s, "dropped", &v))
          camera->drops = v;
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* ---- the selected ICE pair, from webrtcbin's statistics ---- */

typedef struct {
  const gchar *wanted_id;
  const GstStructure *found;
} StatsLookup;

static gboolean
find_stats_entry (GQuark field, const GValue *value, gpointer user_data)
{
  StatsLookup *lookup = user_data;
  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  const GstStructure *s = gst_value_get_structure (value);
  const gchar *id = gst_structure_get_string (s, "id");
  if (lookup->wanted_id
          ? g_strcmp0 (id, lookup->wanted_id) == 0
          : gst_structure_has_field (s, "selected-candidate-pair-id")) {
    lookup->found = s;
    return FALSE;
  }
  return TRUE;
}

static const GstStructure *
stats_entry (const GstStructure *stats, const gchar *id)
{
  StatsLookup lookup = { id, NULL };
  gst_structure_foreach (stats, find_stats_entry, &lookup);
  return lookup.found;
}

/* transport -> selected pair -> its remote candidate's type: "host" when
 * the peer's candidate came in the offer or by trickle, "prflx" when ICE
 * only learnt it from the peer's checks, "relay" through TURN. */
static void
on_stats (GstPromise *promise, gpointer user_data)
{
  SxCamera *camera = user_data;
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    goto done;
  const GstStructure *stats = gst_promise_get_reply (promise);
  if (stats
      && gst_debug_category_get_threshold (sx_camera_debug) >= GST_LEVEL_LOG) {
    g_autofree gchar *text = gst_structure_to_string (stats);
    GST_LOG_OBJECT (camera->pipeline, "stats %s", text);
  }
  const GstStructure *transport = stats ? stats_entry (stats, NULL) : NULL;
  const gchar *pair_id
      = transport
            ? gst_structure_get_string (transport, "selected-candidate-pair-id")
            : NULL;
  const GstStructure *pair = pair_id ? stats_entry (stats, pair_id) : NULL;
  const gchar *remote_id
      = pair ? gst_structure_get_string (pair, "remote-candidate-id") : NULL;
  const GstStructure *remote
      = remote_id ? stats_entry (stats, remote_id) : NULL;
  const gchar *type
      = remote ? gst_structure_get_string (remote, "candidate-type") : NULL;
  if (type) {
    g_mutex_lock (&camera->lock);
    if (g_strcmp0 (camera->remote_candidate_type, type) != 0) {
      GST_INFO_OBJECT (camera->pipeline, "selected remote candidate is %s",
                       type);
      g_free (camera->remote_candidate_type);
      camera->remote_candidate_type = g_strdup (type);
    }
    g_mutex_unlock (&camera->lock);
  }
done:
  gst_promise_unref (promise);
}

static void
request_ice_stats (SxCamera *camera)
{
  GstPromise *promise = gst_promise_new_with_change_func (
      on_stats, sx_camera_ref (camera), (GDestroyNotify)sx_camera_unref);
  g_signal_emit_by_name (camera->webrtc, "get-stats", NULL, promise);
}

static gboolean
watchdog_tick (gpointer user_data)
{
  SxCamera *camera = user_data;
  /* the selected pair can change: look again now and then */
  if (camera->connected && camera->stats_tick++ % 5 == 0)
    request_ice_stats (camera);
  if (!camera->answered || camera->options.media_timeout_ms == 0)
    return G_SOURCE_CONTINUE;
  gint64 idle_us
      = g_get_monotonic_time () - atomic_load (&camera->last_frame_us);
  if (idle_us > (gint64)camera->options.media_timeout_ms * 1000) {
    g_autofree gchar *reason = g_strdup_printf (
        "no media for %u ms", camera->options.media_timeout_ms);
    stop_self (camera, reason);
  }
  return G_SOURCE_CONTINUE;
}

/* ---- construction ---- */

static GstElement *
build_pipeline (const gchar *text, GstElement **webrtc, GError **error)
{
  GstParseContext *ctx = gst_parse_context_new ();
  /* FATAL_ERRORS: an unknown property or a failed link is a broken pipe
   * file, not something to run half of */
  GstElement *top
      = gst_parse_launch_full (text, ctx, GST_PARSE_FLAG_FATAL_ERRORS, error);
  gst_parse_context_free (ctx);
  if (top == NULL)
    return NULL;
  if (!GST_IS_PIPELINE (top)) {
    GstElement *pipeline = gst_pipeline_new (NULL);
    gst_bin_add (GST_BIN (pipeline), top);
    top = pipeline;
  }
  GstElement *w = gst_bin_get_by_name (GST_BIN (top), SX_CAMERA_WEBRTC_NAME);
  if (w == NULL) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                 "the pipeline has no element named '" SX_CAMERA_WEBRTC_NAME
                 "' (expected: webrtcbin name=" SX_CAMERA_WEBRTC_NAME ")");
    gst_object_unref (top);
    return NULL;
  }
  GstElementFactory *f = gst_element_get_factory (w);
  if (f == NULL || g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin") != 0) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                 "the element named '" SX_CAMERA_WEBRTC_NAME "' is a %s, not a "
                 "webrtcbin",
                 f ? GST_OBJECT_NAME (f) : "bin");
    gst_object_unref (w);
    gst_object_unref (top);
    return NULL;
  }
  *webrtc = w;
  return top;
}

gboolean
sx_camera_validate_pipeline (const gchar *pipeline_text,
                             const gchar *const *preference, gchar ***decodable,
                             GError **error)
{
  GstElement *webrtc = NULL;
  GstElement *pipeline = build_pipeline (pipeline_text, &webrtc, error);
  if (pipeline == NULL)
    return FALSE;
  gst_object_unref (webrtc);
  g_auto (GStrv) codecs
      = sx_codec_branch_decodable (GST_BIN (pipeline), preference);
  gst_object_unref (pipeline);
  if (codecs[0] == NULL) {
    g_autofree gchar *list = g_strjoinv (", ", (gchar **)preference);
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                 "no branch fed by " SX_CAMERA_WEBRTC_NAME ". decodes any of "
                 "%s (expected e.g. " SX_CAMERA_WEBRTC_NAME
                 ". ! rtpvp8depay ! vp8dec ! ...)",
                 list);
    return FALSE;
  }
  if (decodable)
    *decodable = g_steal_pointer (&codecs);
  return TRUE;
}

SxCamera *
sx_camera_new (const gchar *id, const gchar *pipeline_text,
               const SxCameraOptions *options, SxCameraStoppedFunc stopped,
               gpointer user_data, GError **error)
{
  if (sx_camera_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (sx_camera_debug, "sxcamera", 0,
                             "surveillx-launcher camera");

  GstElement *webrtc = NULL;
  GstElement *pipeline = build_pipeline (pipeline_text, &webrtc, error);
  if (pipeline == NULL)
    return NULL;

  SxCamera *camera = g_atomic_rc_box_new0 (SxCamera);
  camera->id = g_strdup (id);
  camera->pipeline = pipeline;
  camera->webrtc = webrtc;
  camera->options = *options;
  camera->options.stun_server = g_strdup (options->stun_server);
  camera->options.turn_servers = g_strdupv (options->turn_servers);
  camera->options.ice_address = g_strdup (options->ice_address);
  camera->options.codecs = g_strdupv (options->codecs);
  camera->pruned_heads = g_ptr_array_new_with_free_func (gst_object_unref);
  camera->context = g_main_context_ref_thread_default ();
  camera->stopped_func = stopped;
  camera->stopped_data = user_data;
  g_mutex_init (&camera->state_lock);
  g_mutex_init (&camera->lock);
  g_cond_init (&camera->cond);
  atomic_init (&camera->frames_in, 0);
  atomic_init (&camera->last_frame_us, g_get_monotonic_time ());
  g_queue_init (&camera->early_candidates);
  camera->data_channels = g_ptr_array_new_with_free_func (drop_data_channel);

  gst_object_set_name (GST_OBJECT (pipeline), id);
  g_object_set (pipeline, "message-forward", TRUE, NULL);

  if (options->stun_server)
    g_object_set (webrtc, "stun-server", options->stun_server, NULL);
  for (gchar **t = options->turn_servers; t && *t; t++) {
    gboolean ok = FALSE;
    g_signal_emit_by_name (webrtc, "add-turn-server", *t, &ok);
    if (!ok) {
      /* the URI holds a password: never in the log */
      g_autoptr (GUri) uri = g_uri_parse (*t, G_URI_FLAGS_HAS_PASSWORD, NULL);
      g_autofree gchar *shown
          = uri ? g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO)
                : g_strdup ("(unparsable URI)");
      GST_WARNING_OBJECT (pipeline, "webrtcbin refused TURN server %s", shown);
    }
  }
  g_object_get (webrtc, "ice-agent", &camera->ice_agent, NULL);
  if (options->ice_address) {
    gboolean ok = FALSE;
    /* an action signal of the ICE agent, not of webrtcbin: only this
     * address appears in our candidates */
    g_signal_emit_by_name (camera->ice_agent, "add-local-ip-address",
                           options->ice_address, &ok);
    if (!ok) {
      g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                   "the ICE agent refused the address %s",
                   options->ice_address);
      sx_camera_unref (camera);
      return NULL;
    }
  }

  g_signal_connect_after (webrtc, "pad-added", G_CALLBACK (on_pad_added),
                          camera);
  g_signal_connect (webrtc, "notify::ice-connection-state",
                    G_CALLBACK (on_ice_connection_state), camera);
  g_signal_connect (webrtc, "notify::ice-gathering-state",
                    G_CALLBACK (on_ice_gathering_state), camera);
  g_signal_connect (webrtc, "on-data-channel", G_CALLBACK (on_data_channel),
                    camera);

  GstBus *bus = gst_element_get_bus (pipeline);
  camera->bus_source = gst_bus_create_watch (bus);
  gst_object_unref (bus);
  /* a bus watch source calls a GstBusFunc despite GSource's prototype */
  g_source_set_callback (camera->bus_source,
                         (GSourceFunc)(void (*) (void))on_bus_message, camera,
                         NULL);
  g_source_attach (camera->bus_source, camera->context);

  camera->watchdog = g_timeout_source_new (1000);
  g_source_set_callback (camera->watchdog, watchdog_tick, camera, NULL);
  g_source_attach (camera->watchdog, camera->context);
  return camera;
}

/* ---- answering (worker thread) ---- */

typedef struct {
  GMutex lock;
  GCond cond;
  gboolean done;
} PromiseWaiter;

static void
promise_waiter_clear (PromiseWaiter *w)
{
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

static void
promise_waiter_unref (gpointer w)
{
  g_atomic_rc_box_release_full (w, (GDestroyNotify)promise_waiter_clear);
}

static void
promise_changed (GstPromise *promise, gpointer user_data)
{
  PromiseWaiter *w = user_data;
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

/* A promise whose wait is bounded: webrtcbin may never answer one issued
 * while it shuts down. The waiter is shared with the promise, which may
 * outlive a timed-out wait. */
static GstPromise *
promise_new_waitable (PromiseWaiter **waiter)
{
  PromiseWaiter *w = g_atomic_rc_box_new0 (PromiseWaiter);
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  *waiter = g_atomic_rc_box_acquire (w);
  return gst_promise_new_with_change_func (promise_changed, w,
                                           promise_waiter_unref);
}

/* Waits for @promise until @deadline; TRUE if webrtcbin replied without an
 * error. @reply (may be NULL) gets the reply structure, owned by the
 * promise; webrtcbin replies NULL to the set-*-description calls. */
static gboolean
promise_wait_reply (GstPromise *promise, PromiseWaiter *w, gint64 deadline,
                    const gchar *what, const GstStructure **reply,
                    GError **error)
{
  g_mutex_lock (&w->lock);
  while (!w->done && g_cond_wait_until (&w->cond, &w->lock, deadline))
    ;
  gboolean done = w->done;
  g_mutex_unlock (&w->lock);
  promise_waiter_unref (w);
  if (!done) {
    gst_promise_interrupt (promise);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "webrtcbin did not answer %s in time", what);
    return FALSE;
  }
  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s was interrupted",
                 what);
    return FALSE;
  }
  const GstStructure *r = gst_promise_get_reply (promise);
  GError *perr = NULL;
  if (r && gst_structure_get (r, "error", G_TYPE_ERROR, &perr, NULL)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", what,
                 perr->message);
    g_error_free (perr);
    return FALSE;
  }
  if (reply)
    *reply = r;
  return TRUE;
}

typedef struct {
  SxCamera *camera;
  GstSDPMessage *offer;
  SxCameraAnswerFunc done;
  gpointer user_data;
  gchar *answer;
  GError *error;
} AnswerJob;

static void
answer_job_free (AnswerJob *job)
{
  sx_camera_unref (job->camera);
  if (job->offer)
    gst_sdp_message_free (job->offer);
  g_free (job->answer);
  g_clear_error (&job->error);
  g_free (job);
}

static gboolean
answer_done_main (gpointer user_data)
{
  AnswerJob *job = user_data;
  SxCamera *camera = job->camera;
  if (job->error == NULL) {
    camera->answered = TRUE;
    /* the no-media clock starts when the peer has what it needs to send */
    atomic_store (&camera->last_frame_us, g_get_monotonic_time ());
  }
  if (job->done)
    job->done (camera, job->answer, job->error, job->user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
start_pipeline (SxCamera *camera, GError **error)
{
  gboolean ok = TRUE;
  g_mutex_lock (&camera->state_lock);
  if (camera->stopping) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 "camera stopped while starting");
    ok = FALSE;
  } else if (gst_element_set_state (camera->pipeline, GST_STATE_PLAYING)
             == GST_STATE_CHANGE_FAILURE) {
    g_set_error (
        error, GST_CORE_ERROR, GST_CORE_ERROR_STATE_CHANGE,
        "the pipeline failed to start (see the log for the element's error)");
    ok = FALSE;
  }
  g_mutex_unlock (&camera->state_lock);
  return ok;
}

static gchar *
negotiate (SxCamera *camera, GstSDPMessage *offer_sdp, GError **error)
{
  /* One codec in the answer: the first of the launcher's preference that
   * the camera offers and a branch of the pipe file decodes. The camera
   * then has no choice to make, and the branches of the others can go
   * before any media flows. */
  guint twcc = 0;
  gint pt = -1;
  const gchar *codec = NULL;
  for (gchar **c = camera->options.codecs; c && *c && pt < 0; c++) {
    if (!sx_codec_branch_decodes (GST_BIN (camera->pipeline), *c))
      continue;
    pt = sx_sdp_find_video_payload (offer_sdp, *c, NULL, &twcc);
    codec = *c;
  }
  if (pt < 0) {
    g_autofree gchar *list = g_strjoinv (", ", camera->options.codecs);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "the offer has no video the pipe file decodes (%s)", list);
    return NULL;
  }
  guint pruned = sx_codec_branch_prune (GST_BIN (camera->pipeline), codec,
                                        camera->pruned_heads);
  GST_INFO_OBJECT (camera->pipeline,
                   "answers with %s (payload %d); %u other codec branch(es) "
                   "removed",
                   codec, pt, pruned);
  g_mutex_lock (&camera->lock);
  g_strlcpy (camera->codec, codec, sizeof camera->codec);
  g_mutex_unlock (&camera->lock);
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  /* A receive-only transceiver with the offered payload type, so the answer
   * uses it (aiortc offers VP8 as 97, Chrome as 96; an H.264 payload's
   * format parameters come from the offer through the intersection), and
   * with the offered transport-wide-cc extension: without it in the answer
   * Chrome's bandwidth estimate stays ~300 kbps (docs/signaling.md). */
  GstCaps *caps = gst_caps_new_simple (
      "application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
      G_TYPE_STRING, codec, "payload", G_TYPE_INT, pt, "clock-rate", G_TYPE_INT,
      90000, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE, "rtcp-fb-nack-pli",
      G_TYPE_BOOLEAN, TRUE, "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  if (twcc > 0) {
    g_autofree gchar *field = g_strdup_printf ("extmap-%u", twcc);
    gst_caps_set_simple (
        caps, field, G_TYPE_STRING,
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-"
        "extensions-01",
        "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE, NULL);
  }
  GstWebRTCRTPTransceiver *trans = NULL;
  g_signal_emit_by_name (camera->webrtc, "add-transceiver",
                         GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps,
                         &trans);
  gst_caps_unref (caps);
  if (trans == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "webrtcbin refused the %s transceiver", codec);
    return NULL;
  }
  gst_object_unref (trans);

  /* the description takes the SDP it is given; the job keeps its own */
  GstSDPMessage *sdp_copy = NULL;
  gst_sdp_message_copy (offer_sdp, &sdp_copy);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (
      GST_WEBRTC_SDP_TYPE_OFFER, sdp_copy);
  PromiseWaiter *w;
  GstPromise *promise = promise_new_waitable (&w);
  g_signal_emit_by_name (camera->webrtc, "set-remote-description", offer,
                         promise);
  gst_webrtc_session_description_free (offer);
  gboolean ok = promise_wait_reply (promise, w, deadline,
                                    "set-remote-description", NULL, error);
  gst_promise_unref (promise);
  if (!ok)
    return NULL;
  flush_early_candidates (camera);

  promise = promise_new_waitable (&w);
  g_signal_emit_by_name (camera->webrtc, "create-answer", NULL, promise);
  const GstStructure *reply = NULL;
  GstWebRTCSessionDescription *answer = NULL;
  if (promise_wait_reply (promise, w, deadline, "create-answer", &reply, error)
      && reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
                       &answer, NULL);
  gst_promise_unref (promise);
  if (answer == NULL) {
    if (*error == NULL)
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "webrtcbin made no answer");
    return NULL;
  }

  promise = promise_new_waitable (&w);
  g_signal_emit_by_name (camera->webrtc, "set-local-description", answer,
                         promise);
  gst_webrtc_session_description_free (answer);
  ok = promise_wait_reply (promise, w, deadline, "set-local-description", NULL,
                           error);
  gst_promise_unref (promise);
  if (!ok)
    return NULL;

  /* Non-trickle: the answer carries every candidate, so wait for the
   * gathering to complete, but not forever (a dead STUN/TURN server). */
  gint64 gather_deadline = g_get_monotonic_time ()
                           + (gint64)camera->options.gather_timeout_ms * 1000;
  g_mutex_lock (&camera->lock);
  for (;;) {
    GstWebRTCICEGatheringState state;
    g_object_get (camera->webrtc, "ice-gathering-state", &state, NULL);
    if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE || camera->stopping)
      break;
    if (!g_cond_wait_until (&camera->cond, &camera->lock, gather_deadline)) {
      GST_WARNING_OBJECT (camera->pipeline,
                          "ICE gathering not complete after %u ms, "
                          "answering with the candidates so far",
                          camera->options.gather_timeout_ms);
      break;
    }
  }
  gboolean stopping = camera->stopping;
  g_mutex_unlock (&camera->lock);
  if (stopping) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 "camera stopped while answering");
    return NULL;
  }

  GstWebRTCSessionDescription *local = NULL;
  g_object_get (camera->webrtc, "local-description", &local, NULL);
  if (local == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "webrtcbin has no local description");
    return NULL;
  }
  gchar *text = gst_sdp_message_as_text (local->sdp);
  gst_webrtc_session_description_free (local);
  return text;
}

static gpointer
answer_thread (gpointer user_data)
{
  AnswerJob *job = user_data;
  if (start_pipeline (job->camera, &job->error))
    job->answer = negotiate (job->camera, job->offer, &job->error);
  g_main_context_invoke_full (job->camera->context, G_PRIORITY_DEFAULT,
                              answer_done_main, job,
                              (GDestroyNotify)answer_job_free);
  return NULL;
}

void
sx_camera_answer (SxCamera *camera, GstSDPMessage *offer,
                  SxCameraAnswerFunc done, gpointer user_data)
{
  if (sx_sdp_unbundle_if_inconsistent (offer))
    GST_INFO_OBJECT (camera->pipeline,
                     "the offer's BUNDLE sections have different ICE "
                     "credentials: answering without BUNDLE");
  /* Browsers offer one BUNDLE group (max-bundle) and refuse an answer that
   * drops it; webrtcbin answers with the group only under max-bundle,
   * which must be set before the pipeline starts. */
  GstWebRTCBundlePolicy policy;
  g_object_get (camera->webrtc, "bundle-policy", &policy, NULL);
  if (policy == GST_WEBRTC_BUNDLE_POLICY_NONE && sx_sdp_has_bundle (offer))
    g_object_set (camera->webrtc, "bundle-policy",
                  GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  AnswerJob *job = g_new0 (AnswerJob, 1);
  job->camera = sx_camera_ref (camera);
  job->offer = offer;
  job->done = done;
  job->user_data = user_data;
  g_autofree gchar *name = g_strdup_printf ("answer-%.8s", camera->id);
  g_thread_unref (g_thread_new (name, answer_thread, job));
}

/* ---- stopping ---- */

gboolean
sx_camera_send_eos (SxCamera *camera, SxCameraDoneFunc done, gpointer user_data)
{
  /* EOS into whatever webrtcbin feeds: webrtcbin itself would pass an EOS
   * sent to the pipeline only to its ICE sources, and nothing guarantees it
   * comes out of the RTP session at the other end. */
  clear_eos_waiting (camera);
  GstIterator *sinks = gst_bin_iterate_sinks (GST_BIN (camera->pipeline));
  GValue sink = G_VALUE_INIT;
  while (gst_iterator_next (sinks, &sink) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&sink);
    if (e != camera->webrtc)
      camera->eos_waiting
          = g_list_prepend (camera->eos_waiting, gst_object_ref (e));
    g_value_reset (&sink);
  }
  g_value_unset (&sink);
  gst_iterator_free (sinks);

  guint sent = 0;
  GstIterator *it = gst_element_iterate_src_pads (camera->webrtc);
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&item);
    GstPad *peer = gst_pad_get_peer (pad);
    if (peer) {
      if (gst_pad_send_event (peer, gst_event_new_eos ()))
        sent++;
      gst_object_unref (peer);
    }
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  if (sent == 0 || camera->eos_waiting == NULL) {
    clear_eos_waiting (camera);
    return FALSE;
  }
  camera->eos_func = done;
  camera->eos_data = user_data;
  return TRUE;
}

typedef struct {
  SxCamera *camera;
  SxCameraDoneFunc done;
  gpointer user_data;
} StopJob;

static gboolean
stop_done_main (gpointer user_data)
{
  StopJob *job = user_data;
  if (job->done)
    job->done (job->camera, job->user_data);
  return G_SOURCE_REMOVE;
}

static void
stop_job_free (StopJob *job)
{
  sx_camera_unref (job->camera);
  g_free (job);
}

/* A stopped camera's threads leave what they freed in glibc's arenas,
 * where it stays resident: malloc gives it back to the system by itself
 * only from an arena's top, and only past a trim threshold that follows
 * the largest block freed so far (several MB here). A pipeline in NULL has
 * freed its frames and buffers, so the free pages of every arena go back
 * now (main.c caps the arenas; docs/performance.md, "Launcher soak"). */
static void
release_free_heap (const gchar *camera_id)
{
#ifdef __GLIBC__
  gint64 start = g_get_monotonic_time ();
  malloc_trim (0);
  GST_DEBUG ("camera %s: free heap returned to the system in %" G_GINT64_FORMAT
             " us",
             camera_id, g_get_monotonic_time () - start);
#else
  (void)camera_id;
#endif
}

static gpointer
stop_thread (gpointer user_data)
{
  StopJob *job = user_data;
  SxCamera *camera = job->camera;
  g_mutex_lock (&camera->lock);
  camera->stopping = TRUE;
  g_cond_broadcast (&camera->cond);
  g_mutex_unlock (&camera->lock);
  g_mutex_lock (&camera->state_lock);
  camera->stopping = TRUE;
  gst_element_set_state (camera->pipeline, GST_STATE_NULL);
  g_mutex_unlock (&camera->state_lock);
  GST_INFO_OBJECT (camera->pipeline, "pipeline stopped");
  release_free_heap (camera->id);
  g_main_context_invoke_full (camera->context, G_PRIORITY_DEFAULT,
                              stop_done_main, job,
                              (GDestroyNotify)stop_job_free);
  return NULL;
}

gboolean
sx_camera_stop (SxCamera *camera, SxCameraDoneFunc done, gpointer user_data)
{
  if (camera->stopped)
    return FALSE;
  camera->stopped = TRUE;
  camera->stopped_func = NULL;
  camera->eos_func = NULL;
  clear_eos_waiting (camera);
  drop_source (&camera->bus_source);
  drop_source (&camera->watchdog);
  drop_source (&camera->disconnect_timer);
  StopJob *job = g_new0 (StopJob, 1);
  job->camera = sx_camera_ref (camera);
  job->done = done;
  job->user_data = user_data;
  g_autofree gchar *name = g_strdup_printf ("stop-%.8s", camera->id);
  g_thread_unref (g_thread_new (name, stop_thread, job));
  return TRUE;
}

void
sx_camera_get_stats (SxCamera *camera, SxCameraStats *stats)
{
  stats->frames_in = atomic_load (&camera->frames_in);
  stats->faces = camera->faces;
  stats->faces_carried = camera->faces_carried;
  stats->analyses = camera->analyses;
  stats->frames_emitted = camera->frames_emitted;
  stats->drops = camera->drops;
  stats->connected = camera->connected;
  g_mutex_lock (&camera->lock);
  g_strlcpy (stats->remote_candidate_type,
             camera->remote_candidate_type ? camera->remote_candidate_type : "",
             sizeof stats->remote_candidate_type);
  g_strlcpy (stats->codec, camera->codec, sizeof stats->codec);
  g_mutex_unlock (&camera->lock);
}

static void
set_lease_epoch (const GValue *item, gpointer user_data)
{
  GObject *element = g_value_get_object (item);
  GParamSpec *pspec = g_object_class_find_property (
      G_OBJECT_GET_CLASS (element), "lease-epoch");
  if (pspec && pspec->value_type == G_TYPE_UINT64)
    g_object_set (element, "lease-epoch", *(guint64 *)user_data, NULL);
}

void
sx_camera_set_lease_epoch (SxCamera *camera, guint64 epoch)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (camera->pipeline));
  while (gst_iterator_foreach (it, set_lease_epoch, &epoch)
         == GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
}
