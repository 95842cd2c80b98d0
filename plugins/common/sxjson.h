/* A guard in front of json-glib, shared by the Socket.IO client and the
 * launcher's HTTP routes.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Deepest array/object nesting accepted from the network. Real messages
 * nest 3 or 4 levels. */
#define SX_JSON_MAX_DEPTH 64

/* Checks untrusted @text (@len bytes, no terminator needed) before
 * json-glib sees it: FALSE with a reason in @error (G_IO_ERROR_INVALID_DATA)
 * if it is not plain JSON (RFC 8259) at the lexical level, or nests
 * arrays/objects deeper than @max_depth.
 *
 * Why both: json-glib 1.6 recurses once per level without a limit (~70,000
 * levels overflow an 8 MiB stack), and it also accepts what JSON does not —
 * comments and single-quoted strings — inside which a '"' would fool a
 * depth count that knows only JSON strings. So anything outside JSON's own
 * tokens is refused first (an O(n) scan, no allocation). The scan does not
 * validate the grammar: json-glib still does that. */
gboolean sx_json_check (const gchar *text, gsize len, guint max_depth,
                        GError **error);

/* Appends @s as a JSON string literal (quoted, escaped). */
void sx_json_append_string (GString *out, const gchar *s);

G_END_DECLS
