/* surveillx-gst — attendancesink's spool (see spool.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "spool.h"

#include <gst/gst.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

/* the element's category: these are its helpers */
GST_DEBUG_CATEGORY_EXTERN (gst_attendance_sink_debug);
#define GST_CAT_DEFAULT gst_attendance_sink_debug

struct _SxSpool {
  gchar *path;
  gint fd;
  off_t size;
};

SxAttEvent *
sx_att_event_new (void)
{
  return g_new0 (SxAttEvent, 1);
}

void
sx_att_event_free (SxAttEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->event_id);
  g_free (event->student);
  g_free (event->label);
  g_free (event->camera_id);
  g_free (event->session_key);
  g_free (event);
}

static gchar *
event_to_json (const SxAttEvent *event, const gchar *reason)
{
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen = json_generator_new ();
  JsonNode *root;
  gchar *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, event->event_id);
  json_builder_set_member_name (b, "student");
  json_builder_add_string_value (b, event->student);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, event->label);
  json_builder_set_member_name (b, "camera");
  json_builder_add_string_value (b, event->camera_id);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, event->session_key);
  json_builder_set_member_name (b, "first");
  json_builder_add_int_value (b, event->first_seen);
  json_builder_set_member_name (b, "last");
  json_builder_add_int_value (b, event->last_seen);
  json_builder_set_member_name (b, "sightings");
  json_builder_add_int_value (b, (gint64)event->sightings);
  json_builder_set_member_name (b, "distance");
  json_builder_add_double_value (b, event->best_distance);
  if (event->lease_epoch != 0) {
    json_builder_set_member_name (b, "epoch");
    json_builder_add_int_value (b, (gint64)event->lease_epoch);
  }
  if (reason != NULL) {
    json_builder_set_member_name (b, "reason");
    json_builder_add_string_value (b, reason);
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  json_node_unref (root);
  g_object_unref (gen);
  g_object_unref (b);
  return text;
}

/* The whole object or nothing: a line missing a member is corrupt. */
static SxAttEvent *
event_from_json (JsonObject *o)
{
  static const gchar *const strings[]
      = { "event", "student", "label", "camera", "session" };
  static const gchar *const numbers[]
      = { "first", "last", "sightings", "distance" };
  SxAttEvent *event;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (strings); i++) {
    JsonNode *n = json_object_get_member (o, strings[i]);
    if (n == NULL || json_node_get_value_type (n) != G_TYPE_STRING)
      return NULL;
  }
  for (i = 0; i < G_N_ELEMENTS (numbers); i++) {
    JsonNode *n = json_object_get_member (o, numbers[i]);
    if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
      return NULL;
  }
  event = sx_att_event_new ();
  event->event_id = g_strdup (json_object_get_string_member (o, "event"));
  event->student = g_strdup (json_object_get_string_member (o, "student"));
  event->label = g_strdup (json_object_get_string_member (o, "label"));
  event->camera_id = g_strdup (json_object_get_string_member (o, "camera"));
  event->session_key = g_strdup (json_object_get_string_member (o, "session"));
  event->first_seen = json_object_get_int_member (o, "first");
  event->last_seen = json_object_get_int_member (o, "last");
  event->sightings = (guint64)json_object_get_int_member (o, "sightings");
  event->best_distance = json_object_get_double_member (o, "distance");
  /* optional: spools written before leases existed have none */
  event->lease_epoch
      = (guint64)json_object_get_int_member_with_default (o, "epoch", 0);
  return event;
}

static void
replay (const gchar *path, const gchar *data, gsize length, GPtrArray *pending)
{
  const gchar *line = data, *end = data + length;
  JsonParser *parser = json_parser_new ();
  guint lineno = 0;

  while (line < end) {
    const gchar *nl = memchr (line, '\n', end - line);
    JsonNode *root;
    GError *error = NULL;

    lineno++;
    if (nl == NULL) {
      /* Every record ends in '\n' and appends are fsync'd whole, so a
       * missing one is a write torn by a crash: it was never acknowledged
       * to anyone, dropping it loses nothing that was promised. */
      GST_WARNING ("spool %s: dropping torn last line %u", path, lineno);
      break;
    }
    if (!json_parser_load_from_data (parser, line, nl - line, &error)
        || (root = json_parser_get_root (parser)) == NULL
        || !JSON_NODE_HOLDS_OBJECT (root)) {
      GST_WARNING ("spool %s: skipping unreadable line %u: %s", path, lineno,
                   error ? error->message : "not an object");
      g_clear_error (&error);
    } else {
      JsonObject *o = json_node_get_object (root);
      if (json_object_has_member (o, "ack")) {
        const gchar *acked
            = json_object_get_string_member_with_default (o, "ack", "");
        guint i;
        for (i = 0; i < pending->len; i++) {
          SxAttEvent *e = g_ptr_array_index (pending, i);
          if (g_str_equal (e->event_id, acked)) {
            g_ptr_array_remove_range (pending, 0, i + 1);
            break;
          }
        }
      } else {
        SxAttEvent *event = event_from_json (o);
        if (event != NULL)
          g_ptr_array_add (pending, event);
        else
          GST_WARNING ("spool %s: skipping incomplete line %u", path, lineno);
      }
    }
    line = nl + 1;
  }
  g_object_unref (parser);
}

static gboolean
set_errno_error (GError **error, gint saved, const gchar *what,
                 const gchar *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               "Cannot %s attendance spool \"%s\": %s", what, path,
               g_strerror (saved));
  return FALSE;
}

SxSpool *
sx_spool_open (const gchar *path, GPtrArray *pending, GError **error)
{
  SxSpool *spool;
  gchar *dir, *data = NULL;
  gsize length = 0;
  GError *read_error = NULL;
  struct stat st;
  gint fd;

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    gint saved = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 "Cannot create the folder of attendance spool \"%s\": %s",
                 path, g_strerror (saved));
    g_free (dir);
    return NULL;
  }
  g_free (dir);

  fd = open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_errno_error (error, errno, "open", path);
    return NULL;
  }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
    gint saved = errno;
    if (saved == EWOULDBLOCK)
      g_set_error (
          error, G_IO_ERROR, G_IO_ERROR_BUSY,
          "Attendance spool \"%s\" is in use by another attendancesink; "
          "give each sink its own spool-location",
          path);
    else
      set_errno_error (error, saved, "lock", path);
    close (fd);
    return NULL;
  }
  /* A device or FIFO cannot be compacted, and reading /dev/zero-likes
   * never ends. */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                 "Attendance spool \"%s\" is not a regular file", path);
    close (fd);
    return NULL;
  }
  /* Probe writability now, not at the first sighting minutes later. */
  if (access (path, W_OK) != 0) {
    set_errno_error (error, errno, "write", path);
    close (fd);
    return NULL;
  }
  if (!g_file_get_contents (path, &data, &length, &read_error)) {
    g_propagate_prefixed_error (error, read_error,
                                "Cannot read attendance spool: ");
    close (fd);
    return NULL;
  }
  replay (path, data, length, pending);
  /* A torn tail would glue itself to the next record: cut it off. */
  if (length > 0 && data[length - 1] != '\n') {
    const gchar *last_nl = g_strrstr_len (data, length, "\n");
    off_t keep = last_nl ? (off_t)(last_nl - data + 1) : 0;
    if (ftruncate (fd, keep) != 0) {
      set_errno_error (error, errno, "repair", path);
      g_free (data);
      close (fd);
      return NULL;
    }
  }
  g_free (data);

  if (fstat (fd, &st) != 0) {
    set_errno_error (error, errno, "stat", path);
    close (fd);
    return NULL;
  }
  spool = g_new0 (SxSpool, 1);
  spool->path = g_strdup (path);
  spool->fd = fd;
  spool->size = st.st_size;
  return spool;
}

void
sx_spool_close (SxSpool *spool)
{
  if (spool == NULL)
    return;
  close (spool->fd); /* releases the flock */
  g_free (spool->path);
  g_free (spool);
}

const gchar *
sx_spool_get_path (SxSpool *spool)
{
  return spool->path;
}

static gboolean
write_all (SxSpool *spool, const gchar *data, gsize length, gboolean sync,
           GError **error)
{
  gsize done = 0;

  while (done < length) {
    ssize_t n = write (spool->fd, data + done, length - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      gint saved = errno;
      /* Leave no partial record behind for the next append to extend. */
      if (ftruncate (spool->fd, spool->size) != 0)
        GST_WARNING ("cannot cut spool %s back: %s", spool->path,
                     g_strerror (errno));
      return set_errno_error (error, saved, "write", spool->path);
    }
    done += n;
  }
  if (sync && fdatasync (spool->fd) != 0) {
    gint saved = errno;
    if (ftruncate (spool->fd, spool->size) != 0)
      GST_WARNING ("cannot cut spool %s back: %s", spool->path,
                   g_strerror (errno));
    return set_errno_error (error, saved, "sync", spool->path);
  }
  spool->size += length;
  return TRUE;
}

gboolean
sx_spool_append (SxSpool *spool, GPtrArray *events, GError **error)
{
  GString *lines = g_string_new (NULL);
  gboolean ok;
  guint i;

  for (i = 0; i < events->len; i++) {
    gchar *json = event_to_json (g_ptr_array_index (events, i), NULL);
    g_string_append (lines, json);
    g_string_append_c (lines, '\n');
    g_free (json);
  }
  ok = write_all (spool, lines->str, lines->len, TRUE, error);
  g_string_free (lines, TRUE);
  return ok;
}

gboolean
sx_spool_ack (SxSpool *spool, const gchar *event_id, GError **error)
{
  gchar *line = g_strdup_printf ("{\"ack\":\"%s\"}\n", event_id);
  gboolean ok = write_all (spool, line, strlen (line), FALSE, error);

  g_free (line);
  return ok;
}

gboolean
sx_spool_clear (SxSpool *spool, GError **error)
{
  if (ftruncate (spool->fd, 0) != 0)
    return set_errno_error (error, errno, "truncate", spool->path);
  spool->size = 0;
  return TRUE;
}

void
sx_spool_reject (SxSpool *spool, const SxAttEvent *event, const gchar *reason)
{
  gchar *path = g_strconcat (spool->path, ".rejected", NULL);
  gchar *json = event_to_json (event, reason);
  gint fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

  if (fd >= 0) {
    gchar *line = g_strconcat (json, "\n", NULL);
    if (write (fd, line, strlen (line)) < 0 || fdatasync (fd) != 0)
      GST_WARNING ("cannot write %s: %s", path, g_strerror (errno));
    g_free (line);
    close (fd);
  } else {
    GST_WARNING ("cannot open %s: %s", path, g_strerror (errno));
  }
  g_free (json);
  g_free (path);
}
