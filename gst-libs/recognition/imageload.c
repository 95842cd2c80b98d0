/* surveillx-gst — decode a photo to packed RGB with GStreamer's decoders.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Using GStreamer here (rather than dlib's loaders or another image
 * library) means every format the installed plugins decode works, and the
 * project carries no further image dependency.
 */
#include "imageload.h"

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <string.h>

#define DECODE_TIMEOUT (10 * GST_SECOND)

static void
on_decoded_pad (GstElement *decodebin, GstPad *pad, GstElement *convert)
{
  g_autoptr (GstPad) sink = gst_element_get_static_pad (convert, "sink");
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

static gboolean
copy_sample (GstSample *sample, SxRgbImage *image, GError **error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
                               GST_MAP_READ)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 "decoded image could not be mapped");
    return FALSE;
  }
  image->width = GST_VIDEO_FRAME_WIDTH (&frame);
  image->height = GST_VIDEO_FRAME_HEIGHT (&frame);
  image->stride = (gsize)image->width * 3;
  image->data = g_malloc (image->stride * image->height);
  const guint8 *src = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
  gint src_stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
  for (guint y = 0; y < image->height; y++)
    memcpy (image->data + y * image->stride, src + (gsize)y * src_stride,
            image->stride);
  gst_video_frame_unmap (&frame);
  return TRUE;
}

gboolean
sx_rgb_image_load (const gchar *path, SxRgbImage *image, GError **error)
{
  memset (image, 0, sizeof *image);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "'%s' does not exist or is not a file", path);
    return FALSE;
  }

  GstElement *pipeline = gst_pipeline_new ("sx-image-load");
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *decode = gst_element_factory_make ("decodebin", NULL);
  GstElement *convert = gst_element_factory_make ("videoconvert", NULL);
  GstElement *sink = gst_element_factory_make ("appsink", NULL);
  if (!src || !decode || !convert || !sink) {
    g_set_error (
        error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
        "GStreamer base plugins missing (filesrc, decodebin, videoconvert, "
        "appsink)");
    gst_clear_object (&src);
    gst_clear_object (&decode);
    gst_clear_object (&convert);
    gst_clear_object (&sink);
    gst_object_unref (pipeline);
    return FALSE;
  }
  g_autoptr (GstCaps) rgb = gst_caps_new_simple ("video/x-raw", "format",
                                                 G_TYPE_STRING, "RGB", NULL);
  g_object_set (src, "location", path, NULL);
  g_object_set (sink, "caps", rgb, "sync", FALSE, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, decode, convert, sink, NULL);
  gst_element_link (src, decode);
  gst_element_link (convert, sink);
  g_signal_connect (decode, "pad-added", G_CALLBACK (on_decoded_pad), convert);

  gboolean ok = FALSE;
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) msg = gst_bus_timed_pop_filtered (
      bus, DECODE_TIMEOUT, GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR);
  if (msg == NULL) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "'%s': timed out decoding", path);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) gst_error = NULL;
    gst_message_parse_error (msg, &gst_error, NULL);
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "'%s' is not a readable image: %s", path, gst_error->message);
  } else {
    g_autoptr (GstSample) sample
        = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);
    if (sample)
      ok = copy_sample (sample, image, error);
    else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "'%s' decoded to nothing", path);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

void
sx_rgb_image_pad (const SxRgbImage *image, guint border, SxRgbImage *padded)
{
  padded->width = image->width + 2 * border;
  padded->height = image->height + 2 * border;
  padded->stride = (gsize)padded->width * 3;
  padded->data = g_malloc (padded->stride * padded->height);
  for (guint y = 0; y < padded->height; y++) {
    gint sy = CLAMP ((gint)y - (gint)border, 0, (gint)image->height - 1);
    const guint8 *src = image->data + (gsize)sy * image->stride;
    guint8 *dst = padded->data + (gsize)y * padded->stride;
    for (guint x = 0; x < padded->width; x++) {
      gint sx = CLAMP ((gint)x - (gint)border, 0, (gint)image->width - 1);
      memcpy (dst + x * 3, src + sx * 3, 3);
    }
  }
}

void
sx_rgb_image_clear (SxRgbImage *image)
{
  g_clear_pointer (&image->data, g_free);
  image->width = image->height = 0;
  image->stride = 0;
}
