/* What another GStreamer application does with facerecog's results, built
 * only against the installed <surveillx/faceresult.h> (pkg-config
 * surveillx-1.0): runs a photo through facerecog and prints the names it
 * finds, read from the buffers' ROI metas and from the element messages.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   read-faces PHOTO GALLERY   -> "meta NAME" and "message NAME" lines
 */
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>
#include <surveillx/faceresult.h>

static GstPadProbeReturn
on_buffer (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GHashTable *names = data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  GQuark face = g_quark_from_static_string (SX_FACE_ROI_TYPE);
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (
              buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;
    GstStructure *params;
    const gchar *label;

    if (roi->roi_type != face)
      continue;
    params = gst_video_region_of_interest_meta_get_param (roi,
                                                          SX_FACE_PARAMS_NAME);
    label = params ? gst_structure_get_string (params, SX_FACE_FIELD_LABEL)
                   : NULL;
    if (label && strcmp (label, SX_FACE_LABEL_UNKNOWN) != 0)
      g_hash_table_add (names, g_strdup (label));
  }
  return GST_PAD_PROBE_OK;
}

static void
message_names (const GstStructure *s, GHashTable *names)
{
  const GValue *faces = gst_structure_get_value (s, SX_FACE_MSG_FACES);
  guint n = faces && GST_VALUE_HOLDS_LIST (faces)
                ? gst_value_list_get_size (faces)
                : 0;

  for (guint i = 0; i < n; i++) {
    const GValue *face = gst_value_list_get_value (faces, i);
    const gchar *label;

    if (!GST_VALUE_HOLDS_STRUCTURE (face))
      continue;
    label = gst_structure_get_string (gst_value_get_structure (face),
                                      SX_FACE_FIELD_LABEL);
    if (label && strcmp (label, SX_FACE_LABEL_UNKNOWN) != 0)
      g_hash_table_add (names, g_strdup (label));
  }
}

static void
print_names (const gchar *what, GHashTable *names)
{
  GList *sorted
      = g_list_sort (g_hash_table_get_keys (names), (GCompareFunc)strcmp);

  for (GList *l = sorted; l; l = l->next)
    g_print ("%s %s\n", what, (const gchar *)l->data);
  g_list_free (sorted);
}

int
main (int argc, char **argv)
{
  GHashTable *from_metas, *from_messages;
  GstElement *pipeline, *sink;
  GstPad *pad;
  GstBus *bus;
  gchar *desc;
  gboolean ok = FALSE;

  gst_init (&argc, &argv);
  if (argc != 3) {
    g_printerr ("usage: %s PHOTO GALLERY\n", argv[0]);
    return 2;
  }
  desc = g_strdup_printf (
      "filesrc location=\"%s\" ! decodebin ! videoconvert ! "
      "imagefreeze num-buffers=4 ! videoconvert ! "
      "facerecog gallery=\"%s\" synchronous=true min-votes=1 ! "
      "fakesink name=sink",
      argv[1], argv[2]);
  pipeline = gst_parse_launch (desc, NULL);
  g_free (desc);
  if (!pipeline) {
    g_printerr ("no pipeline: is the surveillx plugin on GST_PLUGIN_PATH?\n");
    return 1;
  }
  from_metas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  from_messages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, from_metas,
                     NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop (bus, 120 * GST_SECOND);

    if (!msg) {
      g_printerr ("timed out\n");
      break;
    }
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT
        && gst_message_has_name (msg, SX_FACE_MESSAGE_NAME))
      message_names (gst_message_get_structure (msg), from_messages);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      g_printerr ("error: %s\n", error->message);
      g_error_free (error);
      gst_message_unref (msg);
      break;
    }
    ok = GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
    gst_message_unref (msg);
    if (ok)
      break;
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  print_names ("meta", from_metas);
  print_names ("message", from_messages);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_hash_table_unref (from_metas);
  g_hash_table_unref (from_messages);
  return ok ? 0 : 1;
}
