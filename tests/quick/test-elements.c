/* The quick tier (meson test --suite quick): each element on its own in a
 * GstHarness, in seconds, with no server of any kind.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *  - every property is documented (nick, blurb) and starts at the default
 *    gst-inspect-1.0 shows;
 *  - NULL -> PAUSED -> NULL for each element, servers unreachable;
 *  - facerecog names a face on one frame (synchronous=true);
 *  - attendancesink with its database unreachable keeps a sighting in its
 *    spool;
 *  - names that read the same: without camera-id a sink takes its
 *    pipeline's name; facerecog's database gallery is conninfo + schema as
 *    attendancesink's (gallery-schema the deprecated name), one gallery at a
 *    time, passwords redacted on read-back.
 */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>
#include <surveillx/faceresult.h>

static const gchar *const elements[]
    = { "facerecog", "attendancesink", "socketiosink" };

static gchar *
testdata (const gchar *relative)
{
  const gchar *dir = g_getenv ("SURVEILLX_TESTDATA");

  g_assert_nonnull (dir);
  return g_build_filename (dir, relative, NULL);
}

/* gst-inspect-1.0 shows each property's nick, blurb and default: all three
 * must be true of a fresh element */
static void
test_properties_documented (void)
{
  for (guint e = 0; e < G_N_ELEMENTS (elements); e++) {
    GstElement *element = gst_element_factory_make (elements[e], NULL);
    guint n;
    GParamSpec **specs;

    g_assert_nonnull (element);
    specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element), &n);
    for (guint i = 0; i < n; i++) {
      GParamSpec *spec = specs[i];
      GValue value = G_VALUE_INIT;

      if (spec->owner_type != G_OBJECT_TYPE (element)
          || !(spec->flags & G_PARAM_READABLE))
        continue;
      g_test_message ("%s::%s", elements[e], spec->name);
      g_assert_true (g_param_spec_get_nick (spec)
                     && *g_param_spec_get_nick (spec));
      g_assert_true (g_param_spec_get_blurb (spec)
                     && strlen (g_param_spec_get_blurb (spec)) > 10);
      g_value_init (&value, spec->value_type);
      g_object_get_property (G_OBJECT (element), spec->name, &value);
      if (spec->flags & G_PARAM_WRITABLE)
        g_assert_cmpint (
            g_param_values_cmp (spec, &value,
                                g_param_spec_get_default_value (spec)),
            ==, 0);
      g_value_unset (&value);
    }
    g_free (specs);
    gst_object_unref (element);
  }
}

static void
test_state_changes (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("sx-quick-XXXXXX", NULL);
  g_autofree gchar *spool = g_build_filename (dir, "a.spool", NULL);

  for (guint e = 0; e < G_N_ELEMENTS (elements); e++) {
    GstElement *element = gst_element_factory_make (elements[e], NULL);

    if (g_str_equal (elements[e], "socketiosink"))
      /* nothing listens there: starting must not wait for it */
      g_object_set (element, "url", "http://127.0.0.1:1", "connect-timeout", 0,
                    "async", FALSE, NULL);
    if (g_str_equal (elements[e], "attendancesink"))
      g_object_set (element, "conninfo",
                    "host=127.0.0.1 port=1 connect_timeout=1", "spool-location",
                    spool, "flush-timeout", 100, "async", FALSE, NULL);
    for (guint round = 0; round < 2; round++) {
      g_assert_cmpint (gst_element_set_state (element, GST_STATE_PAUSED), !=,
                       GST_STATE_CHANGE_FAILURE);
      g_assert_cmpint (
          gst_element_get_state (element, NULL, NULL, 10 * GST_SECOND), ==,
          GST_STATE_CHANGE_SUCCESS);
      g_assert_cmpint (gst_element_set_state (element, GST_STATE_NULL), ==,
                       GST_STATE_CHANGE_SUCCESS);
    }
    gst_object_unref (element);
  }
  g_unlink (spool);
  g_rmdir (dir);
}

/* The RGB pixels of an image file, as one buffer with its caps */
static GstSample *
decode_rgb (const gchar *path)
{
  g_autofree gchar *desc
      = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
                         "video/x-raw,format=RGB ! appsink name=out",
                         path);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "out");
  GstSample *sample = NULL;

  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  g_signal_emit_by_name (sink, "pull-preroll", &sample);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  g_assert_nonnull (sample);
  return sample;
}

static const GstStructure *
first_face (GstBuffer *buffer)
{
  gpointer state = NULL;
  GstMeta *meta;

  while ((meta = gst_buffer_iterate_meta_filtered (
              buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    GstVideoRegionOfInterestMeta *roi = (GstVideoRegionOfInterestMeta *)meta;

    if (roi->roi_type == g_quark_from_static_string (SX_FACE_ROI_TYPE))
      return gst_video_region_of_interest_meta_get_param (roi,
                                                          SX_FACE_PARAMS_NAME);
  }
  return NULL;
}

/* One frame in, the enrolled name out, on the frame itself */
static void
test_facerecog_one_frame (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("sx-quick-XXXXXX", NULL);
  g_autofree gchar *enrolled = testdata ("faces/identities/amy1.png");
  g_autofree gchar *probe = testdata ("faces/identities/amy2.png");
  g_autofree gchar *copy = g_build_filename (dir, "S001_amy.png", NULL);
  g_autoptr (GFile) from = g_file_new_for_path (enrolled);
  g_autoptr (GFile) to = g_file_new_for_path (copy);
  GstSample *sample = decode_rgb (probe);
  g_autofree gchar *desc = NULL;
  GstHarness *h;
  GstBuffer *out;
  const GstStructure *face;
  gboolean confirmed = FALSE;

  g_assert_true (
      g_file_copy (from, to, G_FILE_COPY_NONE, NULL, NULL, NULL, NULL));
  /* the harness starts the element at once: properties in the description */
  desc = g_strdup_printf (
      "facerecog gallery=\"%s\" synchronous=true min-votes=1", dir);
  h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps (h, gst_caps_copy (gst_sample_get_caps (sample)));
  out = gst_harness_push_and_pull (
      h, gst_buffer_copy (gst_sample_get_buffer (sample)));
  g_assert_nonnull (out);
  face = first_face (out);
  g_assert_nonnull (face);
  g_assert_cmpstr (gst_structure_get_string (face, SX_FACE_FIELD_ID), ==,
                   "S001");
  g_assert_cmpstr (gst_structure_get_string (face, SX_FACE_FIELD_LABEL), ==,
                   "amy");
  g_assert_true (
      gst_structure_get_boolean (face, SX_FACE_FIELD_CONFIRMED, &confirmed)
      && confirmed);
  gst_buffer_unref (out);
  gst_sample_unref (sample);
  gst_harness_teardown (h);
  g_unlink (copy);
  g_rmdir (dir);
}

/* A confirmed face with the database down: the sighting waits in the
 * spool (and would be written at the next start) */
static void
test_attendancesink_spool (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("sx-quick-XXXXXX", NULL);
  g_autofree gchar *spool = g_build_filename (dir, "room.spool", NULL);
  g_autofree gchar *desc = g_strdup_printf (
      "attendancesink conninfo=\"host=127.0.0.1 port=1 connect_timeout=1\" "
      "spool-location=\"%s\" camera-id=room-q flush-interval=50 "
      "flush-timeout=200",
      spool);
  GstHarness *h = gst_harness_new_parse (desc);
  GstBuffer *buffer = gst_buffer_new_allocate (NULL, 64 * 48 * 3, NULL);
  GstVideoRegionOfInterestMeta *roi;
  g_autofree gchar *text = NULL;
  gint64 deadline;

  gst_harness_set_src_caps_str (
      h, "video/x-raw,format=RGB,width=64,height=48,framerate=5/1");
  roi = gst_buffer_add_video_region_of_interest_meta (buffer, SX_FACE_ROI_TYPE,
                                                      4, 4, 20, 20);
  gst_video_region_of_interest_meta_add_param (
      roi, gst_structure_new (
               SX_FACE_PARAMS_NAME, SX_FACE_FIELD_LABEL, G_TYPE_STRING, "Amy",
               SX_FACE_FIELD_ID, G_TYPE_STRING, "S001", SX_FACE_FIELD_DISTANCE,
               G_TYPE_DOUBLE, 0.3, SX_FACE_FIELD_CONFIRMED, G_TYPE_BOOLEAN,
               TRUE, SX_FACE_FIELD_FRESH, G_TYPE_BOOLEAN, TRUE,
               SX_FACE_FIELD_TRACK_ID, G_TYPE_UINT, 1, NULL));
  g_assert_cmpint (gst_harness_push (h, buffer), ==, GST_FLOW_OK);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < deadline) {
    g_clear_pointer (&text, g_free);
    if (g_file_get_contents (spool, &text, NULL, NULL)
        && strstr (text, "\"S001\"") && strstr (text, "room-q"))
      break;
    g_usleep (50 * 1000);
  }
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "\"S001\""));
  g_assert_nonnull (strstr (text, "room-q"));
  gst_harness_teardown (h);
  /* still there for the next start: the database never had it */
  g_clear_pointer (&text, g_free);
  g_assert_true (g_file_get_contents (spool, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\"S001\""));
  g_unlink (spool);
  g_rmdir (dir);
}

/* Without camera-id, attendancesink (and socketiosink: its suite checks
 * the payload) reports for the pipeline, named after the camera by the
 * launcher, even from inside a bin; the default spool is named after it. */
static void
test_camera_id_from_pipeline (void)
{
  GstElement *pipeline = gst_pipeline_new ("room-9");
  GstElement *bin = gst_bin_new ("branch");
  GstElement *sink = gst_element_factory_make ("attendancesink", NULL);
  g_autofree gchar *spool = g_build_filename (
      g_get_user_state_dir (), "surveillx", "attendance-room-9.spool", NULL);

  g_object_set (sink, "conninfo", "host=127.0.0.1 port=1 connect_timeout=1",
                "flush-timeout", 100, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (bin), sink);
  gst_bin_add (GST_BIN (pipeline), bin);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), !=,
                   GST_STATE_CHANGE_FAILURE);
  g_assert_true (g_file_test (spool, G_FILE_TEST_EXISTS));
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  g_unlink (spool);
}

static void
test_facerecog_gallery_settings (void)
{
  GstElement *recog = gst_element_factory_make ("facerecog", NULL);
  g_autofree gchar *conninfo = NULL, *gallery = NULL, *schema = NULL;

  /* the same names as attendancesink's, a password never read back */
  g_object_set (recog, "conninfo",
                "postgresql://sx:s3cret-pw@127.0.0.1:1/school", NULL);
  g_object_get (recog, "conninfo", &conninfo, NULL);
  g_assert_nonnull (strstr (conninfo, "127.0.0.1"));
  g_assert_null (strstr (conninfo, "s3cret-pw"));
  g_object_set (recog, "gallery", "host=127.0.0.1 password=s3cret-pw", NULL);
  g_object_get (recog, "gallery", &gallery, NULL);
  g_assert_null (strstr (gallery, "s3cret-pw"));
  /* gallery-schema is the deprecated name of schema */
  g_object_set (recog, "gallery-schema", "school_b", NULL);
  g_object_get (recog, "schema", &schema, NULL);
  g_assert_cmpstr (schema, ==, "school_b");
  /* one gallery: a folder and a database at once is refused at start */
  g_object_set (recog, "gallery", "/nonexistent-folder", NULL);
  g_assert_cmpint (gst_element_set_state (recog, GST_STATE_PAUSED), ==,
                   GST_STATE_CHANGE_FAILURE);
  gst_element_set_state (recog, GST_STATE_NULL);
  gst_object_unref (recog);
}

int
main (int argc, char **argv)
{
  /* the default spool goes under XDG_STATE_HOME; GLib reads it once */
  g_autofree gchar *state_dir = g_dir_make_tmp ("sx-quick-state-XXXXXX", NULL);
  g_setenv ("XDG_STATE_HOME", state_dir, TRUE);
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/quick/properties-documented", test_properties_documented);
  g_test_add_func ("/quick/state-changes", test_state_changes);
  g_test_add_func ("/quick/facerecog/one-frame", test_facerecog_one_frame);
  g_test_add_func ("/quick/attendancesink/spool", test_attendancesink_spool);
  g_test_add_func ("/quick/camera-id/from-pipeline",
                   test_camera_id_from_pipeline);
  g_test_add_func ("/quick/facerecog/gallery-settings",
                   test_facerecog_gallery_settings);
  int status = g_test_run ();
  g_autofree gchar *spool_dir = g_build_filename (state_dir, "surveillx", NULL);
  g_rmdir (spool_dir);
  g_rmdir (state_dir);
  return status;
}
