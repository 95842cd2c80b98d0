/* Members of the launcher's JSON request bodies (POST /offer, FastRTC).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain GLib + json-glib, shared by the HTTP routes and the offer fuzzer.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A member that must be a string: TRUE with *@out the string, or NULL when
 * it is absent or null; FALSE when it is anything else. */
gboolean sx_offer_json_string (JsonObject *obj, const gchar *name,
                               const gchar **out);

/* "camera_id": a string, or an integer as the dashboard's ids often are
 * (*@out, newly allocated, NULL when absent). FALSE if it is something
 * else. The value is not validated here. */
gboolean sx_offer_json_camera_id (JsonObject *obj, gchar **out);

G_END_DECLS
