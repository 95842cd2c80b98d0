/* Members of the launcher's JSON request bodies.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "offerjson.h"

gboolean
sx_offer_json_string (JsonObject *obj, const gchar *name, const gchar **out)
{
  JsonNode *node = json_object_get_member (obj, name);
  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
sx_offer_json_camera_id (JsonObject *obj, gchar **out)
{
  JsonNode *node = json_object_get_member (obj, "camera_id");
  *out = NULL;
  if (node && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64) {
    *out = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    return TRUE;
  }
  const gchar *s;
  if (!sx_offer_json_string (obj, "camera_id", &s))
    return FALSE;
  *out = g_strdup (s);
  return TRUE;
}
