/* Attendance a crashed launcher left in its spools, written at the next
 * start (orphanspools.h). SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "orphanspools.h"

#include "camera.h"
#include "pipefile.h"

#include <gst/gst.h>
#include <string.h>
#include <sys/stat.h>

GST_DEBUG_CATEGORY_STATIC (sx_orphan_debug);
#define GST_CAT_DEFAULT sx_orphan_debug

#define SPOOL_PREFIX "attendance-"
#define SPOOL_SUFFIX ".spool"
/* beyond the sink's own flush-timeout (5 s by default) */
#define REPLAY_MARGIN_MS 4000

static GstElement *
find_attendance_sink (GstBin *bin)
{
  GstElementFactory *factory = gst_element_factory_find ("attendancesink");
  if (factory == NULL)
    return NULL;
  GstElement *found = NULL;
  GstIterator *it = gst_bin_iterate_recurse (bin);
  GValue item = G_VALUE_INIT;
  while (found == NULL && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&item);
    if (gst_element_get_factory (e) == factory)
      found = gst_object_ref (e);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (factory);
  return found;
}

/* The pipe file's attendancesink for @camera_id, taken out of its
 * pipeline (nothing else of it is started). */
static GstElement *
take_pipe_file_sink (const gchar *pipe_text, const gchar *origin,
                     GHashTable *vars, const gchar *camera_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) camera_vars
      = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init (&iter, vars);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_hash_table_insert (camera_vars, k, v);
  g_hash_table_insert (camera_vars, (gpointer) "CAMERA_ID",
                       (gpointer)camera_id);
  g_autofree gchar *text
      = sx_pipe_expand (pipe_text, origin, camera_vars, &error);
  if (text == NULL)
    return NULL;
  GstElement *whole
      = gst_parse_launch_full (text, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
  if (whole == NULL) {
    GST_WARNING ("%s: %s", camera_id, error->message);
    return NULL;
  }
  GstElement *sink
      = GST_IS_BIN (whole) ? find_attendance_sink (GST_BIN (whole)) : NULL;
  if (sink) {
    GstPad *pad = gst_element_get_static_pad (sink, "sink");
    GstPad *peer = gst_pad_get_peer (pad);
    if (peer) {
      gst_pad_unlink (peer, pad);
      gst_object_unref (peer);
    }
    gst_object_unref (pad);
    gst_bin_remove (GST_BIN (GST_OBJECT_PARENT (sink)), sink);
  }
  gst_object_unref (whole);
  return sink;
}

static gboolean
replay_one (const gchar *pipe_text, const gchar *origin, GHashTable *vars,
            const gchar *camera_id, const gchar *path)
{
  GstElement *sink = take_pipe_file_sink (pipe_text, origin, vars, camera_id);
  if (sink == NULL) {
    GST_WARNING ("%s: the pipe file has no attendancesink for camera %s; "
                 "left as it is",
                 path, camera_id);
    return FALSE;
  }
  g_autofree gchar *location = NULL;
  guint flush_timeout = 0;
  g_object_get (sink, "spool-location", &location, "flush-timeout",
                &flush_timeout, NULL);
  if (location && *location && strcmp (location, path) != 0) {
    /* the pipe file spools elsewhere: this file is not its */
    gst_object_unref (sink);
    return FALSE;
  }
  g_autofree gchar *name = g_strdup_printf ("orphan-%s", camera_id);
  GstElement *pipeline = gst_pipeline_new (name);
  GstElement *src = gst_element_factory_make ("fakesrc", NULL);
  g_object_set (src, "num-buffers", 0, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, sink, NULL);
  gst_object_unref (sink); /* the pipeline's now */
  gst_element_link (src, sink);

  GST_INFO ("camera %s: replaying %s", camera_id, path);
  GstBus *bus = gst_element_get_bus (pipeline);
  gboolean ok = FALSE;
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING)
      != GST_STATE_CHANGE_FAILURE) {
    GstMessage *msg = gst_bus_timed_pop_filtered (
        bus, (GstClockTime)(flush_timeout + REPLAY_MARGIN_MS) * GST_MSECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
    if (msg && !ok) {
      g_autoptr (GError) error = NULL;
      gst_message_parse_error (msg, &error, NULL);
      GST_WARNING ("camera %s: %s", camera_id, error->message);
    }
    g_clear_pointer (&msg, gst_message_unref);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  GstStructure *stats = NULL;
  g_object_get (sink, "stats", &stats, NULL);
  guint64 written = 0, duplicate = 0, fenced = 0;
  guint pending = 0;
  gst_structure_get (stats, "events-written", G_TYPE_UINT64, &written,
                     "events-duplicate", G_TYPE_UINT64, &duplicate,
                     "events-fenced", G_TYPE_UINT64, &fenced, "pending",
                     G_TYPE_UINT, &pending, NULL);
  gst_structure_free (stats);
  GST_INFO ("camera %s: spool replayed: %" G_GUINT64_FORMAT
            " events written, %" G_GUINT64_FORMAT
            " already there, %" G_GUINT64_FORMAT
            " from after another launcher took it, %u still spooled",
            camera_id, written, duplicate, fenced, pending);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  return ok;
}

guint
sx_replay_orphan_spools (const gchar *pipe_text, const gchar *origin,
                         GHashTable *vars)
{
  if (!sx_orphan_debug)
    GST_DEBUG_CATEGORY_INIT (sx_orphan_debug, "sxorphanspools", 0,
                             "surveillx-launcher: spools left by a crash");
  g_autofree gchar *folder
      = g_build_filename (g_get_user_state_dir (), "surveillx", NULL);
  GDir *dir = g_dir_open (folder, 0, NULL);
  if (dir == NULL)
    return 0;
  guint replayed = 0;
  const gchar *file;
  while ((file = g_dir_read_name (dir)) != NULL) {
    if (!g_str_has_prefix (file, SPOOL_PREFIX)
        || !g_str_has_suffix (file, SPOOL_SUFFIX))
      continue;
    g_autofree gchar *camera_id = g_strndup (
        file + strlen (SPOOL_PREFIX),
        strlen (file) - strlen (SPOOL_PREFIX) - strlen (SPOOL_SUFFIX));
    g_autofree gchar *path = g_build_filename (folder, file, NULL);
    struct stat st;
    /* an empty spool holds nothing; an id the launcher would refuse was
     * not one of its cameras */
    if (stat (path, &st) != 0 || st.st_size == 0
        || !sx_camera_id_is_valid (camera_id))
      continue;
    if (replay_one (pipe_text, origin, vars, camera_id, path))
      replayed++;
  }
  g_dir_close (dir);
  return replayed;
}
