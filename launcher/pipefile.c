/* Pipeline files: gst-launch text with comments and ${VAR} substitution.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pipefile.h"

#include <string.h>

GQuark
sx_pipe_error_quark (void)
{
  return g_quark_from_static_string ("sx-pipe-error-quark");
}

gboolean
sx_camera_id_is_valid (const gchar *id)
{
  if (id == NULL || *id == '\0')
    return FALSE;
  gsize len = 0;
  for (const gchar *p = id; *p; p++, len++) {
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;
  }
  return len <= SX_CAMERA_ID_MAX_LEN;
}

static gboolean
is_name_start (gchar c)
{
  return g_ascii_isalpha (c) || c == '_';
}

static gboolean
is_name_char (gchar c)
{
  return g_ascii_isalnum (c) || c == '_';
}

gboolean
sx_pipe_variable_name_is_valid (const gchar *name)
{
  if (name == NULL || !is_name_start (*name))
    return FALSE;
  for (const gchar *p = name + 1; *p; p++) {
    if (!is_name_char (*p))
      return FALSE;
  }
  return TRUE;
}

GHashTable *
sx_pipe_vars_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

void
sx_pipe_vars_add_environment (GHashTable *vars, gchar **envp)
{
  g_auto (GStrv) own = NULL;
  if (envp == NULL)
    envp = own = g_get_environ ();
  for (gchar **e = envp; *e; e++) {
    if (!g_str_has_prefix (*e, "SURVEILLX_"))
      continue;
    const gchar *eq = strchr (*e, '=');
    if (eq == NULL)
      continue;
    g_autofree gchar *name = g_strndup (*e, eq - *e);
    if (sx_pipe_variable_name_is_valid (name))
      g_hash_table_replace (vars, g_steal_pointer (&name), g_strdup (eq + 1));
  }
}

gboolean
sx_pipe_vars_add_assignment (GHashTable *vars, const gchar *arg, GError **error)
{
  const gchar *eq = strchr (arg, '=');
  if (eq == NULL) {
    g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
                 "--set %s: expected KEY=VALUE", arg);
    return FALSE;
  }
  g_autofree gchar *name = g_strndup (arg, eq - arg);
  if (!sx_pipe_variable_name_is_valid (name)) {
    g_set_error (
        error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
        "--set %s: '%s' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", arg,
        name);
    return FALSE;
  }
  g_hash_table_replace (vars, g_steal_pointer (&name), g_strdup (eq + 1));
  return TRUE;
}

gchar *
sx_pipe_quote_value (const gchar *value, gboolean in_quotes, GError **error)
{
  GString *out = g_string_sized_new (strlen (value) + 2);
  if (!in_quotes)
    g_string_append_c (out, '"');
  for (const gchar *p = value; *p; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f) {
      g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_BAD_VALUE,
                   "value contains a control character (0x%02x)", (guchar)*p);
      g_string_free (out, TRUE);
      return NULL;
    }
    /* gst_parse_launch() unescapes \x to x inside a value, so these two are
     * the only characters that need it to come out unchanged. */
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *p);
  }
  if (!in_quotes)
    g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/* Parses "${NAME}" or "${NAME:-default}" at @p (pointing at '$'). On success
 * returns the position after '}', with @name and @fallback (NULL when there
 * is no ":-") set. */
static const gchar *
parse_reference (const gchar *p, gchar **name, gchar **fallback,
                 const gchar *origin, guint line, GError **error)
{
  const gchar *start = p + 2;
  const gchar *q = start;
  while (is_name_char (*q))
    q++;
  if (q == start || !is_name_start (*start)) {
    g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
                 "%s:%u: bad variable name after '${'", origin, line);
    return NULL;
  }
  *name = g_strndup (start, q - start);
  *fallback = NULL;
  if (q[0] == ':' && q[1] == '-') {
    const gchar *d = q + 2;
    const gchar *end = d;
    while (*end && *end != '}' && *end != '\n')
      end++;
    if (*end != '}') {
      g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
                   "%s:%u: unterminated '${%s:-'", origin, line, *name);
      g_clear_pointer (name, g_free);
      return NULL;
    }
    *fallback = g_strndup (d, end - d);
    return end + 1;
  }
  if (*q != '}') {
    g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
                 "%s:%u: expected '}' or ':-' after '${%s'", origin, line,
                 *name);
    g_clear_pointer (name, g_free);
    return NULL;
  }
  return q + 1;
}

gchar *
sx_pipe_expand (const gchar *text, const gchar *origin, GHashTable *vars,
                GError **error)
{
  g_autoptr (GString) out = g_string_sized_new (strlen (text));
  gboolean in_quotes = FALSE;
  guint line = 1, quote_line = 0;
  const gchar *p = text;

  while (*p) {
    if (*p == '\n') {
      line++;
      g_string_append_c (out, *p++);
    } else if (*p == '\\' && p[1] != '\0' && p[1] != '\n') {
      /* an escaped character is the pipeline's business: copy both, and an
       * escaped quote does not open or close a string */
      g_string_append_len (out, p, 2);
      p += 2;
    } else if (*p == '"') {
      in_quotes = !in_quotes;
      quote_line = line;
      g_string_append_c (out, *p++);
    } else if (*p == '#' && !in_quotes) {
      while (*p && *p != '\n')
        p++;
    } else if (p[0] == '$' && p[1] == '{') {
      g_autofree gchar *name = NULL, *fallback = NULL;
      const gchar *next
          = parse_reference (p, &name, &fallback, origin, line, error);
      if (next == NULL)
        return NULL;
      const gchar *value = g_hash_table_lookup (vars, name);
      /* ${NAME:-default}: like the shell, an empty value takes the default */
      if (fallback != NULL && (value == NULL || *value == '\0'))
        value = fallback;
      if (value == NULL) {
        g_set_error (
            error, SX_PIPE_ERROR, SX_PIPE_ERROR_UNKNOWN_VARIABLE,
            "%s:%u: unknown variable ${%s} (set it with --set %s=... or, "
            "for SURVEILLX_* names, in the environment; or give a default "
            "with ${%s:-...})",
            origin, line, name, name, name);
        return NULL;
      }
      g_autoptr (GError) qerr = NULL;
      g_autofree gchar *quoted = sx_pipe_quote_value (value, in_quotes, &qerr);
      if (quoted == NULL) {
        g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_BAD_VALUE,
                     "%s:%u: ${%s}: %s", origin, line, name, qerr->message);
        return NULL;
      }
      g_string_append (out, quoted);
      p = next;
    } else {
      g_string_append_c (out, *p++);
    }
  }
  if (in_quotes) {
    g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_SYNTAX,
                 "%s:%u: unclosed '\"'", origin, quote_line);
    return NULL;
  }
  /* a file of nothing but comments would make an empty pipeline, which
   * gst_parse_launch() reports less clearly */
  g_autofree gchar *stripped = g_strstrip (g_strdup (out->str));
  if (*stripped == '\0') {
    g_set_error (error, SX_PIPE_ERROR, SX_PIPE_ERROR_EMPTY,
                 "%s: no pipeline in the file (only comments or blank lines)",
                 origin);
    return NULL;
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}
