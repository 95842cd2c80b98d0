/* GET / (the publisher page), /healthz and /metrics (Prometheus text).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "signaling-private.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define PUBLISHER_PAGE "/org/surveillx/launcher/publisher.html"

/* ---- the publisher page ---- */

void
signaling_handle_page (SxSignaling *sig, SoupServerMessage *msg)
{
  if (!signaling_require_method (sig, msg, "GET, HEAD"))
    return;
  g_autoptr (GBytes) page = g_resources_lookup_data (
      PUBLISHER_PAGE, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
  if (page == NULL) {
    signaling_respond_error (sig, msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                             "the publisher page is missing from this build");
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
  gsize len;
  const gchar *data = g_bytes_get_data (page, &len);
  soup_server_message_set_response (msg, "text/html; charset=utf-8",
                                    SOUP_MEMORY_COPY, data, len);
  signaling_count_response (sig, SOUP_STATUS_OK);
}

/* ---- health and metrics ---- */

void
signaling_handle_healthz (SxSignaling *sig, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, sig->shutting_down ? "stopping" : "ok");
  json_builder_set_member_name (b, "cameras");
  json_builder_add_int_value (b, g_hash_table_size (sig->peers));
  /* what an offer may send, preferred first */
  json_builder_set_member_name (b, "codecs");
  json_builder_begin_array (b);
  for (gchar **c = sig->options.camera.codecs; c && *c; c++)
    json_builder_add_string_value (b, *c);
  json_builder_end_array (b);
  if (sig->registry) {
    json_builder_set_member_name (b, "registry");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "launcher");
    json_builder_add_string_value (b,
                                   sx_registry_get_launcher_id (sig->registry));
    json_builder_set_member_name (b, "connected");
    json_builder_add_boolean_value (b,
                                    sx_registry_is_connected (sig->registry));
    json_builder_end_object (b);
  }
  json_builder_end_object (b);
  signaling_respond_json (
      sig, msg,
      sig->shutting_down ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK, b);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
metric_header (GString *out, const gchar *name, const gchar *type,
               const gchar *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                          type);
}

void
signaling_handle_metrics (SxSignaling *sig, SoupServerMessage *msg)
{
  GString *out = g_string_new (NULL);
  metric_header (out, "surveillx_cameras", "gauge", "Cameras with a pipeline.");
  g_string_append_printf (out, "surveillx_cameras %u\n",
                          g_hash_table_size (sig->peers));
  metric_header (out, "surveillx_pipelines", "gauge",
                 "Camera pipelines that exist, stopping ones included (what "
                 "--max-cameras bounds).");
  g_string_append_printf (out, "surveillx_pipelines %u\n",
                          g_hash_table_size (sig->peers) + sig->stops_in_flight
                              + sig->flushes_in_flight);
  metric_header (out, "surveillx_cameras_started_total", "counter",
                 "Camera pipelines started.");
  g_string_append_printf (
      out, "surveillx_cameras_started_total %" G_GUINT64_FORMAT "\n",
      sig->cameras_started);

  /* camera ids are validated ([A-Za-z0-9_-]), so safe as label values */
  g_autofree gpointer *ids = g_hash_table_get_keys_as_array (sig->peers, NULL);
  guint n_ids = g_hash_table_size (sig->peers);
  qsort (ids, n_ids, sizeof (gpointer), compare_strings);
  static const struct {
    const gchar *name, *type, *help;
  } per_camera[] = {
    { "surveillx_camera_frames_in_total", "counter",
      "VP8 frames received from the camera." },
    { "surveillx_camera_frames_emitted_total", "counter",
      "Frames socketiosink sent to the dashboard." },
    { "surveillx_camera_faces_total", "counter",
      "Faces in facerecog's analyses." },
    { "surveillx_camera_faces_carried_total", "counter",
      "Faces whose identity facerecog carried without a new descriptor." },
    { "surveillx_camera_analyses_total", "counter",
      "Frames facerecog analysed." },
    { "surveillx_camera_drops_total", "counter",
      "Frames socketiosink dropped." },
    { "surveillx_camera_connected", "gauge", "1 while ICE is connected." },
  };
  for (guint m = 0; m < G_N_ELEMENTS (per_camera); m++) {
    metric_header (out, per_camera[m].name, per_camera[m].type,
                   per_camera[m].help);
    for (guint i = 0; i < n_ids; i++) {
      SxCameraStats st;
      sx_camera_get_stats (signaling_lookup_peer (sig, ids[i])->camera, &st);
      guint64 values[]
          = { st.frames_in, st.frames_emitted, st.faces,    st.faces_carried,
              st.analyses,  st.drops,          st.connected };
      g_string_append_printf (
          out, "%s{camera_id=\"%s\"} %" G_GUINT64_FORMAT "\n",
          per_camera[m].name, (const gchar *)ids[i], values[m]);
    }
  }
  metric_header (out, "surveillx_camera_ice_remote_candidate", "gauge",
                 "1 for the type of the peer's candidate in the selected ICE "
                 "pair (relay: through TURN).");
  for (guint i = 0; i < n_ids; i++) {
    SxCameraStats st;
    sx_camera_get_stats (signaling_lookup_peer (sig, ids[i])->camera, &st);
    if (st.remote_candidate_type[0]
        && g_regex_match_simple ("^[a-z]+$", st.remote_candidate_type, 0, 0))
      g_string_append_printf (
          out,
          "surveillx_camera_ice_remote_candidate{camera_id=\"%s\","
          "type=\"%s\"} 1\n",
          (const gchar *)ids[i], st.remote_candidate_type);
  }
  metric_header (out, "surveillx_camera_codec", "gauge",
                 "1 for the video codec the camera's answer chose.");
  for (guint i = 0; i < n_ids; i++) {
    SxCameraStats st;
    sx_camera_get_stats (signaling_lookup_peer (sig, ids[i])->camera, &st);
    if (st.codec[0])
      g_string_append_printf (
          out, "surveillx_camera_codec{camera_id=\"%s\",codec=\"%s\"} 1\n",
          (const gchar *)ids[i], st.codec);
  }
  if (sig->registry) {
    metric_header (out, "surveillx_camera_lease_epoch", "gauge",
                   "The camera's lease in the launchers' registry (0: not "
                   "taken yet).");
    for (guint i = 0; i < n_ids; i++)
      g_string_append_printf (
          out,
          "surveillx_camera_lease_epoch{camera_id=\"%s\"} %" G_GUINT64_FORMAT
          "\n",
          (const gchar *)ids[i],
          signaling_lookup_peer (sig, ids[i])->lease_epoch);
    metric_header (out, "surveillx_registry_connected", "gauge",
                   "1 while the registry's database connection works.");
    g_string_append_printf (out, "surveillx_registry_connected %d\n",
                            sx_registry_is_connected (sig->registry));
  }
  metric_header (out, "surveillx_camera_restarts_total", "counter",
                 "Pipelines replaced by a new offer for the same camera id.");
  g_autofree gpointer *rids
      = g_hash_table_get_keys_as_array (sig->restarts, NULL);
  guint n_rids = g_hash_table_size (sig->restarts);
  qsort (rids, n_rids, sizeof (gpointer), compare_strings);
  for (guint i = 0; i < n_rids; i++)
    g_string_append_printf (
        out, "surveillx_camera_restarts_total{camera_id=\"%s\"} %u\n",
        (const gchar *)rids[i],
        GPOINTER_TO_UINT (g_hash_table_lookup (sig->restarts, rids[i])));
  metric_header (out, "surveillx_http_responses_total", "counter",
                 "HTTP responses by status code.");
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, sig->responses);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_string_append_printf (out,
                            "surveillx_http_responses_total{code=\"%u\"} %u\n",
                            GPOINTER_TO_UINT (k), GPOINTER_TO_UINT (v));

  SxListenerStats conns;
  sx_listener_get_stats (sig->listener, &conns);
  metric_header (out, "surveillx_http_connections", "gauge",
                 "HTTP connections open.");
  g_string_append_printf (out, "surveillx_http_connections %u\n", conns.open);
  static const struct {
    const gchar *name, *help;
  } conn_counters[] = {
    { "surveillx_http_connections_accepted_total",
      "HTTP connections accepted." },
    { "surveillx_http_connections_refused_total",
      "HTTP connections refused: over --max-connections or "
      "--max-connections-per-address." },
    { "surveillx_http_connections_timed_out_total",
      "HTTP connections closed for a request that did not arrive in time "
      "(--request-timeout) or idling too long (--idle-timeout)." },
    { "surveillx_http_accept_paused_total",
      "Times accepting paused because the process was out of file "
      "descriptors." },
  };
  guint64 conn_values[]
      = { conns.accepted, conns.refused, conns.timed_out, conns.accept_paused };
  for (guint i = 0; i < G_N_ELEMENTS (conn_counters); i++) {
    metric_header (out, conn_counters[i].name, "counter",
                   conn_counters[i].help);
    g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n",
                            conn_counters[i].name, conn_values[i]);
  }

#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
  /* What the process has allocated, not what the allocator keeps resident:
   * RSS also holds freed memory in malloc's arenas, so a leak shows here
   * first (the soak test's bound; docs/performance.md). */
  struct mallinfo2 heap = mallinfo2 ();
  metric_header (out, "surveillx_heap_in_use_bytes", "gauge",
                 "Heap memory allocated and not freed (glibc's mallinfo2).");
  g_string_append_printf (out, "surveillx_heap_in_use_bytes %zu\n",
                          heap.uordblks + heap.hblkhd);
#endif

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  gsize len = out->len;
  soup_server_message_set_response (
      msg, "text/plain; version=0.0.4; charset=utf-8", SOUP_MEMORY_TAKE,
      g_string_free (out, FALSE), len);
  signaling_count_response (sig, SOUP_STATUS_OK);
}
