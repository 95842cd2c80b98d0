/* Pipeline files: gst-launch text with comments and ${VAR} substitution.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plain GLib, no GStreamer: the launcher turns a .pipe file into the text
 * handed to gst_parse_launch(), one camera at a time. See docs/pipelines.md.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SX_PIPE_ERROR (sx_pipe_error_quark ())
GQuark sx_pipe_error_quark (void);

typedef enum {
  SX_PIPE_ERROR_SYNTAX, /* unterminated ${, bad name, unclosed quote */
  SX_PIPE_ERROR_UNKNOWN_VARIABLE,
  SX_PIPE_ERROR_BAD_VALUE, /* a value that cannot be quoted safely */
  SX_PIPE_ERROR_EMPTY,
} SxPipeError;

/* Longest camera id accepted anywhere (HTTP, pipe files, metrics labels). */
#define SX_CAMERA_ID_MAX_LEN 64

/* [A-Za-z0-9_-], 1..SX_CAMERA_ID_MAX_LEN characters. */
gboolean sx_camera_id_is_valid (const gchar *id);

/* A name usable as ${NAME}: [A-Za-z_][A-Za-z0-9_]*. */
gboolean sx_pipe_variable_name_is_valid (const gchar *name);

/* Variables: a hash table of name -> value (both owned). */
GHashTable *sx_pipe_vars_new (void);

/* Adds every SURVEILLX_* entry of @envp (NULL: the process environment). */
void sx_pipe_vars_add_environment (GHashTable *vars, gchar **envp);

/* Parses KEY=VALUE (a --set option) into @vars; KEY must be a valid name. */
gboolean sx_pipe_vars_add_assignment (GHashTable *vars, const gchar *arg,
                                      GError **error);

/* Expands @text (the content of a pipe file) with @vars: comments removed,
 * each ${NAME} / ${NAME:-default} replaced by the value quoted for the
 * gst-launch syntax. @origin names the file in error messages, which name
 * the line ("classroom.pipe:7: unknown variable ${FOO}"). */
gchar *sx_pipe_expand (const gchar *text, const gchar *origin, GHashTable *vars,
                       GError **error);

/* @value as one gst-launch value: "..." with " and \ escaped. Values with
 * control characters (newline...) are refused: nothing needs them and they
 * could only be mistakes or attacks. @in_quotes: the caller is already
 * inside a "..." string, so no quotes are added. */
gchar *sx_pipe_quote_value (const gchar *value, gboolean in_quotes,
                            GError **error);

G_END_DECLS
