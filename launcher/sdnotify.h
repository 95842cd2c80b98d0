/* surveillx-gst — telling systemd (Type=notify) that the launcher is ready
 * or stopping: the sd_notify protocol, one datagram to $NOTIFY_SOCKET.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_SD_NOTIFY_H
#define SX_SD_NOTIFY_H

#include <glib.h>

G_BEGIN_DECLS

/* Sends @state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
 * when the service manager asked for it (NOTIFY_SOCKET set); FALSE if it
 * asked and the datagram could not be sent. Without systemd, a no-op. */
gboolean sx_sd_notify (const gchar *state);

G_END_DECLS

#endif /* SX_SD_NOTIFY_H */
