/* Who a request comes from (launcher/credentials.c): the operator's token,
 * per-camera tokens signed with the camera secret, random ids, secret
 * files.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "credentials.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

static gchar *
bearer (const gchar *token)
{
  return g_strconcat ("Bearer ", token, NULL);
}

static void
test_operator_token (void)
{
  SxCredentials *creds = sx_credentials_new ("s3cret-operator", NULL);
  g_assert_true (sx_credentials_required (creds));
  g_assert_true (sx_credentials_has_operator (creds));
  g_autofree gchar *ok
      = sx_credentials_identify (creds, "Bearer s3cret-operator");
  g_assert_cmpstr (ok, ==, SX_IDENTITY_OPERATOR);
  g_autofree gchar *lower
      = sx_credentials_identify (creds, "bearer s3cret-operator");
  g_assert_cmpstr (lower, ==, SX_IDENTITY_OPERATOR);
  const gchar *wrong[]
      = { "Bearer s3cret-operato", "Bearer s3cret-operatorX", "Bearer ",
          "Basic s3cret-operator", "s3cret-operator",         "" };
  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    g_assert_null (sx_credentials_identify (creds, wrong[i]));
  g_assert_null (sx_credentials_identify (creds, NULL));
  /* no camera secret: no camera token is valid, and none is made */
  g_assert_null (sx_credentials_camera_token (creds, "room-1"));
  g_assert_null (sx_credentials_identify (creds, "Bearer room-1.00"));
  sx_credentials_free (creds);
}

static void
test_camera_tokens (void)
{
  SxCredentials *creds = sx_credentials_new (NULL, "camera-secret");
  g_assert_true (sx_credentials_required (creds));
  g_assert_false (sx_credentials_has_operator (creds));
  g_autofree gchar *token = sx_credentials_camera_token (creds, "room-1");
  /* id, a dot, 64 hex digits of HMAC-SHA256 */
  g_assert_true (g_str_has_prefix (token, "room-1."));
  g_assert_cmpuint (strlen (token), ==, strlen ("room-1.") + 64);
  g_autofree gchar *header = bearer (token);
  g_autofree gchar *who = sx_credentials_identify (creds, header);
  g_assert_cmpstr (who, ==, "camera:room-1");
  g_assert_cmpstr (sx_identity_camera (who), ==, "room-1");
  g_assert_null (sx_identity_camera (SX_IDENTITY_OPERATOR));
  g_assert_null (sx_identity_camera ("address:192.0.2.2"));

  /* room-1's MAC does not make a token for room-2 */
  g_autofree gchar *forged = g_strconcat ("room-2", strchr (token, '.'), NULL);
  g_autofree gchar *forged_header = bearer (forged);
  g_assert_null (sx_credentials_identify (creds, forged_header));
  /* nor does one flipped digit, or a token signed with another secret */
  g_autofree gchar *flipped = g_strdup (header);
  gchar *last = flipped + strlen (flipped) - 1;
  *last = *last == '0' ? '1' : '0';
  g_assert_null (sx_credentials_identify (creds, flipped));
  SxCredentials *other = sx_credentials_new (NULL, "another-secret");
  g_autofree gchar *other_token = sx_credentials_camera_token (other, "room-1");
  g_autofree gchar *other_header = bearer (other_token);
  g_assert_null (sx_credentials_identify (creds, other_header));
  g_assert_cmpstr (token, !=, other_token);
  sx_credentials_free (other);
  /* the same secret always gives the same token */
  g_autofree gchar *again = sx_credentials_camera_token (creds, "room-1");
  g_assert_cmpstr (again, ==, token);
  sx_credentials_free (creds);
}

static void
test_both (void)
{
  SxCredentials *creds = sx_credentials_new ("op", "camera-secret");
  g_autofree gchar *op = sx_credentials_identify (creds, "Bearer op");
  g_assert_cmpstr (op, ==, SX_IDENTITY_OPERATOR);
  g_autofree gchar *token = sx_credentials_camera_token (creds, "cam_7");
  g_autofree gchar *header = bearer (token);
  g_autofree gchar *cam = sx_credentials_identify (creds, header);
  g_assert_cmpstr (cam, ==, "camera:cam_7");
  sx_credentials_free (creds);

  SxCredentials *none = sx_credentials_new (NULL, "");
  g_assert_false (sx_credentials_required (none));
  g_assert_null (sx_credentials_identify (none, "Bearer anything"));
  sx_credentials_free (none);
}

static void
test_secure_equal (void)
{
  g_assert_true (sx_secure_equal ("abc", "abc"));
  g_assert_false (sx_secure_equal ("abc", "abd"));
  g_assert_false (sx_secure_equal ("abc", "ab"));
  g_assert_false (sx_secure_equal ("abc", "abcabc"));
  g_assert_false (sx_secure_equal ("", "a"));
  g_assert_false (sx_secure_equal ("a", ""));
  g_assert_true (sx_secure_equal ("", ""));
}

static void
test_random_ids (void)
{
  g_autoptr (GHashTable) seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < 1000; i++) {
    gchar *id = sx_random_id ();
    g_assert_cmpuint (strlen (id), ==, 32);
    g_assert_cmpuint (strspn (id, "0123456789abcdef"), ==, 32);
    g_assert_false (g_hash_table_contains (seen, id));
    g_hash_table_add (seen, id);
  }
}

static void
test_secret_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("sx-cred-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree gchar *good = g_build_filename (dir, "good", NULL);
  g_autofree gchar *spaced = g_build_filename (dir, "spaced", NULL);
  g_autofree gchar *empty = g_build_filename (dir, "empty", NULL);
  g_assert_true (g_file_set_contents (good, "tok-123\nignored\n", -1, NULL));
  g_assert_true (g_file_set_contents (spaced, " tok-123 \n", -1, NULL));
  g_assert_true (g_file_set_contents (empty, "\n", -1, NULL));
  g_autofree gchar *secret = sx_read_secret_file (good, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "tok-123");
  g_assert_null (sx_read_secret_file (spaced, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (sx_read_secret_file (empty, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_autofree gchar *missing = g_build_filename (dir, "missing", NULL);
  g_assert_null (sx_read_secret_file (missing, &error));
  g_assert_nonnull (error);
  g_remove (good);
  g_remove (spaced);
  g_remove (empty);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/credentials/operator-token", test_operator_token);
  g_test_add_func ("/credentials/camera-tokens", test_camera_tokens);
  g_test_add_func ("/credentials/both", test_both);
  g_test_add_func ("/credentials/secure-equal", test_secure_equal);
  g_test_add_func ("/credentials/random-ids", test_random_ids);
  g_test_add_func ("/credentials/secret-file", test_secret_file);
  return g_test_run ();
}
