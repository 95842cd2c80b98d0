/* surveillx-gst — the `surveillx` plugin: registers every element.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#ifdef SX_HAVE_FACERECOG
GST_ELEMENT_REGISTER_DECLARE (facerecog);
#endif
#ifdef SX_HAVE_SOCKETIOSINK
GST_ELEMENT_REGISTER_DECLARE (socketiosink);
#endif
#ifdef SX_HAVE_ATTENDANCESINK
GST_ELEMENT_REGISTER_DECLARE (attendancesink);
#endif

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean any = FALSE;

#ifdef SX_HAVE_FACERECOG
  any |= GST_ELEMENT_REGISTER (facerecog, plugin);
#endif
#ifdef SX_HAVE_SOCKETIOSINK
  any |= GST_ELEMENT_REGISTER (socketiosink, plugin);
#endif
#ifdef SX_HAVE_ATTENDANCESINK
  any |= GST_ELEMENT_REGISTER (attendancesink, plugin);
#endif
  return any;
}

GST_PLUGIN_DEFINE (
    GST_VERSION_MAJOR, GST_VERSION_MINOR, surveillx,
    "SurveillX classroom camera elements: face recognition, attendance, "
    "Socket.IO streaming",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
