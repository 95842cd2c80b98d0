/* surveillx-gst — the camera an element reports for when its camera-id is
 * not set, the same for every element of a pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_CAMERA_ID_H
#define SX_CAMERA_ID_H

#include <gst/gst.h>

G_BEGIN_DECLS

/* @configured when set and not empty; else the name of the outermost bin
 * holding @element (the launcher names each camera's pipeline after the
 * camera; gst-launch-1.0 calls its one pipeline "pipeline0"); else, for an
 * element in no bin, its own name. Call it without holding the element's
 * object lock. Free the result. */
gchar *sx_camera_id_resolve (GstElement *element, const gchar *configured);

G_END_DECLS

#endif /* SX_CAMERA_ID_H */
