/* bench/facerecog: what recognition costs, stage by stage, and what the
 * element adds on top; how memory grows with instances.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-facerecog stages ROUNDS DUMP_DIR IMAGE...   per-stage ms, element
 * faces/s bench-facerecog rss INSTANCES IMAGE               peak RSS with N
 * elements
 *
 * Frames are the images scaled to 640x480 RGB. `stages` also writes them to
 * DUMP_DIR for bench-dlib-loop, so both see identical pixels.
 */
#include "analyzer.h"
#include "models.h"

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIDTH 640
#define HEIGHT 480

static GstSample *
load_frame (const gchar *path)
{
  g_autofree gchar *desc = g_strdup_printf (
      "filesrc location=\"%s\" ! "
      "decodebin ! videoconvert ! videoscale ! video/x-raw,format=RGB,"
      "width=%d,height=%d,pixel-aspect-ratio=1/1 ! appsink name=out",
      path, WIDTH, HEIGHT);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  gst_element_set_state (p, GST_STATE_PAUSED);
  gst_element_get_state (p, NULL, NULL, GST_CLOCK_TIME_NONE);
  GstSample *s = NULL;
  g_signal_emit_by_name (sink, "pull-preroll", &s);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  if (!s)
    g_error ("cannot decode %s", path);
  return s;
}

static guint64
peak_rss_kb (void)
{
  g_autofree gchar *status = NULL;
  g_file_get_contents ("/proc/self/status", &status, NULL, NULL);
  const gchar *hwm = status ? strstr (status, "VmHWM:") : NULL;
  return hwm ? g_ascii_strtoull (hwm + 6, NULL, 10) : 0;
}

/* appsrc ! facerecog ! fakesink, the frames pushed `rounds` times.
 * redescribe-after=1: every face described every time, as the dlib loop
 * does (carrying identities would make the comparison unfair to it). */
static GstElement *
element_pipeline (gboolean synchronous, GstElement **src, GstElement **rec)
{
  g_autofree gchar *model = sx_models_default_recognition ();
  g_autofree gchar *desc = g_strdup_printf (
      "appsrc name=src format=time "
      "caps=video/x-raw,format=RGB,width=%d,height=%d,framerate=30/1 ! "
      "facerecog name=rec synchronous=%s min-votes=1 redescribe-after=1 "
      "recognition-model=\"%s\""
      " ! fakesink sync=false",
      WIDTH, HEIGHT, synchronous ? "true" : "false", model);
  GstElement *p = gst_parse_launch (desc, NULL);
  *src = gst_bin_get_by_name (GST_BIN (p), "src");
  *rec = gst_bin_get_by_name (GST_BIN (p), "rec");
  return p;
}

static void
push_frames (GstElement *src, GPtrArray *frames, guint rounds, guint64 *pts)
{
  for (guint r = 0; r < rounds; r++) {
    for (guint i = 0; i < frames->len; i++) {
      GstBuffer *b = gst_buffer_copy (
          gst_sample_get_buffer (g_ptr_array_index (frames, i)));
      GST_BUFFER_PTS (b) = *pts;
      GST_BUFFER_DURATION (b) = GST_SECOND / 30;
      *pts += GST_SECOND / 30;
      gst_app_src_push_buffer (GST_APP_SRC (src), b);
    }
  }
}

static int
run_stages (guint rounds, const gchar *dump_dir, gchar **images, gint n)
{
  GPtrArray *frames
      = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_sample_unref);
  for (gint i = 0; i < n; i++) {
    GstSample *s = load_frame (images[i]);
    g_ptr_array_add (frames, s);
    /* for bench-dlib-loop: "W H\n" + RGB rows without padding */
    g_autofree gchar *name = g_strdup_printf ("frame%02d.rgb", i);
    g_autofree gchar *path = g_build_filename (dump_dir, name, NULL);
    GstVideoInfo info;
    gst_video_info_from_caps (&info, gst_sample_get_caps (s));
    GstVideoFrame f;
    gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ);
    FILE *out = fopen (path, "wb");
    fprintf (out, "%d %d\n", WIDTH, HEIGHT);
    for (gint y = 0; y < HEIGHT; y++)
      fwrite ((guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&f, 0)
                  + y * GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0),
              1, WIDTH * 3, out);
    fclose (out);
    gst_video_frame_unmap (&f);
  }

  /* 1. The shim's stages, straight. */
  g_autofree gchar *model = sx_models_default_recognition ();
  g_autoptr (GError) error = NULL;
  SxAnalyzer *a
      = sx_analyzer_new (sx_models_default_landmarks (), model, &error);
  if (!a)
    g_error ("%s", error->message);
  gdouble detect = 0, align = 0, describe = 0;
  guint faces = 0, analysed = 0;
  gint64 start = g_get_monotonic_time ();
  for (guint r = 0; r < rounds; r++) {
    for (guint i = 0; i < frames->len; i++) {
      GstVideoInfo info;
      GstSample *s = g_ptr_array_index (frames, i);
      gst_video_info_from_caps (&info, gst_sample_get_caps (s));
      GstVideoFrame f;
      gst_video_frame_map (&f, &info, gst_sample_get_buffer (s), GST_MAP_READ);
      SxImage img = { GST_VIDEO_FRAME_PLANE_DATA (&f, 0), WIDTH, HEIGHT,
                      GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0), 3 };
      SxAnalysisTimings t;
      GArray *found = sx_analyzer_run (a, &img, &t, NULL);
      faces += found->len;
      g_array_unref (found);
      gst_video_frame_unmap (&f);
      detect += t.detect_ms;
      align += t.align_ms;
      describe += t.describe_ms;
      analysed++;
    }
  }
  gdouble total = (g_get_monotonic_time () - start) / 1000.0;
  printf ("shim frames=%u faces=%u total_ms=%.1f detect_ms=%.2f "
          "align_ms_per_face=%.2f describe_ms_per_face=%.2f faces_per_s=%.2f\n",
          analysed, faces, total, detect / analysed, faces ? align / faces : 0,
          faces ? describe / faces : 0, faces / (total / 1000.0));

  /* 2. The element, synchronous, so every frame is analysed. */
  GstElement *src, *rec;
  GstElement *p = element_pipeline (TRUE, &src, &rec);
  /* Models load at READY->PAUSED: keep that out of the timing. */
  gst_element_set_state (p, GST_STATE_PAUSED);
  guint64 pts = 0;
  start = g_get_monotonic_time ();
  gst_element_set_state (p, GST_STATE_PLAYING);
  push_frames (src, frames, rounds, &pts);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  g_autoptr (GstBus) bus = gst_element_get_bus (p);
  g_autoptr (GstMessage) m = gst_bus_timed_pop_filtered (
      bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  total = (g_get_monotonic_time () - start) / 1000.0;
  GstStructure *stats;
  g_object_get (rec, "stats", &stats, NULL);
  guint64 el_faces = 0, el_analysed = 0;
  gst_structure_get_uint64 (stats, "faces", &el_faces);
  gst_structure_get_uint64 (stats, "analysed", &el_analysed);
  printf ("element frames=%" G_GUINT64_FORMAT " faces=%" G_GUINT64_FORMAT
          " total_ms=%.1f faces_per_s=%.2f\n",
          el_analysed, el_faces, total, el_faces / (total / 1000.0));
  gst_structure_free (stats);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (rec);
  gst_object_unref (p);
  sx_analyzer_free (a);
  g_ptr_array_unref (frames);
  return 0;
}

static int
run_rss (guint instances, const gchar *image)
{
  GPtrArray *frames
      = g_ptr_array_new_with_free_func ((GDestroyNotify)gst_sample_unref);
  g_ptr_array_add (frames, load_frame (image));
  guint64 before = peak_rss_kb ();
  GPtrArray *pipelines = g_ptr_array_new ();
  GPtrArray *recs = g_ptr_array_new ();
  for (guint i = 0; i < instances; i++) {
    GstElement *src, *rec;
    GstElement *p = element_pipeline (FALSE, &src, &rec);
    gst_element_set_state (p, GST_STATE_PLAYING);
    guint64 pts = 0;
    push_frames (src, frames, 10, &pts);
    gst_object_unref (src);
    g_ptr_array_add (pipelines, p);
    g_ptr_array_add (recs, rec);
  }
  /* Let every worker analyse at least once, so every buffer is allocated. */
  for (guint i = 0; i < instances; i++) {
    for (gint tries = 0; tries < 200; tries++) {
      GstStructure *stats;
      guint64 analysed = 0;
      g_object_get (g_ptr_array_index (recs, i), "stats", &stats, NULL);
      gst_structure_get_uint64 (stats, "analysed", &analysed);
      gst_structure_free (stats);
      if (analysed > 0)
        break;
      g_usleep (50000);
    }
  }
  guint64 after = peak_rss_kb ();
  printf ("rss instances=%u models_loaded=%u peak_rss_mb=%.1f "
          "before_mb=%.1f\n",
          instances, sx_face_models_loaded (), after / 1024.0, before / 1024.0);
  for (guint i = 0; i < instances; i++) {
    gst_element_set_state (g_ptr_array_index (pipelines, i), GST_STATE_NULL);
    gst_object_unref (g_ptr_array_index (pipelines, i));
    gst_object_unref (g_ptr_array_index (recs, i));
  }
  g_ptr_array_unref (pipelines);
  g_ptr_array_unref (recs);
  g_ptr_array_unref (frames);
  return 0;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc >= 5 && strcmp (argv[1], "stages") == 0)
    return run_stages (atoi (argv[2]), argv[3], argv + 4, argc - 4);
  if (argc == 4 && strcmp (argv[1], "rss") == 0)
    return run_rss (atoi (argv[2]), argv[3]);
  fprintf (stderr,
           "usage: %s stages ROUNDS DUMP_DIR IMAGE...\n"
           "       %s rss INSTANCES IMAGE\n",
           argv[0], argv[0]);
  return 2;
}
