/* Galleries: folder naming rules, enrolment errors, the descriptor file.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gallery.h"
#include "testutil.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#include <unistd.h>

static SxAnalyzer *analyzer;

static void
link_photo (const gchar *dir, const gchar *rel, const gchar *as)
{
  g_autofree gchar *src = sx_test_faces_path (rel);
  g_autofree gchar *dst = g_build_filename (dir, as, NULL);
  g_autofree gchar *parent = g_path_get_dirname (dst);
  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_assert_cmpint (symlink (src, dst), ==, 0);
}

typedef struct {
  GPtrArray *paths;
  GPtrArray *messages;
} Warnings;

static void
collect_warning (const gchar *path, const GError *error, gpointer data)
{
  Warnings *w = data;
  g_ptr_array_add (w->paths, g_strdup (path));
  g_ptr_array_add (w->messages, g_strdup (error->message));
}

static void
write_black_png (const gchar *path)
{
  g_autofree gchar *desc = g_strdup_printf (
      "videotestsrc num-buffers=1 "
      "pattern=black ! video/x-raw,width=320,height=240 ! pngenc ! "
      "filesink location=\"%s\"",
      path);
  GstElement *p = gst_parse_launch (desc, NULL);
  g_assert_nonnull (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  g_autoptr (GstBus) bus = gst_element_get_bus (p);
  g_autoptr (GstMessage) m = gst_bus_timed_pop_filtered (
      bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (p);
}

static void
test_folder_layouts_and_bad_photos (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("sx-gallery-XXXXXX", NULL);
  /* sub-folder per person, with and without an id */
  link_photo (dir, "identities/amy1.png", "S001_Amy_Farrah_Fowler/a.png");
  link_photo (dir, "identities/amy2.png", "S001_Amy_Farrah_Fowler/b.png");
  link_photo (dir, "identities/raj1.png", "raj/1.png");
  /* flat <id>_<name>.ext */
  link_photo (dir, "identities/penny1.png", "S003_Penny.png");
  /* unreadable, several faces, no face: each skipped with a warning */
  g_autofree gchar *junk = g_build_filename (dir, "S004_Junk.jpg", NULL);
  g_assert_true (g_file_set_contents (junk, "not a jpeg", -1, NULL));
  link_photo (dir, "bbt1.jpg", "S005_Group.jpg");
  g_autofree gchar *black = g_build_filename (dir, "S006_Nobody.png", NULL);
  write_black_png (black);
  /* not a photo: ignored silently */
  g_autofree gchar *notes = g_build_filename (dir, "README.txt", NULL);
  g_assert_true (g_file_set_contents (notes, "hello", -1, NULL));

  Warnings w = { g_ptr_array_new_with_free_func (g_free),
                 g_ptr_array_new_with_free_func (g_free) };
  g_autoptr (GError) error = NULL;
  g_autoptr (SxGallery) g
      = sx_gallery_load (dir, analyzer, collect_warning, &w, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sx_gallery_n_people (g), ==, 3);
  g_assert_cmpuint (sx_gallery_n_descriptors (g), ==, 4);

  g_assert_cmpuint (w.paths->len, ==, 3);
  gboolean saw_junk = FALSE, saw_group = FALSE, saw_black = FALSE;
  for (guint i = 0; i < w.paths->len; i++) {
    const gchar *p = g_ptr_array_index (w.paths, i);
    const gchar *m = g_ptr_array_index (w.messages, i);
    g_test_message ("warning: %s: %s", p, m);
    /* the message names the file too, for logs that drop the path */
    if (g_str_has_suffix (p, "S004_Junk.jpg"))
      saw_junk = strstr (m, "S004_Junk.jpg") != NULL;
    if (g_str_has_suffix (p, "S005_Group.jpg"))
      saw_group = strstr (m, "faces") != NULL && strstr (m, "exactly one");
    if (g_str_has_suffix (p, "S006_Nobody.png"))
      saw_black = strstr (m, "0 faces") != NULL;
  }
  g_assert_true (saw_junk && saw_group && saw_black);

  /* Matching names the right person, with the name from the folder. */
  gfloat amy3[SX_FACE_DESCRIPTOR_LEN];
  g_autofree gchar *amy3_path = sx_test_faces_path ("identities/amy3.png");
  g_assert_true (
      sx_analyzer_describe_photo (analyzer, amy3_path, amy3, &error));
  SxGalleryMatch match;
  g_assert_true (sx_gallery_match (g, amy3, &match));
  g_assert_cmpstr (match.id, ==, "S001");
  g_assert_cmpstr (match.name, ==, "Amy Farrah Fowler");
  g_assert_cmpfloat (match.distance, <, 0.6);

  /* Descriptor file round trip. */
  g_autofree gchar *file = g_build_filename (dir, "gallery.json", NULL);
  g_assert_true (sx_gallery_save_file (g, file, &error));
  g_autoptr (SxGallery) back
      = sx_gallery_load (file, analyzer, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sx_gallery_n_people (back), ==, 3);
  g_assert_cmpuint (sx_gallery_n_descriptors (back), ==, 4);
  SxGalleryMatch again;
  g_assert_true (sx_gallery_match (back, amy3, &again));
  g_assert_cmpstr (again.id, ==, "S001");
  g_assert_cmpfloat_with_epsilon (again.distance, match.distance, 1e-5);

  g_ptr_array_unref (w.paths);
  g_ptr_array_unref (w.messages);
}

static void
test_bad_descriptor_files (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("sx-gallery-XXXXXX", NULL);
  const gchar *cases[][2] = {
    { "broken.json", "{ \"format\": " },
    { "other.json", "{ \"format\": \"something-else\", \"version\": 1 }" },
    { "short.json",
      "{ \"format\": \"surveillx-gallery\", \"version\": 1, "
      "\"people\": [ { \"id\": \"x\", \"faces\": [ { \"descriptor\": "
      "[1, 2, 3] } ] } ] }" },
    { "future.json", "{ \"format\": \"surveillx-gallery\", \"version\": 9, "
                     "\"people\": [] }" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *path = g_build_filename (dir, cases[i][0], NULL);
    g_assert_true (g_file_set_contents (path, cases[i][1], -1, NULL));
    g_autoptr (GError) error = NULL;
    g_assert_null (sx_gallery_load (path, analyzer, NULL, NULL, &error));
    g_assert_nonnull (error);
    g_test_message ("%s: %s", cases[i][0], error->message);
    g_assert_nonnull (strstr (error->message, path));
  }
  g_autoptr (GError) error = NULL;
  g_assert_null (
      sx_gallery_load ("/nonexistent/gallery", analyzer, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_autofree gchar *model = sx_test_recognition_model ();
  g_autoptr (GError) error = NULL;
  analyzer = sx_analyzer_new (sx_test_landmark_model (), model, &error);
  g_assert_no_error (error);
  g_test_add_func ("/gallery/folder-layouts-and-bad-photos",
                   test_folder_layouts_and_bad_photos);
  g_test_add_func ("/gallery/bad-descriptor-files", test_bad_descriptor_files);
  int status = g_test_run ();
  sx_analyzer_free (analyzer);
  return status;
}
