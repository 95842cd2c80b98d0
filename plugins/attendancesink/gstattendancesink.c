/* surveillx-gst — attendancesink
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-attendancesink
 * @title: attendancesink
 *
 * Marks students present in PostgreSQL from facerecog's face metas: one
 * attendance row per student per session, written by a background thread
 * through a local spool so that neither a database outage nor a stop loses
 * a row, and replays never double one (docs/elements.md, docs/database.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ... ! facerecog gallery=... ! attendancesink \
 *     camera-id=room-101 conninfo="postgresql://sx@db/school"
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstattendancesink.h"

#include <string.h>
#include <gst/video/video.h>

#include "attwriter.h"
#include "sxdb.h"
#include <surveillx/faceresult.h>
#include "sxcameraid.h"
#include "sxfacemeta.h"

GST_DEBUG_CATEGORY (gst_attendance_sink_debug);
#define GST_CAT_DEFAULT gst_attendance_sink_debug

#define DEFAULT_CAMERA_ID NULL
#define DEFAULT_SESSION_ID NULL
#define DEFAULT_CONNINFO ""
#define DEFAULT_SCHEMA SX_DB_DEFAULT_SCHEMA
#define DEFAULT_SPOOL_LOCATION NULL
#define DEFAULT_THRESHOLD 0.6
#define DEFAULT_MIGRATE TRUE
#define DEFAULT_FLUSH_INTERVAL 1000
#define DEFAULT_FLUSH_TIMEOUT 5000
#define DEFAULT_TIMETABLE_REFRESH 60
#define DEFAULT_BATCH_SIZE 200
#define DEFAULT_MAX_BACKOFF 10000

enum {
  PROP_0,
  PROP_CAMERA_ID,
  PROP_SESSION_ID,
  PROP_CONNINFO,
  PROP_SCHEMA,
  PROP_SPOOL_LOCATION,
  PROP_THRESHOLD,
  PROP_MIGRATE,
  PROP_FLUSH_INTERVAL,
  PROP_FLUSH_TIMEOUT,
  PROP_BATCH_SIZE,
  PROP_MAX_BACKOFF,
  PROP_TIMETABLE_REFRESH,
  PROP_LEASE_EPOCH,
  PROP_STATS,
};

struct _GstAttendanceSink {
  GstBaseSink parent;

  /* properties, under the object lock */
  gchar *camera_id;
  gchar *session_id;
  gchar *conninfo;
  gchar *schema;
  gchar *spool_location;
  gdouble threshold;
  gboolean migrate;
  guint flush_interval;
  guint flush_timeout;
  guint batch_size;
  guint max_backoff;
  guint timetable_refresh;
  guint64 lease_epoch;

  /* between start() and stop(): read by the streaming thread without the
   * object lock, since properties cannot change outside NULL/READY */
  SxAttWriter *writer;
  gchar *active_camera_id;
  gchar *active_session_id;
  gdouble active_threshold;
  guint active_flush_timeout;
  SxTimetable *timetable;      /* this camera's lessons; object lock */
  SxAttWriterStats last_stats; /* of the previous run, under object lock */
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define gst_attendance_sink_parent_class parent_class
G_DEFINE_TYPE (GstAttendanceSink, gst_attendance_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (attendancesink, "attendancesink", GST_RANK_NONE,
                             GST_TYPE_ATTENDANCE_SINK);

static void
post_structure (GstAttendanceSink *self, GstStructure *s)
{
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

/* ---- writer callbacks (writer thread) ------------------------------ */

static void
on_connected (gpointer user_data, const gchar *description)
{
  GstAttendanceSink *self = user_data;

  GST_INFO_OBJECT (self, "connected to PostgreSQL %s", description);
  post_structure (self, gst_structure_new ("attendance-connected", "database",
                                           G_TYPE_STRING, description, NULL));
}

static void
on_spooled (gpointer user_data, guint n_events, guint n_pending)
{
  GstAttendanceSink *self = user_data;

  GST_DEBUG_OBJECT (self, "spooled %u events, %u pending", n_events, n_pending);
  post_structure (self, gst_structure_new ("attendance-spooled", "events",
                                           G_TYPE_UINT, n_events, "pending",
                                           G_TYPE_UINT, n_pending, NULL));
}

static void
on_written (gpointer user_data, guint n_written, guint n_duplicates,
            guint n_pending)
{
  GstAttendanceSink *self = user_data;

  GST_DEBUG_OBJECT (self, "wrote %u events (%u already there), %u pending",
                    n_written, n_duplicates, n_pending);
  post_structure (self, gst_structure_new ("attendance-written", "events",
                                           G_TYPE_UINT, n_written, "duplicates",
                                           G_TYPE_UINT, n_duplicates, "pending",
                                           G_TYPE_UINT, n_pending, NULL));
}

static void
on_student_added (gpointer user_data, const gchar *external_id)
{
  GstAttendanceSink *self = user_data;

  GST_WARNING_OBJECT (self,
                      "student \"%s\" was not in the students table; "
                      "added it so the attendance is kept",
                      external_id);
  post_structure (self, gst_structure_new ("attendance-student-added", "id",
                                           G_TYPE_STRING, external_id, NULL));
}

static void
on_problem (gpointer user_data, const GError *error, gboolean fatal)
{
  GstAttendanceSink *self = user_data;

  /* error->message has been scrubbed of passwords by sxdb */
  if (fatal)
    GST_ELEMENT_ERROR (
        self, RESOURCE, OPEN_READ_WRITE, ("%s", error->message),
        ("attendance stays in the spool and is written at the next start"));
  else
    GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("%s", error->message),
                         ("attendance is spooled and retried with backoff"));
}

static void
on_timetable (gpointer user_data, SxTimetable *timetable)
{
  GstAttendanceSink *self = user_data;

  GST_OBJECT_LOCK (self);
  SxTimetable *old = self->timetable;
  self->timetable = sx_timetable_ref (timetable);
  GST_OBJECT_UNLOCK (self);
  if (old == NULL
      || sx_timetable_n_lessons (old) != sx_timetable_n_lessons (timetable))
    GST_INFO_OBJECT (self, "timetable: %u lessons a week",
                     sx_timetable_n_lessons (timetable));
  sx_timetable_unref (old);
}

static void
on_notice (gpointer user_data, const gchar *message)
{
  GstAttendanceSink *self = user_data;
  GST_WARNING_OBJECT (self, "%s", message);
}

/* ---- streaming ------------------------------------------------------ */

/* The session a sighting counts for: session-id when set; else the lesson
 * in progress in this camera's room (timetable), "<lesson>/<date>"; else
 * the camera's day, "<camera>/<date>", in local time. */
static gchar *
session_key_for (GstAttendanceSink *self, GDateTime *now)
{
  if (self->active_session_id != NULL)
    return g_strdup (self->active_session_id);

  g_autofree gchar *date = g_date_time_format (now, "%Y-%m-%d");
  gchar *key = NULL;
  GST_OBJECT_LOCK (self);
  const gchar *lesson
      = self->timetable ? sx_timetable_lesson_at (self->timetable, now) : NULL;
  if (lesson != NULL)
    key = g_strdup_printf ("%s/%s", lesson, date);
  GST_OBJECT_UNLOCK (self);
  return key ? key : g_strdup_printf ("%s/%s", self->active_camera_id, date);
}

static gboolean
face_counts (GstAttendanceSink *self, const GstStructure *face,
             const gchar **id, const gchar **label, gdouble *distance)
{
  gboolean confirmed = FALSE, fresh = TRUE;

  if (!gst_structure_get_boolean (face, SX_FACE_FIELD_CONFIRMED, &confirmed)
      || !confirmed)
    return FALSE;
  /* A carried-forward box is the tracker's guess, not a measurement; an
   * element that does not say is taken at its word. */
  if (gst_structure_get_boolean (face, SX_FACE_FIELD_FRESH, &fresh) && !fresh)
    return FALSE;
  *id = gst_structure_get_string (face, SX_FACE_FIELD_ID);
  if (*id == NULL || **id == '\0')
    return FALSE;
  /* -1 is facerecog's "empty gallery": no evidence, whatever the id says */
  if (!gst_structure_get_double (face, SX_FACE_FIELD_DISTANCE, distance)
      || *distance < 0.0 || !(*distance < self->active_threshold))
    return FALSE;
  *label = gst_structure_get_string (face, SX_FACE_FIELD_LABEL);
  if (*label == NULL || g_str_equal (*label, SX_FACE_LABEL_UNKNOWN))
    *label = "";
  return TRUE;
}

static GstFlowReturn
gst_attendance_sink_render (GstBaseSink *sink, GstBuffer *buffer)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (sink);
  GstVideoRegionOfInterestMeta *roi;
  gpointer state = NULL;
  GDateTime *now = NULL;
  gchar *session = NULL;

  while (
      (roi = (GstVideoRegionOfInterestMeta *)gst_buffer_iterate_meta_filtered (
           buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))
      != NULL) {
    const GstStructure *face;
    const gchar *id = NULL, *label = NULL;
    gdouble distance = 0.0;

    if (roi->roi_type != g_quark_from_static_string (SX_FACE_ROI_TYPE))
      continue;
    face = sx_face_params_of (buffer, roi);
    if (face == NULL || !face_counts (self, face, &id, &label, &distance))
      continue;

    /* Wall clock: attendance is about when, in the school's day, the
     * student was there, not about the stream's running time. */
    if (now == NULL) {
      now = g_date_time_new_now_local ();
      session = session_key_for (self, now);
    }
    GST_LOG_OBJECT (self, "present: \"%s\" (%f) in \"%s\"", id, distance,
                    session);
    sx_att_writer_add_sighting (self->writer, id, label, self->active_camera_id,
                                session,
                                g_date_time_to_unix (now) * G_USEC_PER_SEC
                                    + g_date_time_get_microsecond (now),
                                distance);
  }
  if (now != NULL)
    g_date_time_unref (now);
  g_free (session);
  return GST_FLOW_OK;
}

static gboolean
gst_attendance_sink_event (GstBaseSink *sink, GstEvent *event)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (sink);

  /* EOS means "the class is over": make the rows durable before the
   * application tears the pipeline down, within a bounded time. */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS && self->writer != NULL) {
    if (!sx_att_writer_flush (self->writer, self->active_flush_timeout))
      GST_WARNING_OBJECT (self,
                          "not all attendance reached the database "
                          "within %u ms; the rest stays in the spool",
                          self->active_flush_timeout);
  }
  return GST_BASE_SINK_CLASS (parent_class)->event (sink, event);
}

/* ---- start / stop --------------------------------------------------- */

static gchar *
default_spool_location (const gchar *camera_id)
{
  GString *name = g_string_new ("attendance-");
  const gchar *p;
  gchar *path;

  /* Camera ids are free text; file names are not. */
  for (p = camera_id; *p != '\0'; p++)
    g_string_append_c (
        name, (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || *p == '.')
                  ? *p
                  : '_');
  g_string_append (name, ".spool");
  path = g_build_filename (g_get_user_state_dir (), "surveillx", name->str,
                           NULL);
  g_string_free (name, TRUE);
  return path;
}

static gboolean
gst_attendance_sink_start (GstBaseSink *sink)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (sink);
  SxAttWriterConfig config = { 0 };
  SxAttWriterCallbacks callbacks
      = { on_connected, on_spooled, on_written,  on_student_added,
          on_problem,   on_notice,  on_timetable };
  GPtrArray *replay;
  GError *error = NULL;
  gchar *conninfo, *schema, *spool_location, *redacted;
  SxSpool *spool;

  /* Resolved outside the object lock: it walks up the parents, locking
   * each. */
  GST_OBJECT_LOCK (self);
  gchar *configured_camera_id = g_strdup (self->camera_id);
  GST_OBJECT_UNLOCK (self);
  gchar *camera_id
      = sx_camera_id_resolve (GST_ELEMENT (self), configured_camera_id);
  g_free (configured_camera_id);

  GST_OBJECT_LOCK (self);
  conninfo = g_strdup (self->conninfo);
  schema = g_strdup (self->schema);
  g_free (self->active_camera_id);
  self->active_camera_id = camera_id;
  g_free (self->active_session_id);
  self->active_session_id = (self->session_id && *self->session_id)
                                ? g_strdup (self->session_id)
                                : NULL;
  self->active_threshold = self->threshold;
  self->active_flush_timeout = self->flush_timeout;
  spool_location = (self->spool_location && *self->spool_location)
                       ? g_strdup (self->spool_location)
                       : default_spool_location (self->active_camera_id);
  config.camera_id = self->active_camera_id;
  config.migrate = self->migrate;
  config.flush_interval_ms = self->flush_interval;
  config.flush_timeout_ms = self->flush_timeout;
  config.batch_size = self->batch_size;
  config.max_backoff_ms = self->max_backoff;
  config.timetable_refresh_s = self->timetable_refresh;
  GST_OBJECT_UNLOCK (self);

  /* What can be checked without the network fails the state change with a
   * clear message; the server itself is the writer's business. */
  if (!sx_db_check_conninfo (conninfo, &error)
      || !sx_db_check_schema_name (schema, &error)) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", error->message),
                       (NULL));
    goto failed;
  }

  replay = g_ptr_array_new_with_free_func ((GDestroyNotify)sx_att_event_free);
  spool = sx_spool_open (spool_location, replay, &error);
  if (spool == NULL) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", error->message),
                       ("set spool-location to a writable file"));
    g_ptr_array_unref (replay);
    goto failed;
  }
  redacted = sx_db_redact_conninfo (conninfo);
  GST_INFO_OBJECT (self,
                   "camera \"%s\", session \"%s\", database %s, "
                   "schema \"%s\", spool %s with %u events to replay",
                   self->active_camera_id,
                   self->active_session_id ? self->active_session_id
                                           : "(camera/date)",
                   redacted, schema, spool_location, replay->len);
  g_free (redacted);

  config.conninfo = conninfo;
  config.schema = schema;
  {
    SxAttWriter *writer
        = sx_att_writer_new (&config, spool, replay, &callbacks, self);
    GST_OBJECT_LOCK (self);
    self->writer = writer;
    sx_att_writer_set_lease_epoch (writer, self->lease_epoch);
    GST_OBJECT_UNLOCK (self);
  }
  g_ptr_array_unref (replay);
  g_free (conninfo);
  g_free (schema);
  g_free (spool_location);
  return TRUE;

failed:
  g_clear_error (&error);
  g_free (conninfo);
  g_free (schema);
  g_free (spool_location);
  return FALSE;
}

static gboolean
gst_attendance_sink_stop (GstBaseSink *sink)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (sink);

  SxAttWriter *writer;
  SxAttWriterStats final_stats = { 0 };

  GST_OBJECT_LOCK (self);
  writer = g_steal_pointer (&self->writer);
  GST_OBJECT_UNLOCK (self);
  if (writer == NULL)
    return TRUE;
  /* Bounded by flush-timeout: what cannot be written stays spooled. Outside
   * the object lock: the writer's callbacks post messages meanwhile. */
  sx_att_writer_free (writer, &final_stats);
  GST_OBJECT_LOCK (self);
  g_free (self->last_stats.last_error);
  self->last_stats = final_stats;
  SxTimetable *timetable = g_steal_pointer (&self->timetable);
  GST_OBJECT_UNLOCK (self);
  sx_timetable_unref (timetable);
  return TRUE;
}

/* ---- properties ----------------------------------------------------- */

static GstStructure *
make_stats (GstAttendanceSink *self)
{
  SxAttWriterStats stats = { 0 };
  GstStructure *s;

  /* While stopped, the last run's final counters: a test or an operator
   * asks "what happened" after the pipeline is down. */
  GST_OBJECT_LOCK (self);
  if (self->writer != NULL) {
    sx_att_writer_get_stats (self->writer, &stats);
  } else {
    stats = self->last_stats;
    stats.last_error = g_strdup (self->last_stats.last_error);
  }
  GST_OBJECT_UNLOCK (self);
  s = gst_structure_new (
      "attendancesink-stats", "sightings", G_TYPE_UINT64, stats.sightings,
      "events-spooled", G_TYPE_UINT64, stats.events_spooled, "events-written",
      G_TYPE_UINT64, stats.events_written, "events-duplicate", G_TYPE_UINT64,
      stats.events_duplicate, "events-rejected", G_TYPE_UINT64,
      stats.events_rejected, "events-erased", G_TYPE_UINT64,
      stats.events_erased, "events-fenced", G_TYPE_UINT64, stats.events_fenced,
      "students-added", G_TYPE_UINT64, stats.students_added, "connects",
      G_TYPE_UINT64, stats.connects, "pending", G_TYPE_UINT, stats.pending,
      "connected", G_TYPE_BOOLEAN, stats.connected, "failed", G_TYPE_BOOLEAN,
      stats.failed, "last-error", G_TYPE_STRING,
      stats.last_error ? stats.last_error : "", NULL);
  g_free (stats.last_error);
  return s;
}

static void
gst_attendance_sink_set_property (GObject *object, guint prop_id,
                                  const GValue *value, GParamSpec *pspec)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA_ID:
      g_free (self->camera_id);
      self->camera_id = g_value_dup_string (value);
      break;
    case PROP_SESSION_ID:
      g_free (self->session_id);
      self->session_id = g_value_dup_string (value);
      break;
    case PROP_CONNINFO:
      g_free (self->conninfo);
      self->conninfo = g_value_dup_string (value);
      if (self->conninfo == NULL)
        self->conninfo = g_strdup ("");
      break;
    case PROP_SCHEMA:
      g_free (self->schema);
      self->schema = g_value_dup_string (value);
      if (self->schema == NULL)
        self->schema = g_strdup (DEFAULT_SCHEMA);
      break;
    case PROP_SPOOL_LOCATION:
      g_free (self->spool_location);
      self->spool_location = g_value_dup_string (value);
      break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_double (value);
      break;
    case PROP_MIGRATE:
      self->migrate = g_value_get_boolean (value);
      break;
    case PROP_FLUSH_INTERVAL:
      self->flush_interval = g_value_get_uint (value);
      break;
    case PROP_FLUSH_TIMEOUT:
      self->flush_timeout = g_value_get_uint (value);
      break;
    case PROP_BATCH_SIZE:
      self->batch_size = g_value_get_uint (value);
      break;
    case PROP_MAX_BACKOFF:
      self->max_backoff = g_value_get_uint (value);
      break;
    case PROP_TIMETABLE_REFRESH:
      self->timetable_refresh = g_value_get_uint (value);
      break;
    case PROP_LEASE_EPOCH:
      /* changes while playing: a launcher learns the epoch once the
       * registry answered, after the pipeline started */
      self->lease_epoch = g_value_get_uint64 (value);
      if (self->writer != NULL)
        sx_att_writer_set_lease_epoch (self->writer, self->lease_epoch);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_attendance_sink_get_property (GObject *object, guint prop_id, GValue *value,
                                  GParamSpec *pspec)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (object);

  if (prop_id == PROP_STATS) {
    g_value_take_boxed (value, make_stats (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CAMERA_ID:
      g_value_set_string (value, self->camera_id);
      break;
    case PROP_SESSION_ID:
      g_value_set_string (value, self->session_id);
      break;
    case PROP_CONNINFO:
      /* Readable, but redacted: property dumps end up in logs. */
      g_value_take_string (value, self->conninfo && *self->conninfo
                                      ? sx_db_redact_conninfo (self->conninfo)
                                      : g_strdup (""));
      break;
    case PROP_SCHEMA:
      g_value_set_string (value, self->schema);
      break;
    case PROP_SPOOL_LOCATION:
      g_value_set_string (value, self->spool_location);
      break;
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    case PROP_MIGRATE:
      g_value_set_boolean (value, self->migrate);
      break;
    case PROP_FLUSH_INTERVAL:
      g_value_set_uint (value, self->flush_interval);
      break;
    case PROP_FLUSH_TIMEOUT:
      g_value_set_uint (value, self->flush_timeout);
      break;
    case PROP_BATCH_SIZE:
      g_value_set_uint (value, self->batch_size);
      break;
    case PROP_MAX_BACKOFF:
      g_value_set_uint (value, self->max_backoff);
      break;
    case PROP_TIMETABLE_REFRESH:
      g_value_set_uint (value, self->timetable_refresh);
      break;
    case PROP_LEASE_EPOCH:
      g_value_set_uint64 (value, self->lease_epoch);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_attendance_sink_finalize (GObject *object)
{
  GstAttendanceSink *self = GST_ATTENDANCE_SINK (object);

  g_free (self->camera_id);
  g_free (self->session_id);
  g_free (self->conninfo);
  g_free (self->schema);
  g_free (self->spool_location);
  g_free (self->active_camera_id);
  g_free (self->active_session_id);
  g_free (self->last_stats.last_error);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_attendance_sink_class_init (GstAttendanceSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *base_sink_class = GST_BASE_SINK_CLASS (klass);
  const GParamFlags rw_ready
      = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_attendance_sink_set_property;
  gobject_class->get_property = gst_attendance_sink_get_property;
  gobject_class->finalize = gst_attendance_sink_finalize;

  g_object_class_install_property (
      gobject_class, PROP_CAMERA_ID,
      g_param_spec_string (
          "camera-id", "Camera ID",
          "Camera stored with each attendance row and used in the default "
          "session key (NULL or empty: the name of the pipeline, which the "
          "launcher names after the camera)",
          DEFAULT_CAMERA_ID, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_SESSION_ID,
      g_param_spec_string (
          "session-id", "Session ID",
          "Class session key: one row per student per session (NULL or "
          "empty: camera-id/YYYY-MM-DD in local time)",
          DEFAULT_SESSION_ID, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_CONNINFO,
      g_param_spec_string (
          "conninfo", "Connection info",
          "libpq connection string, URI or key=value (empty: libpq "
          "defaults and PG* environment); read back with the password "
          "redacted",
          DEFAULT_CONNINFO, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_SCHEMA,
      g_param_spec_string ("schema", "Schema",
                           "PostgreSQL schema holding the surveillx tables",
                           DEFAULT_SCHEMA, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_SPOOL_LOCATION,
      g_param_spec_string (
          "spool-location", "Spool location",
          "File keeping attendance until the database has it; one per "
          "sink (NULL: $XDG_STATE_HOME/surveillx/attendance-<camera-id>."
          "spool)",
          DEFAULT_SPOOL_LOCATION, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double (
          "threshold", "Distance threshold",
          "A confirmed face counts only when its descriptor distance is "
          "below this",
          0.0, 10.0, DEFAULT_THRESHOLD, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_MIGRATE,
      g_param_spec_boolean (
          "migrate", "Migrate",
          "Create the schema and apply pending migrations at connect; when "
          "false a missing or outdated schema is an error",
          DEFAULT_MIGRATE, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_FLUSH_INTERVAL,
      g_param_spec_uint (
          "flush-interval", "Flush interval",
          "Milliseconds between writes of the aggregated sightings", 10, 60000,
          DEFAULT_FLUSH_INTERVAL, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint (
          "flush-timeout", "Flush timeout",
          "Milliseconds EOS and stop wait for the database before leaving "
          "the rest in the spool",
          0, 600000, DEFAULT_FLUSH_TIMEOUT, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
                         "Most attendance events per transaction", 1, 10000,
                         DEFAULT_BATCH_SIZE, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_MAX_BACKOFF,
      g_param_spec_uint (
          "max-backoff", "Maximum backoff",
          "Longest wait in milliseconds between reconnection attempts "
          "(doubling from 250)",
          250, 600000, DEFAULT_MAX_BACKOFF, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_TIMETABLE_REFRESH,
      g_param_spec_uint (
          "timetable-refresh", "Timetable refresh",
          "Seconds between readings of the camera's lessons from the "
          "timetable table (also read at each connect); a lesson in "
          "progress names the session unless session-id is set",
          1, 3600, DEFAULT_TIMETABLE_REFRESH, rw_ready));
  g_object_class_install_property (
      gobject_class, PROP_LEASE_EPOCH,
      g_param_spec_uint64 (
          "lease-epoch", "Lease epoch",
          "The camera's lease in the launchers' registry "
          "(camera_leases.epoch); its events are dropped, or cut short, "
          "where the camera was taken by a later lease meanwhile. 0: no "
          "registry. May change while playing",
          0, G_MAXINT64, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS
              | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (
      gobject_class, PROP_STATS,
      g_param_spec_boxed (
          "stats", "Statistics",
          "Counters: sightings, events-spooled/-written/-duplicate/"
          "-rejected/-erased/-fenced, students-added, connects, pending, "
          "connected, "
          "failed, "
          "last-error",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (
      element_class, "Attendance sink", "Sink/Metadata",
      "Records students recognised by facerecog as attendance rows in "
      "PostgreSQL, spooling locally while the database is away",
      "surveillx-gst developers");

  base_sink_class->start = GST_DEBUG_FUNCPTR (gst_attendance_sink_start);
  base_sink_class->stop = GST_DEBUG_FUNCPTR (gst_attendance_sink_stop);
  base_sink_class->render = GST_DEBUG_FUNCPTR (gst_attendance_sink_render);
  base_sink_class->event = GST_DEBUG_FUNCPTR (gst_attendance_sink_event);

  GST_DEBUG_CATEGORY_INIT (gst_attendance_sink_debug, "attendancesink", 0,
                           "surveillx attendance sink");
}

static void
gst_attendance_sink_init (GstAttendanceSink *self)
{
  self->camera_id = g_strdup (DEFAULT_CAMERA_ID);
  self->session_id = g_strdup (DEFAULT_SESSION_ID);
  self->conninfo = g_strdup (DEFAULT_CONNINFO);
  self->schema = g_strdup (DEFAULT_SCHEMA);
  self->spool_location = g_strdup (DEFAULT_SPOOL_LOCATION);
  self->threshold = DEFAULT_THRESHOLD;
  self->migrate = DEFAULT_MIGRATE;
  self->flush_interval = DEFAULT_FLUSH_INTERVAL;
  self->flush_timeout = DEFAULT_FLUSH_TIMEOUT;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->max_backoff = DEFAULT_MAX_BACKOFF;
  self->timetable_refresh = DEFAULT_TIMETABLE_REFRESH;
  /* Attendance is metadata: no reason to hold buffers to the clock, which
   * would only slow the tee branch feeding us. */
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
}
