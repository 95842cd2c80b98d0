/* Pipe files: comments, ${VAR}, ${VAR:-default}, quoting, errors.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pipefile.h"

#include <string.h>

static GHashTable *
vars_of (const gchar *first, ...)
{
  GHashTable *vars = sx_pipe_vars_new ();
  va_list args;
  va_start (args, first);
  for (const gchar *k = first; k; k = va_arg (args, const gchar *)) {
    const gchar *v = va_arg (args, const gchar *);
    g_hash_table_insert (vars, g_strdup (k), g_strdup (v));
  }
  va_end (args);
  return vars;
}

static void
test_comments_and_vars (void)
{
  g_autoptr (GHashTable) vars = vars_of (
      "CAMERA_ID", "room-101", "SURVEILLX_GALLERY", "/srv/students", NULL);
  const gchar *text
      = "# a classroom\n"
        "webrtcbin name=webrtc   # the peer\n"
        "webrtc. ! fakesink name=${CAMERA_ID} x=${SURVEILLX_GALLERY}\n"
        "  y=${SURVEILLX_DB:-} z=${SURVEILLX_URL:-http://127.0.0.1:5000}\n";
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = sx_pipe_expand (text, "t.pipe", vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==,
                   "\n"
                   "webrtcbin name=webrtc   \n"
                   "webrtc. ! fakesink name=\"room-101\" x=\"/srv/students\"\n"
                   "  y=\"\" z=\"http://127.0.0.1:5000\"\n");
}

static void
test_quoting (void)
{
  g_autoptr (GHashTable) vars = vars_of ("V", "a \"b\" ! c\\d", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out
      = sx_pipe_expand ("x p=${V} q=\"pre ${V} #no\"", "t.pipe", vars, &error);
  g_assert_no_error (error);
  /* outside quotes: one quoted value; inside: escaped, no extra quotes; a
   * '#' inside quotes is text, not a comment */
  g_assert_cmpstr (
      out, ==,
      "x p=\"a \\\"b\\\" ! c\\\\d\" q=\"pre a \\\"b\\\" ! c\\\\d #no\"");

  /* an escaped quote neither opens nor closes a string */
  g_autofree gchar *esc
      = sx_pipe_expand ("x p=a\\\"b q=${V:-z}", "t.pipe", vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (esc, ==, "x p=a\\\"b q=\"a \\\"b\\\" ! c\\\\d\"");

  g_autoptr (GHashTable) bad = vars_of ("V", "line1\nline2", NULL);
  g_autofree gchar *none
      = sx_pipe_expand ("a\nx p=${V}", "t.pipe", bad, &error);
  g_assert_null (none);
  g_assert_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_BAD_VALUE);
  g_assert_nonnull (strstr (error->message, "t.pipe:2:"));
}

static void
test_defaults (void)
{
  /* like the shell's ${V:-d}: empty takes the default too */
  g_autoptr (GHashTable) vars = vars_of ("EMPTY", "", "SET", "v", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *out = sx_pipe_expand ("${EMPTY:-d1} ${SET:-d2} "
                                          "${UNSET:-} ${EMPTY}",
                                          "t.pipe", vars, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "\"d1\" \"v\" \"\" \"\"");
}

static void
test_errors_name_the_line (void)
{
  g_autoptr (GHashTable) vars = sx_pipe_vars_new ();
  struct {
    const gchar *text;
    gint code;
    const gchar *needle;
  } cases[] = {
    { "a\n# c\nb p=${NOPE}\n", SX_PIPE_ERROR_UNKNOWN_VARIABLE,
      "t.pipe:3: unknown variable ${NOPE}" },
    { "a p=${1X}", SX_PIPE_ERROR_SYNTAX, "t.pipe:1: bad variable name" },
    { "a\np=${X", SX_PIPE_ERROR_SYNTAX, "t.pipe:2: expected '}'" },
    { "a p=${X:-abc", SX_PIPE_ERROR_SYNTAX, "t.pipe:1: unterminated" },
    { "a\n\nb p=\"open\n", SX_PIPE_ERROR_SYNTAX, "t.pipe:3: unclosed" },
    { "# only\n  \n# comments\n", SX_PIPE_ERROR_EMPTY, "no pipeline" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *out
        = sx_pipe_expand (cases[i].text, "t.pipe", vars, &error);
    g_assert_null (out);
    g_assert_error (error, SX_PIPE_ERROR, cases[i].code);
    if (!strstr (error->message, cases[i].needle))
      g_error ("case %u: '%s' lacks '%s'", i, error->message, cases[i].needle);
  }
}

static void
test_vars_sources (void)
{
  g_autoptr (GHashTable) vars = sx_pipe_vars_new ();
  gchar *envp[] = { (gchar *)"HOME=/root", (gchar *)"SURVEILLX_DB=x=1",
                    (gchar *)"SURVEILLX_BAD-NAME=1", NULL };
  sx_pipe_vars_add_environment (vars, envp);
  g_assert_cmpuint (g_hash_table_size (vars), ==, 1);
  g_assert_cmpstr (g_hash_table_lookup (vars, "SURVEILLX_DB"), ==, "x=1");

  g_autoptr (GError) error = NULL;
  g_assert_true (sx_pipe_vars_add_assignment (vars, "SURVEILLX_DB=y", &error));
  g_assert_cmpstr (g_hash_table_lookup (vars, "SURVEILLX_DB"), ==, "y");
  g_assert_true (sx_pipe_vars_add_assignment (vars, "ROOM=a=b", &error));
  g_assert_cmpstr (g_hash_table_lookup (vars, "ROOM"), ==, "a=b");
  g_assert_false (sx_pipe_vars_add_assignment (vars, "noequals", &error));
  g_clear_error (&error);
  g_assert_false (sx_pipe_vars_add_assignment (vars, "9X=1", &error));
  g_clear_error (&error);
}

static void
test_camera_ids (void)
{
  g_assert_true (sx_camera_id_is_valid ("room-101_A"));
  g_assert_true (sx_camera_id_is_valid ("1"));
  g_autofree gchar *max = g_strnfill (SX_CAMERA_ID_MAX_LEN, 'a');
  g_autofree gchar *over = g_strnfill (SX_CAMERA_ID_MAX_LEN + 1, 'a');
  g_assert_true (sx_camera_id_is_valid (max));
  g_assert_false (sx_camera_id_is_valid (over));
  const gchar *bad[]
      = { "", "a b", "a\"", "a!b", "../x", "a.b", "é", "a\nb", "${X}" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (sx_camera_id_is_valid (bad[i]));
  g_assert_false (sx_camera_id_is_valid (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipefile/comments-and-vars", test_comments_and_vars);
  g_test_add_func ("/pipefile/quoting", test_quoting);
  g_test_add_func ("/pipefile/defaults", test_defaults);
  g_test_add_func ("/pipefile/errors-name-the-line", test_errors_name_the_line);
  g_test_add_func ("/pipefile/vars-sources", test_vars_sources);
  g_test_add_func ("/pipefile/camera-ids", test_camera_ids);
  return g_test_run ();
}
