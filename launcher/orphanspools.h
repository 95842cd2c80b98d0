/* Attendance a crashed launcher left in its spools, written at the next
 * start. SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With several launchers a camera that reconnected elsewhere after a crash
 * may never come back here, and its spool (attendance-CAMERA.spool in the
 * state folder) would wait for it forever. Before listening, a launcher in
 * a registry replays every non-empty spool through the pipe file's own
 * attendancesink (same database, schema and settings), fed nothing: the
 * sink writes what the spool holds, flushes at EOS, and empties the file.
 * Event ids make a replay of what did reach the database harmless; the
 * lease epochs in the events keep them to the moments this launcher held
 * the camera.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Replays the spools, each bounded by the sink's flush-timeout; returns
 * how many were replayed (what could not be written stays spooled: the
 * sink logs it). @pipe_text, @origin, @vars as sx_pipe_expand takes them. */
guint sx_replay_orphan_spools (const gchar *pipe_text, const gchar *origin,
                               GHashTable *vars);

G_END_DECLS
