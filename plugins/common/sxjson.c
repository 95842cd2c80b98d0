/* A guard in front of json-glib.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sxjson.h"

#include <gio/gio.h>

/* Bytes JSON allows outside strings: whitespace, structure, numbers and
 * the letters of true, false and null. */
static gboolean
is_json_token_byte (guchar c)
{
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '{':
    case '}':
    case '[':
    case ']':
    case ',':
    case ':':
    case '-':
    case '+':
    case '.':
    case 'e':
    case 'E':
    case 't':
    case 'r':
    case 'u':
    case 'f':
    case 'a':
    case 'l':
    case 's':
    case 'n':
      return TRUE;
    default:
      return c >= '0' && c <= '9';
  }
}

/* The characters JSON allows after a backslash ('u' takes 4 hex digits). */
static gboolean
is_json_escape (guchar c)
{
  return c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n'
         || c == 'r' || c == 't' || c == 'u';
}

static gboolean
refuse (GError **error, gsize offset, const gchar *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "not JSON: %s at byte %" G_GSIZE_FORMAT, what, offset);
  return FALSE;
}

gboolean
sx_json_check (const gchar *text, gsize len, guint max_depth, GError **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < len; i++) {
    guchar c = (guchar)text[i];
    if (in_string) {
      if (c < 0x20)
        return refuse (error, i, "a control character in a string");
      if (c == '\\') {
        /* the escaped character cannot end the string */
        if (++i == len)
          break;
        if ((guchar)text[i] < 0x20)
          return refuse (error, i, "a control character in a string");
        /* json-glib also reads octal and other C escapes ("\37" is a
         * control character it would then write back unescaped) */
        if (!is_json_escape ((guchar)text[i]))
          return refuse (error, i, "an escape JSON does not have");
        if (text[i] == 'u') {
          for (guint k = 1; k <= 4; k++)
            if (i + k >= len || !g_ascii_isxdigit (text[i + k]))
              return refuse (error, i, "an escape JSON does not have");
          i += 4;
        }
      } else if (c == '"') {
        in_string = FALSE;
      }
      continue;
    }
    if (c == '"') {
      in_string = TRUE;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "nested deeper than %u levels", max_depth);
        return FALSE;
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0)
        depth--;
    } else if (!is_json_token_byte (c)) {
      if (c == '/')
        return refuse (error, i, "a comment");
      if (c == '\'')
        return refuse (error, i, "a single-quoted string");
      return refuse (error, i, "an unexpected character");
    }
  }
  if (in_string)
    return refuse (error, len, "an unterminated string");
  return TRUE;
}

void
sx_json_append_string (GString *out, const gchar *s)
{
  g_string_append_c (out, '"');
  for (; *s; s++) {
    guchar c = (guchar)*s;
    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        if (c < 0x20)
          g_string_append_printf (out, "\\u%04x", c);
        else
          g_string_append_c (out, (gchar)c);
    }
  }
  g_string_append_c (out, '"');
}
