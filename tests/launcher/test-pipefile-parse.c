/* Values substituted into a pipe file come out of gst_parse_launch() exactly
 * as given, whatever gst-launch syntax they contain.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pipefile.h"

#include <gst/gst.h>

static void
test_round_trip (void)
{
  const gchar *values[] = { "plain",
                            "",
                            "with space",
                            "a \"b\" ! c\\d",
                            "end\\",
                            "\\\"",
                            "x ! fakesink name=evil",
                            "postgresql://u:p@h/db?x=1",
                            "it's",
                            "#not-a-comment",
                            "${NOT_EXPANDED_TWICE}",
                            "été" };
  for (guint i = 0; i < G_N_ELEMENTS (values); i++) {
    g_autoptr (GHashTable) vars = sx_pipe_vars_new ();
    g_hash_table_insert (vars, g_strdup ("V"), g_strdup (values[i]));
    /* once as a whole value, once inside a quoted string */
    const gchar *forms[]
        = { "filesrc name=src location=${V} ! fakesink",
            "filesrc name=src location=\"pre ${V}\" ! fakesink" };
    for (guint f = 0; f < G_N_ELEMENTS (forms); f++) {
      g_autoptr (GError) error = NULL;
      g_autofree gchar *text
          = sx_pipe_expand (forms[f], "t.pipe", vars, &error);
      g_assert_no_error (error);
      GstElement *pipeline = gst_parse_launch_full (
          text, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &error);
      g_assert_no_error (error);
      /* nothing was injected: still exactly two elements */
      g_assert_cmpuint (GST_BIN_NUMCHILDREN (pipeline), ==, 2);
      GstElement *src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
      g_autofree gchar *location = NULL;
      g_object_get (src, "location", &location, NULL);
      g_autofree gchar *expected
          = g_strconcat (f ? "pre " : "", values[i], NULL);
      g_assert_cmpstr (location, ==, expected);
      gst_object_unref (src);
      gst_object_unref (pipeline);
    }
  }
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipefile/gst-round-trip", test_round_trip);
  return g_test_run ();
}
