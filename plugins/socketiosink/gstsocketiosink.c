/* surveillx-gst — socketiosink: JPEG frames to a Socket.IO server.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-socketiosink
 * @title: socketiosink
 *
 * Emits every `image/jpeg` buffer as one Socket.IO event, the way the
 * Python dashboard feeder did:
 *
 *     sio.emit('frame', {'frame': base64_jpeg, 'camera_id': 1},
 *              namespace='/stream')
 *
 * with `timestamp` and the `faces` facerecog attached upstream added to the
 * payload. The Socket.IO client (sioclient.c) runs on its own thread; render
 * only encodes and queues, so a slow or absent server never stalls the
 * pipeline: frames are dropped and counted instead (see the `stats`
 * property and the `socketiosink-stats` element messages).
 *
 * Sinks in one process that point at the same server, namespace and auth
 * (with the same connection settings) share one Socket.IO connection, as
 * one Python client served every camera: each keeps its own frames, ack
 * window and statistics, and they take turns on the socket
 * (`shared-connection=false` gives a sink a connection of its own).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc is-live=true ! jpegenc ! \
 *     socketiosink url=http://127.0.0.1:5000 camera-id=1
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstsocketiosink.h"
#include "sioclient.h"
#include <surveillx/faceresult.h>
#include "sxcameraid.h"
#include "sxfacemeta.h"

#include <gst/video/video.h>
#include <math.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_socketio_sink_debug);
#define GST_CAT_DEFAULT gst_socketio_sink_debug

#define DEFAULT_URL "http://127.0.0.1:5000"
#define DEFAULT_NAMESPACE "/stream"
#define DEFAULT_EVENT "frame"
#define DEFAULT_CAMERA_ID NULL
#define DEFAULT_BINARY FALSE
#define DEFAULT_TRANSPORT SX_SIO_TRANSPORT_AUTO
#define DEFAULT_RECONNECT_DELAY 500
#define DEFAULT_RECONNECT_MAX_DELAY 3000
#define DEFAULT_RECONNECT_ATTEMPTS -1
#define DEFAULT_RETRY_REJECTED FALSE
#define DEFAULT_CONNECT_TIMEOUT 5000
#define DEFAULT_MAX_IN_FLIGHT 4
#define DEFAULT_ACK_TIMEOUT 5000
/* python-engineio's max_http_buffer_size default */
#define DEFAULT_MAX_MESSAGE_SIZE 1000000
#define DEFAULT_MAX_INCOMING_SIZE SX_SIO_DEFAULT_MAX_INCOMING_PAYLOAD
#define MIN_MAX_INCOMING_SIZE 1024
#define DEFAULT_STATS_INTERVAL 1000
#define DEFAULT_SHARED_CONNECTION TRUE
/* Oversized frames are logged each time but posted as a bus warning at
 * most this often, so a misconfigured encoder does not flood the bus. */
#define OVERSIZE_WARNING_INTERVAL_US (5 * G_USEC_PER_SEC)

enum {
  PROP_0,
  PROP_URL,
  PROP_NAMESPACE,
  PROP_EVENT,
  PROP_CAMERA_ID,
  PROP_AUTH,
  PROP_TLS_CA_FILE,
  PROP_EXTRA_HEADERS,
  PROP_BINARY,
  PROP_TRANSPORT,
  PROP_RECONNECT_DELAY,
  PROP_RECONNECT_MAX_DELAY,
  PROP_RECONNECT_ATTEMPTS,
  PROP_RETRY_REJECTED,
  PROP_CONNECT_TIMEOUT,
  PROP_MAX_IN_FLIGHT,
  PROP_ACK_TIMEOUT,
  PROP_MAX_MESSAGE_SIZE,
  PROP_MAX_INCOMING_SIZE,
  PROP_STATS_INTERVAL,
  PROP_SHARED_CONNECTION,
  PROP_STATS,
};

struct _GstSocketioSink {
  GstBaseSink parent;

  /* Properties, under the object lock */
  gchar *url;
  gchar *nsp;
  gchar *event;
  gchar *camera_id;
  gchar *auth;
  gchar *tls_ca_file;
  GstStructure *extra_headers;
  gboolean binary;
  SxSioTransport transport;
  guint reconnect_delay;
  guint reconnect_max_delay;
  gint reconnect_attempts;
  gboolean retry_rejected;
  guint connect_timeout;
  guint max_in_flight;
  guint ack_timeout;
  guint max_message_size;
  guint max_incoming_size;
  guint stats_interval;
  gboolean shared_connection;

  /* The JSON text of camera_id, computed at start */
  gchar *camera_id_json;
  SxSioClient *client;
  /* Stats of the last run, kept readable after stop */
  SxSioStats final_stats;
  gboolean have_final_stats;
  gint64 last_oversize_warning_us;
  gboolean fatal;
  GMutex fatal_lock; /* held while the fatal error is posted */
  gboolean fatal_posted;
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS ("image/jpeg"));

#define gst_socketio_sink_parent_class parent_class
G_DEFINE_TYPE (GstSocketioSink, gst_socketio_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (socketiosink, "socketiosink", GST_RANK_NONE,
                             GST_TYPE_SOCKETIO_SINK);

GType
gst_socketio_transport_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { SX_SIO_TRANSPORT_AUTO,
      "WebSocket, or HTTP long-polling if the server refuses it", "auto" },
    { SX_SIO_TRANSPORT_WEBSOCKET, "WebSocket only", "websocket" },
    { SX_SIO_TRANSPORT_POLLING, "HTTP long-polling only", "polling" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstSocketioTransport", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
is_all_digits (const gchar *s)
{
  gsize n = 0;

  for (; *s; s++, n++)
    if (!g_ascii_isdigit (*s))
      return FALSE;
  /* Past 15 digits a JSON number loses precision in JavaScript */
  return n > 0 && n <= 15;
}

static gchar *
camera_id_to_json (const gchar *id)
{
  GString *s = g_string_new (NULL);

  if (is_all_digits (id))
    g_string_append_printf (s, "%" G_GUINT64_FORMAT,
                            g_ascii_strtoull (id, NULL, 10));
  else
    sx_json_append_string (s, id);
  return g_string_free (s, FALSE);
}

static GstStructure *
stats_to_structure (const SxSioStats *st)
{
  return gst_structure_new (
      "socketiosink-stats", "sent", G_TYPE_UINT64, st->sent, "acked",
      G_TYPE_UINT64, st->acked, "dropped", G_TYPE_UINT64,
      st->dropped_window + st->dropped_disconnected + st->dropped_oversize,
      "dropped-window", G_TYPE_UINT64, st->dropped_window,
      "dropped-disconnected", G_TYPE_UINT64, st->dropped_disconnected,
      "dropped-oversize", G_TYPE_UINT64, st->dropped_oversize, "ack-timeouts",
      G_TYPE_UINT64, st->ack_timeouts, "bytes-sent", G_TYPE_UINT64,
      st->bytes_sent, "connects", G_TYPE_UINT64, st->connects, "reconnects",
      G_TYPE_UINT64, st->reconnects, "disconnects", G_TYPE_UINT64,
      st->disconnects, "in-flight", G_TYPE_UINT, st->in_flight, "connected",
      G_TYPE_BOOLEAN, st->connected, "transport", G_TYPE_STRING, st->transport,
      "ack-rtt-ms", G_TYPE_DOUBLE, st->ack_rtt_ms, "last-error", G_TYPE_STRING,
      st->last_error ? st->last_error : "", "shared-by", G_TYPE_UINT,
      st->shared_by, NULL);
}

/* ------------------------------------------ client callbacks (its thread) */

static void
on_connected (gpointer data, const gchar *transport, const gchar *sid)
{
  GstSocketioSink *self = data;

  GST_INFO_OBJECT (self, "joined the namespace over %s (sid %s)", transport,
                   GST_STR_NULL (sid));
  gst_element_post_message (
      GST_ELEMENT (self),
      gst_message_new_element (
          GST_OBJECT (self),
          gst_structure_new ("socketiosink-connected", "transport",
                             G_TYPE_STRING, transport, "sid", G_TYPE_STRING,
                             sid ? sid : "", NULL)));
}

static void
on_disconnected (gpointer data, const gchar *reason)
{
  GstSocketioSink *self = data;

  GST_WARNING_OBJECT (self, "connection lost: %s; reconnecting", reason);
  gst_element_post_message (
      GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
                               gst_structure_new ("socketiosink-disconnected",
                                                  "reason", G_TYPE_STRING,
                                                  reason, NULL)));
}

/* Posted once, by whichever comes first: the client thread giving up, or
 * start() seeing it give up (so start's failure never reaches the bus
 * without the server's words). */
static void
post_fatal_error (GstSocketioSink *self, const GError *error)
{
  g_mutex_lock (&self->fatal_lock);
  if (self->fatal_posted) {
    g_mutex_unlock (&self->fatal_lock);
    return;
  }
  self->fatal_posted = TRUE;
  if (g_error_matches (error, SX_EIO_ERROR, SX_EIO_ERROR_REJECTED))
    GST_ELEMENT_ERROR (
        self, RESOURCE, NOT_AUTHORIZED,
        ("Socket.IO server rejected the connection: %s", error->message),
        (NULL));
  else
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_WRITE,
        ("Cannot reach the Socket.IO server: %s", error->message), (NULL));
  g_mutex_unlock (&self->fatal_lock);
}

static void
on_fatal (gpointer data, const GError *error)
{
  GstSocketioSink *self = data;

  g_atomic_int_set (&self->fatal, TRUE);
  post_fatal_error (self, error);
}

static void
on_warning (gpointer data, const gchar *message)
{
  GST_WARNING_OBJECT (GST_SOCKETIO_SINK (data), "%s", message);
}

static void
on_stats (gpointer data, const SxSioStats *stats)
{
  GstSocketioSink *self = data;

  gst_element_post_message (
      GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), stats_to_structure (stats)));
}

/* ------------------------------------------------------------ lifecycle */

static gboolean
collect_header (GQuark field, const GValue *value, gpointer data)
{
  GPtrArray **arrays = data;
  GValue str = G_VALUE_INIT;

  g_value_init (&str, G_TYPE_STRING);
  if (!g_value_transform (value, &str))
    return FALSE;
  g_ptr_array_add (arrays[0], g_strdup (g_quark_to_string (field)));
  g_ptr_array_add (arrays[1], g_value_dup_string (&str));
  g_value_unset (&str);
  return TRUE;
}

static gboolean
gst_socketio_sink_start (GstBaseSink *sink)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (sink);
  SxSioConfig cfg = { 0 };
  SxSioCallbacks cb
      = { on_connected, on_disconnected, on_fatal, on_stats, on_warning };
  GError *error = NULL;
  GPtrArray *headers[2];
  guint connect_timeout;
  SxSioClient *client;
  gchar *camera_id;

  headers[0] = g_ptr_array_new ();
  headers[1] = g_ptr_array_new ();

  GST_OBJECT_LOCK (self);
  cfg.url = g_strdup (self->url);
  cfg.nsp = g_strdup (self->nsp);
  cfg.event = g_strdup (self->event);
  cfg.auth_json = g_strdup (self->auth);
  cfg.tls_ca_file = g_strdup (self->tls_ca_file);
  if (self->extra_headers
      && !gst_structure_foreach (self->extra_headers, collect_header,
                                 headers)) {
    GST_OBJECT_UNLOCK (self);
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
                       ("extra-headers holds a value that is not text"),
                       (NULL));
    goto fail;
  }
  cfg.transport = self->transport;
  cfg.reconnect_delay_ms = self->reconnect_delay;
  cfg.reconnect_max_delay_ms = self->reconnect_max_delay;
  cfg.reconnect_attempts = self->reconnect_attempts;
  cfg.retry_rejected = self->retry_rejected;
  cfg.max_in_flight = self->max_in_flight;
  cfg.max_message_size = self->max_message_size;
  cfg.ack_timeout_ms = self->ack_timeout;
  cfg.stats_interval_ms = self->stats_interval;
  cfg.max_incoming_payload = self->max_incoming_size;
  cfg.exclusive = !self->shared_connection;
  connect_timeout = self->connect_timeout;
  camera_id = g_strdup (self->camera_id);
  GST_OBJECT_UNLOCK (self);

  /* outside the lock: it locks each parent on the way up */
  gchar *resolved = sx_camera_id_resolve (GST_ELEMENT (self), camera_id);
  g_free (camera_id);
  GST_OBJECT_LOCK (self);
  g_free (self->camera_id_json);
  self->camera_id_json = camera_id_to_json (resolved);
  GST_OBJECT_UNLOCK (self);
  g_free (resolved);

  g_ptr_array_add (headers[0], NULL);
  g_ptr_array_add (headers[1], NULL);
  cfg.header_names = (gchar **)g_ptr_array_free (headers[0], FALSE);
  cfg.header_values = (gchar **)g_ptr_array_free (headers[1], FALSE);
  headers[0] = headers[1] = NULL;

  if (!cfg.url || !*cfg.url) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("No url set"), (NULL));
    goto fail;
  }
  client = sx_sio_client_new (&cfg, &cb, self, &error);
  if (!client) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
                       ("Invalid socketiosink settings: %s", error->message),
                       (NULL));
    g_error_free (error);
    goto fail;
  }
  sx_sio_config_clear (&cfg);

  g_atomic_int_set (&self->fatal, FALSE);
  g_mutex_lock (&self->fatal_lock);
  self->fatal_posted = FALSE;
  g_mutex_unlock (&self->fatal_lock);
  self->last_oversize_warning_us = 0;
  sx_sio_stats_clear (&self->final_stats);
  self->have_final_stats = FALSE;
  GST_OBJECT_LOCK (self);
  self->client = client;
  GST_OBJECT_UNLOCK (self);
  sx_sio_client_start (client);

  /* Like the Python client's blocking connect(): the first frames should
   * not be dropped just because the handshake is still running. */
  if (connect_timeout > 0
      && !sx_sio_client_wait_connected (client, connect_timeout, &error)) {
    if (error) {
      post_fatal_error (self, error);
      GST_DEBUG_OBJECT (self, "start failed: %s", error->message);
      g_error_free (error);
      return FALSE;
    }
    GST_ELEMENT_WARNING (
        self, RESOURCE, OPEN_WRITE,
        ("Not connected to %s after %u ms; frames are dropped until it is",
         self->url, connect_timeout),
        (NULL));
  }
  return TRUE;

fail:
  if (headers[0]) {
    g_ptr_array_set_free_func (headers[0], g_free);
    g_ptr_array_set_free_func (headers[1], g_free);
    g_ptr_array_unref (headers[0]);
    g_ptr_array_unref (headers[1]);
  }
  sx_sio_config_clear (&cfg);
  return FALSE;
}

static gboolean
gst_socketio_sink_stop (GstBaseSink *sink)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (sink);
  SxSioClient *client;

  GST_OBJECT_LOCK (self);
  client = self->client;
  self->client = NULL;
  GST_OBJECT_UNLOCK (self);
  if (client) {
    SxSioStats stats;

    sx_sio_client_get_stats (client, &stats);
    /* Joins the client thread: no callback runs after this */
    sx_sio_client_free (client);
    stats.connected = FALSE;
    stats.in_flight = 0;
    stats.transport = "none";
    GST_OBJECT_LOCK (self);
    sx_sio_stats_clear (&self->final_stats);
    self->final_stats = stats;
    self->have_final_stats = TRUE;
    GST_OBJECT_UNLOCK (self);
    GST_INFO_OBJECT (self,
                     "stopped: %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT
                     " acked",
                     stats.sent, stats.acked);
  }
  return TRUE;
}

/* ---------------------------------------------------------------- render */

typedef struct {
  GstBuffer *buffer;
  GstMapInfo map;
} MappedBuffer;

static void
mapped_buffer_free (gpointer data)
{
  MappedBuffer *m = data;

  gst_buffer_unmap (m->buffer, &m->map);
  gst_buffer_unref (m->buffer);
  g_free (m);
}

static void
append_double (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isfinite (v))
    g_string_append (out, g_ascii_dtostr (buf, sizeof (buf), v));
  else
    g_string_append (out, "null");
}

/* One entry per face facerecog found (see surveillx/faceresult.h) */
static void
append_faces (GString *out, GstBuffer *buffer)
{
  gpointer state = NULL;
  GstMeta *meta;
  gboolean first = TRUE;
  GQuark face_type = g_quark_from_static_string (SX_FACE_ROI_TYPE);

  g_string_append (out, "[");
  while ((meta = gst_buffer_iterate_meta_filtered (
              buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    const GstStructure *params;
    const gchar *label = NULL, *id = NULL;
    gdouble distance;
    gboolean confirmed;
    guint track;

    if (roi->roi_type != face_type)
      continue;
    if (!first)
      g_string_append_c (out, ',');
    first = FALSE;
    g_string_append_printf (out,
                            "{\"box\":{\"x\":%u,\"y\":%u,\"w\":%u,"
                            "\"h\":%u}",
                            roi->x, roi->y, roi->w, roi->h);
    params = sx_face_params_of (buffer, roi);
    if (params) {
      label = gst_structure_get_string (params, SX_FACE_FIELD_LABEL);
      id = gst_structure_get_string (params, SX_FACE_FIELD_ID);
    }
    g_string_append (out, ",\"label\":");
    sx_json_append_string (out, label ? label : SX_FACE_LABEL_UNKNOWN);
    g_string_append (out, ",\"id\":");
    sx_json_append_string (out, id ? id : "");
    g_string_append (out, ",\"distance\":");
    if (params
        && gst_structure_get_double (params, SX_FACE_FIELD_DISTANCE, &distance))
      append_double (out, distance);
    else
      g_string_append (out, "null");
    if (params
        && gst_structure_get_boolean (params, SX_FACE_FIELD_CONFIRMED,
                                      &confirmed))
      g_string_append_printf (out, ",\"confirmed\":%s",
                              confirmed ? "true" : "false");
    if (params
        && gst_structure_get_uint (params, SX_FACE_FIELD_TRACK_ID, &track))
      g_string_append_printf (out, ",\"track_id\":%u", track);
    g_string_append_c (out, '}');
  }
  g_string_append (out, "]");
}

static GstFlowReturn
gst_socketio_sink_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (sink);
  MappedBuffer *mapped;
  GString *json;
  GBytes *attachment = NULL;
  SxSioEmitResult result;
  gboolean binary;
  GstClockTime pts = GST_BUFFER_PTS (buffer);

  if (g_atomic_int_get (&self->fatal))
    return GST_FLOW_ERROR;

  mapped = g_new0 (MappedBuffer, 1);
  if (!gst_buffer_map (buffer, &mapped->map, GST_MAP_READ)) {
    g_free (mapped);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Cannot map buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  mapped->buffer = gst_buffer_ref (buffer);

  GST_OBJECT_LOCK (self);
  binary = self->binary;
  GST_OBJECT_UNLOCK (self);

  json = g_string_sized_new (mapped->map.size / 3 * 4 + 512);
  g_string_append (json, "{\"frame\":");
  if (binary) {
    /* The attachment borrows the buffer's memory until it is sent */
    attachment = g_bytes_new_with_free_func (mapped->map.data, mapped->map.size,
                                             mapped_buffer_free, mapped);
    mapped = NULL;
    g_string_append (json, "{\"_placeholder\":true,\"num\":0}");
  } else {
    gsize start, written;
    gint state = 0, save = 0;

    /* Encode straight into the payload: base64 needs no JSON escaping */
    g_string_append_c (json, '"');
    start = json->len;
    g_string_set_size (json, start + (mapped->map.size / 3 + 1) * 4 + 4);
    written = g_base64_encode_step (mapped->map.data, mapped->map.size, FALSE,
                                    json->str + start, &state, &save);
    written += g_base64_encode_close (FALSE, json->str + start + written,
                                      &state, &save);
    g_string_set_size (json, start + written);
    g_string_append_c (json, '"');
    mapped_buffer_free (mapped);
    mapped = NULL;
  }
  g_string_append (json, ",\"camera_id\":");
  g_string_append (json, self->camera_id_json);
  /* Wall-clock seconds, as the Python feeder's time.time(): the dashboard
   * compares it with its own clock to show latency. */
  g_string_append (json, ",\"timestamp\":");
  append_double (json, g_get_real_time () / 1e6);
  g_string_append (json, ",\"pts\":");
  if (GST_CLOCK_TIME_IS_VALID (pts))
    g_string_append_printf (json, "%" G_GUINT64_FORMAT, pts);
  else
    g_string_append (json, "null");
  g_string_append (json, ",\"faces\":");
  append_faces (json, buffer);
  g_string_append_c (json, '}');

  result = sx_sio_client_emit (self->client, json->str, json->len, attachment);
  if (result == SX_SIO_EMIT_DROPPED_OVERSIZE) {
    gint64 now = g_get_monotonic_time ();

    GST_WARNING_OBJECT (self,
                        "frame of %" G_GSIZE_FORMAT " bytes (%" G_GSIZE_FORMAT
                        " encoded) exceeds max-message-size %u: dropped",
                        gst_buffer_get_size (buffer), json->len,
                        self->max_message_size);
    if (self->last_oversize_warning_us == 0
        || now - self->last_oversize_warning_us
               > OVERSIZE_WARNING_INTERVAL_US) {
      self->last_oversize_warning_us = now;
      GST_ELEMENT_WARNING (
          self, RESOURCE, WRITE,
          ("Frame dropped: its message would exceed max-message-size (%u "
           "bytes), which makes the server drop the connection",
           self->max_message_size),
          (NULL));
    }
  } else if (result == SX_SIO_EMIT_DROPPED_DISCONNECTED) {
    GST_LOG_OBJECT (self, "not connected: frame dropped");
  }
  if (attachment)
    g_bytes_unref (attachment);
  g_string_free (json, TRUE);
  return GST_FLOW_OK;
}

static gboolean
gst_socketio_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (sink);

  /* The last frames are usually still waiting for their acks: let them
   * arrive before EOS lets the application tear the client down. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->client) {
    guint timeout;

    GST_OBJECT_LOCK (self);
    timeout = self->ack_timeout > 0 ? self->ack_timeout : 2000;
    GST_OBJECT_UNLOCK (self);
    if (!sx_sio_client_drain (self->client, timeout))
      GST_WARNING_OBJECT (self,
                          "EOS: frames still unacknowledged after "
                          "%u ms",
                          timeout);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* ------------------------------------------------------------- GObject */

static GstStructure *
get_stats (GstSocketioSink *self)
{
  SxSioStats stats;
  GstStructure *s;
  SxSioClient *client;

  GST_OBJECT_LOCK (self);
  client = self->client;
  if (!client) {
    if (self->have_final_stats) {
      s = stats_to_structure (&self->final_stats);
    } else {
      SxSioStats empty = { 0 };
      empty.transport = "none";
      s = stats_to_structure (&empty);
    }
    GST_OBJECT_UNLOCK (self);
    return s;
  }
  /* stop() takes the client under the same lock before freeing it */
  sx_sio_client_get_stats (client, &stats);
  GST_OBJECT_UNLOCK (self);
  s = stats_to_structure (&stats);
  sx_sio_stats_clear (&stats);
  return s;
}

static void
gst_socketio_sink_set_property (GObject *object, guint prop_id,
                                const GValue *value, GParamSpec *pspec)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URL:
      g_free (self->url);
      self->url = g_value_dup_string (value);
      break;
    case PROP_NAMESPACE:
      g_free (self->nsp);
      self->nsp = g_value_dup_string (value);
      break;
    case PROP_EVENT:
      g_free (self->event);
      self->event = g_value_dup_string (value);
      break;
    case PROP_CAMERA_ID:
      g_free (self->camera_id);
      self->camera_id = g_value_dup_string (value);
      break;
    case PROP_TLS_CA_FILE:
      g_free (self->tls_ca_file);
      self->tls_ca_file = g_value_dup_string (value);
      break;
    case PROP_AUTH:
      g_free (self->auth);
      self->auth = g_value_dup_string (value);
      break;
    case PROP_EXTRA_HEADERS:
      if (self->extra_headers)
        gst_structure_free (self->extra_headers);
      self->extra_headers = g_value_dup_boxed (value);
      break;
    case PROP_BINARY:
      self->binary = g_value_get_boolean (value);
      break;
    case PROP_TRANSPORT:
      self->transport = g_value_get_enum (value);
      break;
    case PROP_RECONNECT_DELAY:
      self->reconnect_delay = g_value_get_uint (value);
      break;
    case PROP_RECONNECT_MAX_DELAY:
      self->reconnect_max_delay = g_value_get_uint (value);
      break;
    case PROP_RECONNECT_ATTEMPTS:
      self->reconnect_attempts = g_value_get_int (value);
      break;
    case PROP_RETRY_REJECTED:
      self->retry_rejected = g_value_get_boolean (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      self->connect_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_IN_FLIGHT:
      self->max_in_flight = g_value_get_uint (value);
      break;
    case PROP_ACK_TIMEOUT:
      self->ack_timeout = g_value_get_uint (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      self->max_message_size = g_value_get_uint (value);
      break;
    case PROP_MAX_INCOMING_SIZE:
      self->max_incoming_size = g_value_get_uint (value);
      break;
    case PROP_STATS_INTERVAL:
      self->stats_interval = g_value_get_uint (value);
      break;
    case PROP_SHARED_CONNECTION:
      self->shared_connection = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_socketio_sink_get_property (GObject *object, guint prop_id, GValue *value,
                                GParamSpec *pspec)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, get_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_NAMESPACE:
      g_value_set_string (value, self->nsp);
      break;
    case PROP_EVENT:
      g_value_set_string (value, self->event);
      break;
    case PROP_CAMERA_ID:
      g_value_set_string (value, self->camera_id);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, self->tls_ca_file);
      break;
    case PROP_AUTH:
      g_value_set_string (value, self->auth);
      break;
    case PROP_EXTRA_HEADERS:
      g_value_set_boxed (value, self->extra_headers);
      break;
    case PROP_BINARY:
      g_value_set_boolean (value, self->binary);
      break;
    case PROP_TRANSPORT:
      g_value_set_enum (value, self->transport);
      break;
    case PROP_RECONNECT_DELAY:
      g_value_set_uint (value, self->reconnect_delay);
      break;
    case PROP_RECONNECT_MAX_DELAY:
      g_value_set_uint (value, self->reconnect_max_delay);
      break;
    case PROP_RECONNECT_ATTEMPTS:
      g_value_set_int (value, self->reconnect_attempts);
      break;
    case PROP_RETRY_REJECTED:
      g_value_set_boolean (value, self->retry_rejected);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case PROP_MAX_IN_FLIGHT:
      g_value_set_uint (value, self->max_in_flight);
      break;
    case PROP_ACK_TIMEOUT:
      g_value_set_uint (value, self->ack_timeout);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint (value, self->max_message_size);
      break;
    case PROP_MAX_INCOMING_SIZE:
      g_value_set_uint (value, self->max_incoming_size);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, self->stats_interval);
      break;
    case PROP_SHARED_CONNECTION:
      g_value_set_boolean (value, self->shared_connection);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_socketio_sink_finalize (GObject *object)
{
  GstSocketioSink *self = GST_SOCKETIO_SINK (object);

  g_free (self->url);
  g_free (self->nsp);
  g_free (self->event);
  g_free (self->camera_id);
  g_free (self->camera_id_json);
  g_free (self->auth);
  g_free (self->tls_ca_file);
  if (self->extra_headers)
    gst_structure_free (self->extra_headers);
  sx_sio_stats_clear (&self->final_stats);
  g_mutex_clear (&self->fatal_lock);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_socketio_sink_init (GstSocketioSink *self)
{
  self->url = g_strdup (DEFAULT_URL);
  self->nsp = g_strdup (DEFAULT_NAMESPACE);
  self->event = g_strdup (DEFAULT_EVENT);
  self->camera_id = g_strdup (DEFAULT_CAMERA_ID);
  self->binary = DEFAULT_BINARY;
  self->transport = DEFAULT_TRANSPORT;
  self->reconnect_delay = DEFAULT_RECONNECT_DELAY;
  self->reconnect_max_delay = DEFAULT_RECONNECT_MAX_DELAY;
  self->reconnect_attempts = DEFAULT_RECONNECT_ATTEMPTS;
  self->retry_rejected = DEFAULT_RETRY_REJECTED;
  self->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  self->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  self->ack_timeout = DEFAULT_ACK_TIMEOUT;
  self->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
  self->max_incoming_size = DEFAULT_MAX_INCOMING_SIZE;
  self->stats_interval = DEFAULT_STATS_INTERVAL;
  self->shared_connection = DEFAULT_SHARED_CONNECTION;
  self->final_stats.transport = "none";
  g_mutex_init (&self->fatal_lock);
}

static void
gst_socketio_sink_class_init (GstSocketioSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw
      = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_socketio_sink_set_property;
  gobject_class->get_property = gst_socketio_sink_get_property;
  gobject_class->finalize = gst_socketio_sink_finalize;

  g_object_class_install_property (
      gobject_class, PROP_URL,
      g_param_spec_string (
          "url", "URL",
          "Socket.IO server (http, https, ws or wss; the path defaults to "
          "/socket.io/)",
          DEFAULT_URL, rw));
  g_object_class_install_property (
      gobject_class, PROP_NAMESPACE,
      g_param_spec_string ("namespace", "Namespace",
                           "Socket.IO namespace to join", DEFAULT_NAMESPACE,
                           rw));
  g_object_class_install_property (
      gobject_class, PROP_EVENT,
      g_param_spec_string ("event", "Event", "Name of the emitted event",
                           DEFAULT_EVENT, rw));
  g_object_class_install_property (
      gobject_class, PROP_CAMERA_ID,
      g_param_spec_string (
          "camera-id", "Camera id",
          "camera_id of the payload: a JSON number when it is all digits, "
          "else a string (NULL or empty: the name of the pipeline, which the "
          "launcher names after the camera)",
          DEFAULT_CAMERA_ID, rw));
  g_object_class_install_property (
      gobject_class, PROP_AUTH,
      g_param_spec_string (
          "auth", "Auth",
          "JSON object sent in the namespace connect packet (NULL: none)", NULL,
          rw));
  g_object_class_install_property (
      gobject_class, PROP_TLS_CA_FILE,
      g_param_spec_string (
          "tls-ca-file", "TLS CA file",
          "PEM file of the certificate authorities an https/wss server's "
          "certificate must chain to, instead of the system's (NULL: the "
          "system's); the certificate and the host name are always checked",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_EXTRA_HEADERS,
      g_param_spec_boxed (
          "extra-headers", "Extra headers",
          "Extra HTTP headers of every request, as a structure whose field "
          "names are header names",
          GST_TYPE_STRUCTURE, rw));
  g_object_class_install_property (
      gobject_class, PROP_BINARY,
      g_param_spec_boolean (
          "binary", "Binary",
          "Send the JPEG as a Socket.IO binary attachment instead of base64",
          DEFAULT_BINARY, rw));
  g_object_class_install_property (
      gobject_class, PROP_TRANSPORT,
      g_param_spec_enum ("transport", "Transport", "Engine.IO transport",
                         GST_TYPE_SOCKETIO_TRANSPORT, DEFAULT_TRANSPORT, rw));
  g_object_class_install_property (
      gobject_class, PROP_RECONNECT_DELAY,
      g_param_spec_uint (
          "reconnect-delay", "Reconnect delay",
          "First reconnection delay in ms (doubled per failed attempt, "
          "jittered to 50-100%)",
          1, 600000, DEFAULT_RECONNECT_DELAY, rw));
  g_object_class_install_property (
      gobject_class, PROP_RECONNECT_MAX_DELAY,
      g_param_spec_uint ("reconnect-max-delay", "Reconnect max delay",
                         "Upper bound of the reconnection delay in ms", 1,
                         3600000, DEFAULT_RECONNECT_MAX_DELAY, rw));
  g_object_class_install_property (
      gobject_class, PROP_RECONNECT_ATTEMPTS,
      g_param_spec_int (
          "reconnect-attempts", "Reconnect attempts",
          "Failed connection attempts in a row before giving up with an "
          "error (-1: forever, 0: never reconnect)",
          -1, G_MAXINT, DEFAULT_RECONNECT_ATTEMPTS, rw));
  g_object_class_install_property (
      gobject_class, PROP_RETRY_REJECTED,
      g_param_spec_boolean (
          "retry-rejected", "Retry rejected",
          "Keep reconnecting when the server rejects the namespace connect "
          "(auth) instead of posting an error",
          DEFAULT_RETRY_REJECTED, rw));
  g_object_class_install_property (
      gobject_class, PROP_CONNECT_TIMEOUT,
      g_param_spec_uint (
          "connect-timeout", "Connect timeout",
          "How long starting waits for the first connection, in ms (0: do "
          "not wait); after it, frames are dropped until connected",
          0, 600000, DEFAULT_CONNECT_TIMEOUT, rw));
  g_object_class_install_property (
      gobject_class, PROP_MAX_IN_FLIGHT,
      g_param_spec_uint (
          "max-in-flight", "Max in flight",
          "Events sent but not acknowledged; when full, only the newest "
          "frame waits and older ones are dropped (0: no acks, no flow "
          "control)",
          0, 1000, DEFAULT_MAX_IN_FLIGHT, rw));
  g_object_class_install_property (
      gobject_class, PROP_ACK_TIMEOUT,
      g_param_spec_uint (
          "ack-timeout", "Ack timeout",
          "An event not acknowledged after this many ms frees its window "
          "slot (0: wait forever)",
          0, 600000, DEFAULT_ACK_TIMEOUT, rw));
  g_object_class_install_property (
      gobject_class, PROP_MAX_MESSAGE_SIZE,
      g_param_spec_uint (
          "max-message-size", "Max message size",
          "Largest message sent, in bytes (the server's "
          "max_http_buffer_size: it drops the connection on a larger one); "
          "larger frames are dropped with a warning",
          64, G_MAXINT, DEFAULT_MAX_MESSAGE_SIZE, rw));
  g_object_class_install_property (
      gobject_class, PROP_MAX_INCOMING_SIZE,
      g_param_spec_uint (
          "max-incoming-size", "Max incoming size",
          "Largest WebSocket message or long-polling response accepted "
          "from the server, in bytes: larger ones drop the connection "
          "(retried). Relayed frames of other cameras may arrive, so it is "
          "well above libsoup's default of 128 KiB",
          MIN_MAX_INCOMING_SIZE, G_MAXUINT, DEFAULT_MAX_INCOMING_SIZE, rw));
  g_object_class_install_property (
      gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint (
          "stats-interval", "Stats interval",
          "Post a socketiosink-stats element message this often, in ms "
          "(0: never)",
          0, 3600000, DEFAULT_STATS_INTERVAL, rw));
  g_object_class_install_property (
      gobject_class, PROP_SHARED_CONNECTION,
      g_param_spec_boolean (
          "shared-connection", "Shared connection",
          "Share one Socket.IO connection with the other sinks of this "
          "process that use the same url, namespace, auth and connection "
          "settings (false: a connection of its own)",
          DEFAULT_SHARED_CONNECTION, rw));
  g_object_class_install_property (
      gobject_class, PROP_STATS,
      g_param_spec_boxed (
          "stats", "Statistics",
          "socketiosink-stats: sent, acked, dropped (window, disconnected, "
          "oversize), ack-timeouts, connects, reconnects, disconnects, "
          "in-flight, connected, transport, ack-rtt-ms, last-error, "
          "shared-by (sinks on the connection, this one included)",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (
      element_class, "Socket.IO sink", "Sink/Network",
      "Emits JPEG frames with face results as Socket.IO events",
      "surveillx-gst developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_socketio_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_socketio_sink_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_socketio_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_socketio_sink_event);

  gst_type_mark_as_plugin_api (GST_TYPE_SOCKETIO_TRANSPORT, 0);
  GST_DEBUG_CATEGORY_INIT (gst_socketio_sink_debug, "socketiosink", 0,
                           "Socket.IO sink");
}
