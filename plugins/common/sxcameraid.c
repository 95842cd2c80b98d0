/* surveillx-gst — default camera ids (sxcameraid.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sxcameraid.h"

gchar *
sx_camera_id_resolve (GstElement *element, const gchar *configured)
{
  if (configured != NULL && *configured != '\0')
    return g_strdup (configured);

  /* Both sinks of a pipeline then agree, which the elements' own names
   * ("attendancesink0", "socketiosink0") never would. */
  GstObject *top = gst_object_ref (GST_OBJECT (element));
  GstObject *parent;
  while ((parent = gst_object_get_parent (top)) != NULL) {
    gst_object_unref (top);
    top = parent;
  }
  gchar *id = gst_object_get_name (top);
  gst_object_unref (top);
  return id;
}
