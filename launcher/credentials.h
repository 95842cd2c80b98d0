/* Who a request comes from: the operator's token, or a camera's own token
 * signed with the launcher's camera secret. Plain GLib.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A camera token is "<camera id>.<HMAC-SHA256(secret, camera id) in hex>":
 * the launcher checks it from the Authorization header alone (before any
 * body is read) and knows which camera it belongs to, so one secret serves
 * any number of cameras without a table, and a camera's token cannot
 * start, replace or feed another camera (docs/security.md).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SxCredentials SxCredentials;

/* Identities sx_credentials_identify() returns */
#define SX_IDENTITY_OPERATOR "operator"
#define SX_IDENTITY_CAMERA_PREFIX "camera:"

/* @operator_token, @camera_secret: NULL or empty for none. */
SxCredentials *sx_credentials_new (const gchar *operator_token,
                                   const gchar *camera_secret);
void sx_credentials_free (SxCredentials *creds);

/* TRUE when a token or a secret is set: requests must then carry one. */
gboolean sx_credentials_required (const SxCredentials *creds);
gboolean sx_credentials_has_operator (const SxCredentials *creds);

/* The identity behind an Authorization header value ("Bearer ..."):
 * SX_IDENTITY_OPERATOR, "camera:<id>", or NULL when it proves neither. */
gchar *sx_credentials_identify (const SxCredentials *creds,
                                const gchar *authorization);

/* @camera_id's token, or NULL without a camera secret. */
gchar *sx_credentials_camera_token (const SxCredentials *creds,
                                    const gchar *camera_id);

/* The camera id of a "camera:<id>" identity, else NULL. */
const gchar *sx_identity_camera (const gchar *identity);

/* Compares without a timing that depends on where they differ. */
gboolean sx_secure_equal (const gchar *a, const gchar *b);

/* 128 random bits from the kernel (getrandom), as 32 hex digits. */
gchar *sx_random_id (void);

/* The first line of @path without its line end: a secret kept out of the
 * command line (where /proc shows it to every user). */
gchar *sx_read_secret_file (const gchar *path, GError **error);

G_END_DECLS
