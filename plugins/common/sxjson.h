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

/* FALSE if @text (@len bytes) nests arrays/objects deeper than @max_depth
 * outside strings. json-glib 1.6 recurses once per level without a limit:
 * ~70,000 levels overflow an 8 MiB stack, so untrusted JSON is checked
 * here first (an O(n) scan, no allocation). */
gboolean sx_json_nesting_ok (const gchar *text, gsize len, guint max_depth);

G_END_DECLS
