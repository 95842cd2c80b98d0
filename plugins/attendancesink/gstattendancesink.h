/* surveillx-gst — attendancesink: facerecog's confirmed faces become
 * attendance rows in PostgreSQL.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef GST_ATTENDANCE_SINK_H
#define GST_ATTENDANCE_SINK_H

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_ATTENDANCE_SINK (gst_attendance_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstAttendanceSink, gst_attendance_sink, GST,
                      ATTENDANCE_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (attendancesink);

G_END_DECLS

#endif /* GST_ATTENDANCE_SINK_H */
