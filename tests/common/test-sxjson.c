/* The JSON guard in front of json-glib (plugins/common/sxjson.c): plain
 * JSON passes, depth is bounded, and what json-glib would accept beyond
 * JSON — the comment and quote tricks that hid nesting from the old
 * count — is refused.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sxjson.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

static gboolean
check (const gchar *text, gsize len, GError **error)
{
  return sx_json_check (text, len, SX_JSON_MAX_DEPTH, error);
}

static gboolean
check_str (const gchar *text, GError **error)
{
  return check (text, strlen (text), error);
}

static gchar *
repeat (const gchar *prefix, gchar c, gsize n, const gchar *suffix)
{
  GString *s = g_string_new (prefix);
  for (gsize i = 0; i < n; i++)
    g_string_append_c (s, c);
  g_string_append (s, suffix);
  return g_string_free (s, FALSE);
}

static void
test_plain_json_passes (void)
{
  /* what clients send: an offer with escaped CRLFs, unicode, numbers,
   * literals, and FastRTC's candidate shape */
  const gchar *ok[] = {
    "{\"sdp\": \"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n\", \"type\": \"offer\"}",
    "{\"camera_id\": 12, \"x\": -1.5e+3, \"y\": [true, false, null]}",
    "{\"name\": \"Zo\xc3\xab \\\"quoted\\\" \\\\ \\/ \\u00e9\"}",
    "{\"type\":\"ice-candidate\",\"webrtc_id\":\"a-1\",\"candidate\":"
    "{\"candidate\":\"candidate:1 1 udp 1 127.0.0.1 9 typ host\","
    "\"sdpMid\":\"0\"}}",
    " [ ] ",
    "{\"every escape\": \"\\b\\f\\n\\r\\t\\/\\\\\\\"\\u0041\\uD83D\\ude00\"}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (ok); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_true (check_str (ok[i], &error));
    g_assert_no_error (error);
    g_autoptr (JsonParser) parser = json_parser_new ();
    g_assert_true (json_parser_load_from_data (parser, ok[i], -1, NULL));
  }
}

static void
test_depth_is_bounded (void)
{
  g_autofree gchar *at_limit = repeat ("", '[', SX_JSON_MAX_DEPTH, "");
  g_autofree gchar *over = repeat ("", '[', SX_JSON_MAX_DEPTH + 1, "");
  g_autoptr (GError) error = NULL;
  g_assert_true (check_str (at_limit, NULL));
  g_assert_false (check_str (over, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "nested deeper"));
  /* brackets inside strings are text, not nesting */
  g_autofree gchar *in_string = repeat ("[\"", '[', 100000, "\"]");
  g_assert_true (check_str (in_string, NULL));
  /* an escaped quote does not end the string early */
  g_autofree gchar *escaped = repeat ("[\"\\\"", '[', 100000, "\"]");
  g_assert_true (check_str (escaped, NULL));
}

/* Each of these passed the old guard (a '"' inside a comment or a
 * single-quoted string turned the count off) and reached json-glib with
 * 65,400 levels; 400,000 overflowed its stack. */
static void
test_bypasses_are_refused (void)
{
  struct {
    const gchar *prefix;
    const gchar *reason;
  } tricks[] = {
    { "/*\"*/", "a comment" },
    { "// \"\n", "a comment" },
    { "['\"', ", "a single-quoted string" },
    { "{\"a\": '\"'} ", "a single-quoted string" },
    { "#\"\n", "an unexpected character" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (tricks); i++) {
    g_autofree gchar *text = repeat (tricks[i].prefix, '[', 65400, "");
    g_autoptr (GError) error = NULL;
    g_assert_false (check_str (text, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, tricks[i].reason));
  }
  /* and the shallow forms too: json-glib would take them, JSON does not */
  const gchar *not_json[] = {
    "{\"a\": 1} /* c */",
    "{'a': 1}",
    "{\"a\": 0x10}",
    "{\"a\": NaN}",
    "{\"a\": \"tab\there\"}",
    "{\"a\": \"unterminated}",
    "{\"a\": \"x\\",
    /* escapes JSON does not have, which json-glib reads as C's: "\37" is
     * a control character it writes back unescaped (found by fuzzing) */
    "{\"\\37-k\": 21}",
    "{\"a\": \"\\x41\"}",
    "{\"a\": \"\\u12\"}",
    "{\"a\": \"\\u12g4\"}",
  };
  for (guint i = 0; i < G_N_ELEMENTS (not_json); i++) {
    g_autoptr (GError) error = NULL;
    g_assert_false (check_str (not_json[i], &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  }
}

static void
test_nul_bytes_are_refused (void)
{
  const gchar text[] = "{\"a\": 1}\0[[[[";
  g_assert_false (check (text, sizeof text - 1, NULL));
  const gchar in_string[] = "{\"a\": \"x\0y\"}";
  g_assert_false (check (in_string, sizeof in_string - 1, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sxjson/plain-json-passes", test_plain_json_passes);
  g_test_add_func ("/sxjson/depth-is-bounded", test_depth_is_bounded);
  g_test_add_func ("/sxjson/bypasses-are-refused", test_bypasses_are_refused);
  g_test_add_func ("/sxjson/nul-bytes-are-refused", test_nul_bytes_are_refused);
  return g_test_run ();
}
