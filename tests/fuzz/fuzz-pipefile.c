/* libFuzzer target: pipe files and ${VAR} substitution (launcher/pipefile.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is a pipe file. Comment lines of the form
 *   #@NAME=value    a variable, as --set NAME=value gives it
 *   #$SURVEILLX_X=v an environment entry (sx_pipe_vars_add_environment)
 * define the variables; being comments, they vanish from the expansion,
 * so the real files under pipelines/ are valid seeds as they are.
 * CAMERA_ID is set as the launcher sets it, unless the input sets it.
 *
 * Invariants checked on every successful expansion E of text T:
 *  - E has as many newlines as T (error line numbers and the lines
 *    gst_parse_launch() reports stay those of the file);
 *  - no control character appears in E more often than in T (values and
 *    defaults with control characters are refused);
 *  - scanned as the expander scans (\x escapes, "..." strings), E ends
 *    outside quotes, has no unescaped '#' outside quotes (comments are
 *    gone) and no unescaped "${" outside quotes (every reference in the
 *    file was expanded; one can only appear inside a quoted value);
 *  - a value cannot break out of its property: the skeleton of E (each
 *    "..." string collapsed to one token) is the same with every
 *    variable's value replaced by a benign one and by a hostile one full
 *    of quotes, backslashes, '!', '#' and "${";
 *  - sx_pipe_quote_value() round-trips: unescaping gives the value back.
 */
#include "fuzz-common.h"
#include "pipefile.h"

#include <string.h>

#define ORIGIN "fuzz.pipe"
#define HOSTILE_VALUE "a\" ! fakesink \\\" name=x # ${Y} \\"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_make_criticals_fatal ();
  return 0;
}

/* gst-launch unescaping of one value as sx_pipe_quote_value() wrote it. */
static gchar *
unquote (const gchar *quoted, gboolean in_quotes)
{
  gsize n = strlen (quoted);
  if (!in_quotes) {
    FUZZ_CHECK (n >= 2 && quoted[0] == '"' && quoted[n - 1] == '"');
    quoted++;
    n -= 2;
  }
  GString *out = g_string_new (NULL);
  for (gsize i = 0; i < n; i++) {
    if (quoted[i] == '\\') {
      /* only " and \ are escaped, and never a lone backslash at the end */
      FUZZ_CHECK (i + 1 < n);
      FUZZ_CHECK (quoted[i + 1] == '"' || quoted[i + 1] == '\\');
      i++;
    } else {
      /* every quote inside is escaped */
      FUZZ_CHECK (quoted[i] != '"');
    }
    g_string_append_c (out, quoted[i]);
  }
  return g_string_free (out, FALSE);
}

static void
check_quote_value (const gchar *value)
{
  for (gint in_quotes = 0; in_quotes < 2; in_quotes++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *q = sx_pipe_quote_value (value, in_quotes, &error);
    gboolean has_control = FALSE;
    for (const gchar *p = value; *p; p++)
      if ((guchar)*p < 0x20 || *p == 0x7f)
        has_control = TRUE;
    FUZZ_CHECK ((q == NULL) == has_control);
    FUZZ_CHECK ((q == NULL) == (error != NULL));
    if (q) {
      g_autofree gchar *back = unquote (q, in_quotes);
      FUZZ_CHECK (strcmp (back, value) == 0);
    } else {
      FUZZ_CHECK (
          g_error_matches (error, SX_PIPE_ERROR, SX_PIPE_ERROR_BAD_VALUE));
    }
  }
}

/* The expander's scanner over its own output (there are no comments and
 * no references left to skip). Returns the skeleton: text outside quotes
 * with each quoted string replaced by 'Q'. */
static GString *
scan_expansion (const gchar *e)
{
  GString *skeleton = g_string_new (NULL);
  gboolean in_quotes = FALSE;
  const gchar *p = e;
  while (*p) {
    if (*p == '\\' && p[1] != '\0' && p[1] != '\n') {
      if (!in_quotes)
        g_string_append_len (skeleton, p, 2);
      p += 2;
    } else if (*p == '"') {
      if (!in_quotes)
        g_string_append_c (skeleton, 'Q');
      in_quotes = !in_quotes;
      p++;
    } else {
      if (!in_quotes) {
        /* a comment the expander left in */
        FUZZ_CHECK (*p != '#');
        /* a reference the expander did not expand */
        FUZZ_CHECK (!(p[0] == '$' && p[1] == '{'));
        g_string_append_c (skeleton, *p);
      }
      p++;
    }
  }
  FUZZ_CHECK (!in_quotes);
  return skeleton;
}

static void
count_controls (const gchar *s, guint counts[33])
{
  memset (counts, 0, 33 * sizeof (guint));
  for (; *s; s++) {
    guchar c = (guchar)*s;
    if (c < 0x20)
      counts[c]++;
    else if (c == 0x7f)
      counts[32]++;
  }
}

/* @vars with every value replaced by @value. */
static GHashTable *
vars_with_values (GHashTable *vars, const gchar *value)
{
  GHashTable *copy = sx_pipe_vars_new ();
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, vars);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_hash_table_insert (copy, g_strdup (k), g_strdup (value));
  return copy;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  /* the launcher reads the file as a C string: text ends at a NUL */
  g_autofree gchar *text = g_strndup ((const gchar *)data, size);
  g_autoptr (GHashTable) vars = sx_pipe_vars_new ();
  g_autoptr (GPtrArray) env = g_ptr_array_new ();
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i]; i++) {
    const gchar *line = lines[i];
    if (g_str_has_prefix (line, "#@")) {
      g_autoptr (GError) error = NULL;
      const gchar *eq = strchr (line + 2, '=');
      gboolean ok = sx_pipe_vars_add_assignment (vars, line + 2, &error);
      FUZZ_CHECK (ok == (error == NULL));
      if (eq) {
        g_autofree gchar *name = g_strndup (line + 2, eq - (line + 2));
        FUZZ_CHECK (ok == sx_pipe_variable_name_is_valid (name));
        if (ok)
          FUZZ_CHECK (strcmp (g_hash_table_lookup (vars, name), eq + 1) == 0);
      } else {
        FUZZ_CHECK (!ok);
      }
    } else if (g_str_has_prefix (line, "#$")) {
      g_ptr_array_add (env, (gpointer)(line + 2));
    }
    /* no crash on arbitrary ids; a valid one is short and plain */
    if (sx_camera_id_is_valid (line))
      FUZZ_CHECK (strlen (line) <= SX_CAMERA_ID_MAX_LEN
                  && strspn (line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                   "opqrstuvwxyz0123456789_-")
                         == strlen (line));
  }
  g_ptr_array_add (env, NULL);
  sx_pipe_vars_add_environment (vars, (gchar **)env->pdata);
  if (!g_hash_table_contains (vars, "CAMERA_ID"))
    g_hash_table_insert (vars, g_strdup ("CAMERA_ID"), g_strdup ("cam-1"));

  {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init (&it, vars);
    while (g_hash_table_iter_next (&it, &k, &v)) {
      FUZZ_CHECK (sx_pipe_variable_name_is_valid (k));
      check_quote_value (v);
      /* a valid name is referable */
      g_autofree gchar *ref = g_strdup_printf ("x=${%s}", (gchar *)k);
      g_autoptr (GHashTable) one = sx_pipe_vars_new ();
      g_hash_table_insert (one, g_strdup (k), g_strdup ("v"));
      g_autoptr (GError) error = NULL;
      g_autofree gchar *e = sx_pipe_expand (ref, ORIGIN, one, &error);
      FUZZ_CHECK (e != NULL && strcmp (e, "x=\"v\"") == 0);
    }
  }
  if (size <= 1024)
    check_quote_value (text);

  g_autoptr (GError) error = NULL;
  g_autofree gchar *e = sx_pipe_expand (text, ORIGIN, vars, &error);
  FUZZ_CHECK ((e == NULL) == (error != NULL));
  if (e == NULL) {
    FUZZ_CHECK (error->domain == SX_PIPE_ERROR);
    FUZZ_CHECK (g_str_has_prefix (error->message, ORIGIN ":"));
    return 0;
  }

  guint in_counts[33], out_counts[33];
  count_controls (text, in_counts);
  count_controls (e, out_counts);
  FUZZ_CHECK (out_counts['\n'] == in_counts['\n']);
  for (guint c = 0; c < 33; c++)
    FUZZ_CHECK (out_counts[c] <= in_counts[c]);

  GString *skeleton = scan_expansion (e);
  static const gchar *const others[] = { "v", HOSTILE_VALUE };
  for (guint i = 0; i < G_N_ELEMENTS (others); i++) {
    g_autoptr (GHashTable) other_vars = vars_with_values (vars, others[i]);
    g_autoptr (GError) other_error = NULL;
    g_autofree gchar *other
        = sx_pipe_expand (text, ORIGIN, other_vars, &other_error);
    /* the same names resolve, the values are clean, and a default is
     * used only where it was before (or not at all) */
    FUZZ_CHECK (other != NULL);
    GString *other_skeleton = scan_expansion (other);
    FUZZ_CHECK (g_string_equal (skeleton, other_skeleton));
    g_string_free (other_skeleton, TRUE);
  }
  g_string_free (skeleton, TRUE);
  return 0;
}
