/* surveillx-gst — facerecog: recognises enrolled faces in raw video.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_FACE_RECOG_H__
#define __GST_FACE_RECOG_H__

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

/* Which faces are pixelated in the frames going downstream (the
 * dashboard's): none, those not confirmed as an enrolled person, or all. */
typedef enum {
  GST_FACE_RECOG_BLUR_NONE,
  GST_FACE_RECOG_BLUR_UNKNOWN,
  GST_FACE_RECOG_BLUR_ALL,
} GstFaceRecogBlur;

#define GST_TYPE_FACE_RECOG_BLUR (gst_face_recog_blur_get_type ())
GType gst_face_recog_blur_get_type (void);

#define GST_TYPE_FACE_RECOG (gst_face_recog_get_type ())
G_DECLARE_FINAL_TYPE (GstFaceRecog, gst_face_recog, GST, FACE_RECOG,
                      GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (facerecog);

G_END_DECLS

#endif /* __GST_FACE_RECOG_H__ */
