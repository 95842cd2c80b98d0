/* surveillx-gst — sd_notify without libsystemd (sdnotify.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The protocol is one AF_UNIX datagram; a leading '@' in the socket path
 * names an abstract socket. Linking libsystemd for this would add a
 * dependency for twenty lines.
 */
#include "sdnotify.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <string.h>

gboolean
sx_sd_notify (const gchar *state)
{
  const gchar *path = g_getenv ("NOTIFY_SOCKET");
  if (path == NULL || *path == '\0')
    return TRUE;

  GSocketAddress *address
      = path[0] == '@' ? g_unix_socket_address_new_with_type (
            path + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT)
                       : g_unix_socket_address_new (path);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM,
                                  G_SOCKET_PROTOCOL_DEFAULT, NULL);
  gboolean sent
      = socket != NULL
        && g_socket_send_to (socket, address, state, strlen (state), NULL, NULL)
               == (gssize)strlen (state);
  g_clear_object (&socket);
  g_object_unref (address);
  return sent;
}
