/* surveillx-gst — socketiosink: JPEG frames to a Socket.IO server.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef __GST_SOCKETIO_SINK_H__
#define __GST_SOCKETIO_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_SOCKETIO_SINK (gst_socketio_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstSocketioSink, gst_socketio_sink, GST, SOCKETIO_SINK,
                      GstBaseSink)

#define GST_TYPE_SOCKETIO_TRANSPORT (gst_socketio_transport_get_type ())
GType gst_socketio_transport_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (socketiosink);

G_END_DECLS

#endif /* __GST_SOCKETIO_SINK_H__ */
