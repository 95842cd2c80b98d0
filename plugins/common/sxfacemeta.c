/* surveillx-gst — facerecog's per-face parameters, kept through scaling.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sxfacemeta.h"
#include <surveillx/faceresult.h>

#define CARRIER_FIELD_FACES "faces"

/* Registered once per process; a second static copy of this file (tools
 * linking the sinks' code) finds the first registration by name. */
static const GstMetaInfo *
carrier_info (void)
{
  static const GstMetaInfo *info;

  if (g_once_init_enter (&info)) {
    const GstMetaInfo *found = gst_meta_get_info (SX_FACE_PARAMS_META_NAME);
    if (!found) {
      /* No tags: transforms that scale, convert or encode copy it as is. */
      static const gchar *tags[] = { NULL };
      found = gst_meta_register_custom (SX_FACE_PARAMS_META_NAME, tags, NULL,
                                        NULL, NULL);
    }
    g_once_init_leave (&info, found);
  }
  return info;
}

void
sx_face_params_carry (GstBuffer *buffer, const GstStructure *params)
{
  GstCustomMeta *meta;
  GstStructure *carrier;
  GValue faces = G_VALUE_INIT, face = G_VALUE_INIT;

  carrier_info ();
  meta = gst_buffer_get_custom_meta (buffer, SX_FACE_PARAMS_META_NAME);
  if (!meta)
    meta = gst_buffer_add_custom_meta (buffer, SX_FACE_PARAMS_META_NAME);
  if (!meta)
    return;
  carrier = gst_custom_meta_get_structure (meta);
  if (!gst_structure_has_field (carrier, CARRIER_FIELD_FACES)) {
    g_value_init (&faces, GST_TYPE_LIST);
    gst_structure_take_value (carrier, CARRIER_FIELD_FACES, &faces);
  }
  g_value_init (&face, GST_TYPE_STRUCTURE);
  gst_value_set_structure (&face, params);
  gst_value_list_append_and_take_value (
      (GValue *)gst_structure_get_value (carrier, CARRIER_FIELD_FACES), &face);
}

const GstStructure *
sx_face_params_of (GstBuffer *buffer, GstVideoRegionOfInterestMeta *roi)
{
  const GstStructure *own;
  GstCustomMeta *meta;
  const GValue *faces;

  own = gst_video_region_of_interest_meta_get_param (roi, SX_FACE_PARAMS_NAME);
  if (own)
    return own;
  carrier_info ();
  meta = gst_buffer_get_custom_meta (buffer, SX_FACE_PARAMS_META_NAME);
  if (!meta)
    return NULL;
  faces = gst_structure_get_value (gst_custom_meta_get_structure (meta),
                                   CARRIER_FIELD_FACES);
  if (!faces || !GST_VALUE_HOLDS_LIST (faces))
    return NULL;
  for (guint i = 0; i < gst_value_list_get_size (faces); i++) {
    const GValue *v = gst_value_list_get_value (faces, i);
    const GstStructure *face;
    guint track;

    if (!GST_VALUE_HOLDS_STRUCTURE (v))
      continue;
    face = gst_value_get_structure (v);
    if (gst_structure_has_name (face, SX_FACE_PARAMS_NAME)
        && gst_structure_get_uint (face, SX_FACE_FIELD_TRACK_ID, &track)
        && (gint)track == roi->id)
      return face;
  }
  return NULL;
}
