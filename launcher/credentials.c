/* Who a request comes from.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "credentials.h"

#include <errno.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/random.h>

struct _SxCredentials {
  gchar *operator_token;
  gchar *camera_secret;
};

SxCredentials *
sx_credentials_new (const gchar *operator_token, const gchar *camera_secret)
{
  SxCredentials *creds = g_new0 (SxCredentials, 1);
  if (operator_token && *operator_token)
    creds->operator_token = g_strdup (operator_token);
  if (camera_secret && *camera_secret)
    creds->camera_secret = g_strdup (camera_secret);
  return creds;
}

void
sx_credentials_free (SxCredentials *creds)
{
  if (creds == NULL)
    return;
  /* not left in freed memory */
  if (creds->operator_token)
    memset (creds->operator_token, 0, strlen (creds->operator_token));
  if (creds->camera_secret)
    memset (creds->camera_secret, 0, strlen (creds->camera_secret));
  g_free (creds->operator_token);
  g_free (creds->camera_secret);
  g_free (creds);
}

gboolean
sx_credentials_required (const SxCredentials *creds)
{
  return creds->operator_token != NULL || creds->camera_secret != NULL;
}

gboolean
sx_credentials_has_operator (const SxCredentials *creds)
{
  return creds->operator_token != NULL;
}

gboolean
sx_secure_equal (const gchar *a, const gchar *b)
{
  gsize la = strlen (a), lb = strlen (b);
  /* every byte of @b is compared whatever the first difference */
  guint diff = la != lb;
  for (gsize i = 0; i < lb; i++)
    diff |= (guchar)b[i] ^ (guchar)(la ? a[i % la] : 0);
  return diff == 0;
}

gchar *
sx_credentials_camera_token (const SxCredentials *creds, const gchar *camera_id)
{
  if (creds->camera_secret == NULL)
    return NULL;
  g_autofree gchar *mac = g_compute_hmac_for_string (
      G_CHECKSUM_SHA256, (const guchar *)creds->camera_secret,
      strlen (creds->camera_secret), camera_id, -1);
  return g_strdup_printf ("%s.%s", camera_id, mac);
}

gchar *
sx_credentials_identify (const SxCredentials *creds, const gchar *authorization)
{
  if (authorization == NULL
      || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return NULL;
  const gchar *given = authorization + 7;
  if (creds->operator_token && sx_secure_equal (creds->operator_token, given))
    return g_strdup (SX_IDENTITY_OPERATOR);
  const gchar *dot = strrchr (given, '.');
  if (creds->camera_secret == NULL || dot == NULL || dot == given
      || dot - given > 64)
    return NULL;
  g_autofree gchar *camera_id = g_strndup (given, dot - given);
  g_autofree gchar *expected = sx_credentials_camera_token (creds, camera_id);
  if (!sx_secure_equal (expected, given))
    return NULL;
  return g_strconcat (SX_IDENTITY_CAMERA_PREFIX, camera_id, NULL);
}

const gchar *
sx_identity_camera (const gchar *identity)
{
  if (identity == NULL
      || !g_str_has_prefix (identity, SX_IDENTITY_CAMERA_PREFIX))
    return NULL;
  return identity + strlen (SX_IDENTITY_CAMERA_PREFIX);
}

gchar *
sx_random_id (void)
{
  guint8 bytes[16];
  gsize got = 0;
  while (got < sizeof bytes) {
    gssize n = getrandom (bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      g_error ("getrandom: %s", g_strerror (errno));
    got += (gsize)n;
  }
  GString *hex = g_string_sized_new (33);
  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf (hex, "%02x", bytes[i]);
  return g_string_free (hex, FALSE);
}

gchar *
sx_read_secret_file (const gchar *path, GError **error)
{
  g_autofree gchar *text = NULL;
  gsize len;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  gchar *end = strpbrk (text, "\r\n");
  if (end)
    *end = '\0';
  gsize before = strlen (text);
  g_strstrip (text);
  if (*text == '\0' || strlen (text) != before) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "%s: the first line must hold the secret, without spaces "
                 "around it",
                 path);
    return NULL;
  }
  return g_steal_pointer (&text);
}
