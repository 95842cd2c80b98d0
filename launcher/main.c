/* surveillx-launcher: answers cameras' WebRTC offers, one pipeline each,
 * built from a pipe file (docs/pipelines.md, docs/signaling.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "camera.h"
#include "codecbranch.h"
#include "credentials.h"
#include "orphanspools.h"
#include "pipefile.h"
#include "sdnotify.h"
#include "signaling.h"
#include "sxdb.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <gst/gst.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

GST_DEBUG_CATEGORY_STATIC (sx_launcher_debug);
#define GST_CAT_DEFAULT sx_launcher_debug

/* What the launcher logs when GST_DEBUG does not say: its own lines at
 * INFO (each camera's on its pipeline, named after the camera), what the
 * project's elements report of their servers (WARNING), and every error.
 * GST_DEBUG replaces it whole. */
#define DEFAULT_LOG                                                            \
  "*:ERROR,sxlauncher:INFO,sxsignaling:INFO,sxcamera:INFO,sxlistener:WARNING," \
  "facerecog:WARNING,attendancesink:WARNING,socketiosink:WARNING,"             \
  "sxgallerydb:WARNING"

typedef struct {
  GMainLoop *loop;
  SxSignaling *sig;
  gboolean stopping;
} App;

static void
on_shutdown_done (gpointer user_data)
{
  App *app = user_data;
  GST_INFO ("every pipeline stopped");
  g_main_loop_quit (app->loop);
}

/* A folder of this launcher's installation: @from_bindir away from the
 * executable when it is there (an installation moved, or staged with
 * DESTDIR), else where it was configured to be. */
static gchar *
installed_dir (const gchar *from_bindir, const gchar *configured)
{
  g_autofree gchar *exe = g_file_read_link ("/proc/self/exe", NULL);
  if (exe) {
    g_autofree gchar *bindir = g_path_get_dirname (exe);
    gchar *dir = g_canonicalize_filename (from_bindir, bindir);
    if (g_file_test (dir, G_FILE_TEST_IS_DIR))
      return dir;
    g_free (dir);
  }
  return g_strdup (configured);
}

/* A pipe file named without a folder that is not in the current one is
 * looked up among the installed ones (classroom.pipe, or just classroom:
 * what surveillx-launcher@classroom.service passes). */
static gchar *
find_pipe_file (const gchar *name)
{
  if (strchr (name, '/') || g_file_test (name, G_FILE_TEST_EXISTS))
    return g_strdup (name);
  g_autofree gchar *with_suffix = g_str_has_suffix (name, ".pipe")
                                      ? g_strdup (name)
                                      : g_strconcat (name, ".pipe", NULL);
  g_autofree gchar *dir = installed_dir (SX_BINDIR_TO_PIPE_DIR, SX_PIPE_DIR);
  gchar *installed = g_build_filename (dir, with_suffix, NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return installed;
  g_free (installed);
  return g_strdup (name);
}

/* The elements are found wherever this launcher was installed, whatever
 * the prefix: GStreamer scans only its own plugin folder by default. */
static void
ensure_plugin (void)
{
  GstPlugin *plugin
      = gst_registry_find_plugin (gst_registry_get (), "surveillx");
  if (plugin) {
    gst_object_unref (plugin);
    return;
  }
  g_autofree gchar *dir
      = installed_dir (SX_BINDIR_TO_PLUGIN_DIR, SX_PLUGIN_DIR);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR)) {
    GST_INFO ("loading the elements from %s", dir);
    gst_registry_scan_path (gst_registry_get (), dir);
  }
}

static gboolean
on_signal (gpointer user_data)
{
  App *app = user_data;
  if (app->stopping) {
    /* a second Ctrl-C: the user does not want to wait for the flush */
    g_printerr ("surveillx-launcher: second signal, exiting now\n");
    exit (1);
  }
  app->stopping = TRUE;
  GST_INFO ("signal received: flushing every pipeline (EOS)");
  sx_sd_notify ("STOPPING=1");
  sx_signaling_shutdown (app->sig, on_shutdown_done, app);
  return G_SOURCE_CONTINUE;
}

/* glibc gives threads up to 8 malloc arenas per core, and each arena
 * keeps what its threads freed at its top, up to a trim threshold that
 * follows the largest block freed (~7 MB here); malloc_trim() does not
 * reach those tops. Each connect starts new threads that land on arena
 * after arena, so RSS climbed in ~7 MB steps to +77 MB over the first
 * ~100 connects while the heap in use stayed flat (docs/performance.md,
 * "Launcher soak"). Two arenas per core bound that; only as many threads
 * as cores run at once, and the soak measured no CPU cost. Set before
 * the first thread allocates; the user's own setting wins. */
static void
limit_malloc_arenas (void)
{
#ifdef __GLIBC__
  const gchar *tunables = g_getenv ("GLIBC_TUNABLES");
  if (g_getenv ("MALLOC_ARENA_MAX")
      || (tunables && strstr (tunables, "glibc.malloc.arena_max")))
    return;
  mallopt (M_ARENA_MAX, 2 * (gint)g_get_num_processors ());
#endif
}

/* Every camera holds a few dozen descriptors (ICE sockets, threads'
 * wake-ups), and HTTP clients one each: the usual soft limit of 1024 is
 * reached long before the CPU is. Raise it to the hard limit the
 * administrator allows (bounded: some libraries size tables by it). */
static void
raise_fd_limit (void)
{
  struct rlimit lim;
  if (getrlimit (RLIMIT_NOFILE, &lim) != 0)
    return;
  rlim_t want
      = lim.rlim_max == RLIM_INFINITY ? 65536 : MIN (lim.rlim_max, 65536);
  if (lim.rlim_cur >= want)
    return;
  lim.rlim_cur = want;
  setrlimit (RLIMIT_NOFILE, &lim);
}

/* TURN URIs from a file (one per line, # comments) or SURVEILLX_TURN
 * (separated by blanks): the pieces between @separators, trimmed, without
 * empty ones; NULL when none is left. */
static GStrv
split_turn_list (const gchar *text, const gchar *separators, gboolean comments)
{
  g_auto (GStrv) pieces = g_strsplit_set (text, separators, -1);
  GPtrArray *list = g_ptr_array_new ();
  for (gchar **p = pieces; *p; p++)
    if (*g_strstrip (*p) && !(comments && **p == '#'))
      g_ptr_array_add (list, g_strdup (*p));
  if (list->len == 0) {
    g_ptr_array_free (list, TRUE);
    return NULL;
  }
  g_ptr_array_add (list, NULL);
  return (GStrv)g_ptr_array_free (list, FALSE);
}

/* http://0.0.0.0:8080/ or http://[::]:8080/: no address another
 * launcher could send a camera to */
static gint
uri_port (const gchar *uri)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  return parsed ? g_uri_get_port (parsed) : 0;
}

static gboolean
uri_is_wildcard (const gchar *uri)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  if (parsed == NULL)
    return TRUE;
  g_autoptr (GInetAddress) addr
      = g_inet_address_new_from_string (g_uri_get_host (parsed));
  return addr == NULL || g_inet_address_get_is_any (addr);
}

int
main (int argc, char **argv)
{
  limit_malloc_arenas ();
  raise_fd_limit ();
  /* One OpenBLAS thread per analysis thread: facerecog's analysis pool
   * already runs in parallel, and OpenBLAS's own pool would run at normal
   * priority, escaping facerecog's worker-nice (docs/performance.md). Read
   * when the plugin loads libblas, so before anything loads it; a value
   * the user set wins. */
  g_setenv ("OPENBLAS_NUM_THREADS", "1", FALSE);
  gint port = 8080, max_cameras = 16, max_body_kib = 64;
  gint gather_timeout = 5000, media_timeout = 15000, disconnect_grace = 5000;
  gint eos_timeout = 8000;
  gint max_connections = 512, max_per_address = 64;
  gint request_timeout = 10000, idle_timeout = 30000;
  g_autofree gchar *address = NULL, *stun = NULL, *ice_address = NULL;
  g_autofree gchar *token = NULL, *token_file = NULL;
  g_autofree gchar *camera_secret_file = NULL, *camera_token_for = NULL;
  g_autofree gchar *turn_file = NULL, *codec_list = NULL;
  g_autofree gchar *tls_cert = NULL, *tls_key = NULL;
  g_autofree gchar *registry = NULL, *registry_schema = NULL;
  g_autofree gchar *launcher_id = NULL, *advertise_url = NULL;
  gint lease = 15000;
  g_auto (GStrv) sets = NULL, turns = NULL, cors_origins = NULL;
  gboolean check_only = FALSE, insecure = FALSE;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      "HTTP port (default 8080; 0: any free port)", "PORT" },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
      "Listen on this address only (default: every interface with a "
      "token or camera secret, else 127.0.0.1)",
      "ADDR" },
    { "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure,
      "Listen on every interface without a token or camera secret: anyone "
      "who reaches the port can start cameras",
      NULL },
    { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets,
      "Set a pipe-file variable (repeatable)", "KEY=VALUE" },
    { "stun", 0, 0, G_OPTION_ARG_STRING, &stun,
      "STUN server (stun://host:port)", "URI" },
    { "turn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &turns,
      "TURN server (turn://user:password@host:port; repeatable)", "URI" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
      "Offer ICE candidates on this local address only", "ADDR" },
    { "max-cameras", 0, 0, G_OPTION_ARG_INT, &max_cameras,
      "Cameras at once; more get 503 (default 16)", "N" },
    { "max-body", 0, 0, G_OPTION_ARG_INT, &max_body_kib,
      "Largest request body in KiB; larger get 413 (default 64)", "KIB" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      "Require 'Authorization: Bearer TOKEN' (visible to every user in "
      "/proc: prefer --token-file or SURVEILLX_TOKEN)",
      "TOKEN" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      "Serve HTTPS with this PEM certificate (chain) (browsers give the "
      "publisher page a camera only over https:// or on localhost)",
      "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      "The certificate's PEM private key (default: in --tls-cert)", "FILE" },
    { "cors-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cors_origins,
      "Let pages of ORIGIN (e.g. https://dashboard.school.example; * for "
      "any) read the responses (repeatable; default: the launcher's own "
      "page only)",
      "ORIGIN" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "The operator's bearer token, first line of FILE", "FILE" },
    { "camera-secret-file", 0, 0, G_OPTION_ARG_FILENAME, &camera_secret_file,
      "Secret that signs per-camera tokens, first line of FILE (or set "
      "SURVEILLX_CAMERA_SECRET); a camera's token then starts, replaces "
      "and feeds that camera only",
      "FILE" },
    { "camera-token", 0, 0, G_OPTION_ARG_STRING, &camera_token_for,
      "Print camera ID's token (from the camera secret) and exit", "ID" },
    { "turn-file", 0, 0, G_OPTION_ARG_FILENAME, &turn_file,
      "TURN servers as --turn takes them, one per line of FILE (or "
      "SURVEILLX_TURN, space-separated)",
      "FILE" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "HTTP connections open at once; more get 503 (default 512)", "N" },
    { "max-connections-per-address", 0, 0, G_OPTION_ARG_INT, &max_per_address,
      "HTTP connections open at once from one IP address (default 64)", "N" },
    { "request-timeout", 0, 0, G_OPTION_ARG_INT, &request_timeout,
      "Longest time for a request's headers and body to arrive, ms "
      "(default 10000)",
      "MS" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      "Longest wait for the next request on a kept-alive connection, ms "
      "(default 30000)",
      "MS" },
    { "gather-timeout", 0, 0, G_OPTION_ARG_INT, &gather_timeout,
      "Longest wait for ICE gathering before answering, ms (default 5000)",
      "MS" },
    { "media-timeout", 0, 0, G_OPTION_ARG_INT, &media_timeout,
      "Stop a camera that sent no frame for this long, ms (default 15000; "
      "0: never)",
      "MS" },
    { "disconnect-grace", 0, 0, G_OPTION_ARG_INT, &disconnect_grace,
      "Stop a camera whose ICE stays disconnected this long, ms "
      "(default 5000)",
      "MS" },
    { "eos-timeout", 0, 0, G_OPTION_ARG_INT, &eos_timeout,
      "At exit, longest wait for the pipelines to flush, ms (default 8000)",
      "MS" },
    { "codecs", 0, 0, G_OPTION_ARG_STRING, &codec_list,
      "Video codecs to answer with, preferred first, of those the pipe "
      "file decodes (default " SX_CODECS_DEFAULT ")",
      "LIST" },
    { "registry", 0, 0, G_OPTION_ARG_STRING, &registry,
      "Join the launchers' camera registry in this PostgreSQL database "
      "(libpq conninfo; \"\" for libpq's PG* environment; or set "
      "SURVEILLX_REGISTRY): several launchers share cameras, leases and "
      "redirects (docs/deploy.md)",
      "CONNINFO" },
    { "registry-schema", 0, 0, G_OPTION_ARG_STRING, &registry_schema,
      "The registry's schema: the attendance schema of the pipe file's "
      "sinks (default " SX_DB_DEFAULT_SCHEMA ")",
      "NAME" },
    { "launcher-id", 0, 0, G_OPTION_ARG_STRING, &launcher_id,
      "This launcher's name in the registry (default HOST:PORT)", "ID" },
    { "advertise-url", 0, 0, G_OPTION_ARG_STRING, &advertise_url,
      "Where cameras reach this launcher, for other launchers' redirects "
      "(default: the listening URL, unless it is a wildcard address)",
      "URL" },
    { "lease", 0, 0, G_OPTION_ARG_INT, &lease,
      "A camera's lease in the registry lasts this long unrenewed, ms; "
      "renewed every third of it (default 15000)",
      "MS" },
    { "check", 0, 0, G_OPTION_ARG_NONE, &check_only,
      "Validate the pipe file and exit", NULL },
    { NULL }
  };

  g_autoptr (GOptionContext) ctx = g_option_context_new ("PIPE-FILE");
  g_option_context_set_summary (
      ctx, "Answers cameras' WebRTC offers "
           "(POST /offer) and runs one pipeline per camera from PIPE-FILE.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  g_autoptr (GError) error = NULL;
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("surveillx-launcher: %s\n", error->message);
    return 2;
  }
  GST_DEBUG_CATEGORY_INIT (sx_launcher_debug, "sxlauncher", 0,
                           "surveillx-launcher");
  if (!g_getenv ("GST_DEBUG")) {
    gst_debug_set_active (TRUE);
    gst_debug_set_threshold_from_string (DEFAULT_LOG, TRUE);
  }
  /* a journal or a log file gets plain text, not terminal colours */
  if (!g_getenv ("GST_DEBUG_COLOR_MODE") && !isatty (STDERR_FILENO))
    gst_debug_set_color_mode (GST_DEBUG_COLOR_MODE_OFF);
  ensure_plugin ();
  if (argc != 2 && !(camera_token_for && argc == 1)) {
    g_printerr ("surveillx-launcher: expected one PIPE-FILE (see --help)\n");
    return 2;
  }
  if (port < 0 || port > 65535 || max_cameras < 1 || max_body_kib < 1
      || gather_timeout < 100 || media_timeout < 0 || disconnect_grace < 0
      || eos_timeout < 0 || max_connections < 1 || max_per_address < 1
      || request_timeout < 100 || idle_timeout < 100 || lease < 1500
      || lease > 3600000) {
    g_printerr ("surveillx-launcher: an option is out of range\n");
    return 2;
  }
  /* secrets: the command line (visible in /proc), a file, or the
   * environment, in that order */
  if (token == NULL && token_file) {
    token = sx_read_secret_file (token_file, &error);
    if (token == NULL) {
      g_printerr ("surveillx-launcher: --token-file: %s\n", error->message);
      return 2;
    }
  }
  if (token == NULL && g_getenv ("SURVEILLX_TOKEN"))
    token = g_strdup (g_getenv ("SURVEILLX_TOKEN"));
  if (token && *token == '\0')
    g_clear_pointer (&token, g_free);
  g_autofree gchar *camera_secret = NULL;
  if (camera_secret_file) {
    camera_secret = sx_read_secret_file (camera_secret_file, &error);
    if (camera_secret == NULL) {
      g_printerr ("surveillx-launcher: --camera-secret-file: %s\n",
                  error->message);
      return 2;
    }
  } else if (g_getenv ("SURVEILLX_CAMERA_SECRET")
             && *g_getenv ("SURVEILLX_CAMERA_SECRET")) {
    camera_secret = g_strdup (g_getenv ("SURVEILLX_CAMERA_SECRET"));
  }
  if (camera_token_for) {
    if (camera_secret == NULL || !sx_camera_id_is_valid (camera_token_for)) {
      g_printerr ("surveillx-launcher: --camera-token needs a valid camera id "
                  "and the camera secret (--camera-secret-file or "
                  "SURVEILLX_CAMERA_SECRET)\n");
      return 2;
    }
    SxCredentials *creds = sx_credentials_new (NULL, camera_secret);
    g_autofree gchar *camera_token
        = sx_credentials_camera_token (creds, camera_token_for);
    sx_credentials_free (creds);
    g_print ("%s\n", camera_token);
    return 0;
  }
  if (turns == NULL && turn_file) {
    g_autofree gchar *text = NULL;
    if (!g_file_get_contents (turn_file, &text, NULL, &error)) {
      g_printerr ("surveillx-launcher: --turn-file: %s\n", error->message);
      return 2;
    }
    turns = split_turn_list (text, "\r\n", TRUE);
  } else if (turns == NULL && g_getenv ("SURVEILLX_TURN")) {
    turns = split_turn_list (g_getenv ("SURVEILLX_TURN"), " \t\n", FALSE);
  }

  g_autofree gchar *pipe_path = find_pipe_file (argv[1]);
  g_autofree gchar *pipe_text = NULL;
  if (!g_file_get_contents (pipe_path, &pipe_text, NULL, &error)) {
    g_printerr ("surveillx-launcher: %s\n", error->message);
    return 1;
  }
  g_autoptr (GHashTable) vars = sx_pipe_vars_new ();
  sx_pipe_vars_add_environment (vars, NULL);
  for (gchar **s = sets; s && *s; s++) {
    if (!sx_pipe_vars_add_assignment (vars, *s, &error)) {
      g_printerr ("surveillx-launcher: %s\n", error->message);
      return 2;
    }
  }

  g_auto (GStrv) preference
      = sx_codecs_parse (codec_list ? codec_list : SX_CODECS_DEFAULT, &error);
  if (preference == NULL) {
    g_printerr ("surveillx-launcher: --codecs: %s\n", error->message);
    return 2;
  }

  /* Fail fast on a typo: expand and build the pipeline once, with a dummy
   * camera id, before accepting any camera. */
  g_hash_table_replace (vars, g_strdup ("CAMERA_ID"), g_strdup ("validate"));
  g_autofree gchar *probe = sx_pipe_expand (pipe_text, pipe_path, vars, &error);
  if (probe == NULL) {
    /* the message names the file and line already */
    g_printerr ("surveillx-launcher: %s\n", error->message);
    return 1;
  }
  g_auto (GStrv) codecs = NULL;
  if (!sx_camera_validate_pipeline (probe, (const gchar *const *)preference,
                                    &codecs, &error)) {
    g_printerr ("surveillx-launcher: %s: %s\n", pipe_path, error->message);
    return 1;
  }
  g_hash_table_remove (vars, "CAMERA_ID");
  if (check_only) {
    g_autofree gchar *list = g_strjoinv (", ", codecs);
    g_print ("%s: OK (answers with %s)\n", pipe_path, list);
    return 0;
  }

  g_autoptr (GTlsCertificate) certificate = NULL;
  if (tls_cert) {
    if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
      g_printerr ("surveillx-launcher: --tls-cert: GLib has no TLS backend "
                  "(install glib-networking)\n");
      return 1;
    }
    certificate = g_tls_certificate_new_from_files (
        tls_cert, tls_key ? tls_key : tls_cert, &error);
    if (certificate == NULL) {
      g_printerr ("surveillx-launcher: --tls-cert: %s\n", error->message);
      return 1;
    }
  } else if (tls_key) {
    g_printerr ("surveillx-launcher: --tls-key needs --tls-cert\n");
    return 2;
  }

  SxSignalingOptions options = {
    .max_cameras = max_cameras,
    .max_body = (gsize) max_body_kib * 1024,
    .token = token,
    .camera_secret = camera_secret,
    .cors_origins = cors_origins,
    .eos_timeout_ms = eos_timeout,
    .connections = {
          .max_connections = max_connections,
          .max_per_address = max_per_address,
          .request_timeout_ms = request_timeout,
          .idle_timeout_ms = idle_timeout,
          .tls_certificate = certificate,
        },
    .camera = {
          .stun_server = stun,
          .turn_servers = turns,
          .ice_address = ice_address,
          .gather_timeout_ms = gather_timeout,
          .media_timeout_ms = media_timeout,
          .disconnect_grace_ms = disconnect_grace,
          .codecs = codecs,
        },
  };
  /* Safe by default: a launcher that asks nobody for a credential is
   * reachable from this host only, unless the operator says otherwise. */
  if (token == NULL && camera_secret == NULL && address == NULL && !insecure) {
    address = g_strdup ("127.0.0.1");
    g_printerr ("surveillx-launcher: no token or camera secret: listening "
                "on 127.0.0.1 only (--token-file, --camera-secret-file, or "
                "--insecure / --address to listen on the network without "
                "them)\n");
  }
  if (registry == NULL && g_getenv ("SURVEILLX_REGISTRY"))
    registry = g_strdup (g_getenv ("SURVEILLX_REGISTRY"));
  if (registry
      && (!sx_db_check_conninfo (registry, &error)
          || !sx_db_check_schema_name (registry_schema ? registry_schema
                                                       : SX_DB_DEFAULT_SCHEMA,
                                       &error))) {
    g_printerr ("surveillx-launcher: --registry: %s\n", error->message);
    return 2;
  }
  /* before listening: a camera arriving meanwhile would find its spool
   * locked by the replay */
  if (registry) {
    guint replayed = sx_replay_orphan_spools (pipe_text, pipe_path, vars);
    if (replayed > 0)
      g_print ("surveillx-launcher: replayed %u spool(s) a previous run "
               "left\n",
               replayed);
  }
  App app = { 0 };
  app.loop = g_main_loop_new (NULL, FALSE);
  app.sig = sx_signaling_new (pipe_text, pipe_path, vars, &options);
  if (!sx_signaling_listen (app.sig, address, port, &error)) {
    g_printerr ("surveillx-launcher: cannot listen: %s\n", error->message);
    return 1;
  }
  g_autofree gchar *uri = sx_signaling_get_uri (app.sig);
  /* on stdout, one line, so scripts and tests can find a port chosen with
   * --port 0 */
  g_print ("surveillx-launcher: listening on %s (pipe file %s%s)\n", uri,
           pipe_path,
           token && camera_secret ? ", operator or camera token required"
           : token                ? ", bearer token required"
           : camera_secret        ? ", camera token required"
                                  : "");
  if (registry) {
    if (launcher_id == NULL)
      launcher_id
          = g_strdup_printf ("%s:%d", g_get_host_name (), uri_port (uri));
    if (advertise_url == NULL && !uri_is_wildcard (uri))
      advertise_url = g_strdup (uri);
    SxRegistryOptions reg_options = {
      .conninfo = registry,
      .schema = registry_schema ? registry_schema : SX_DB_DEFAULT_SCHEMA,
      .launcher_id = launcher_id,
      .url = advertise_url ? advertise_url : "",
      .capacity = max_cameras,
      .lease_ms = lease,
    };
    if (!sx_signaling_use_registry (app.sig, &reg_options, &error)) {
      g_printerr ("surveillx-launcher: --registry: %s\n", error->message);
      return 2;
    }
    g_print ("surveillx-launcher: registry as %s (redirects here: %s)\n",
             launcher_id, advertise_url ? advertise_url : "none");
  }
  g_autofree gchar *ready
      = g_strdup_printf ("READY=1\nSTATUS=listening on %s", uri);
  if (!sx_sd_notify (ready))
    GST_WARNING ("could not tell the service manager we are ready");
  guint sigint = g_unix_signal_add (SIGINT, on_signal, &app);
  guint sigterm = g_unix_signal_add (SIGTERM, on_signal, &app);

  g_main_loop_run (app.loop);

  g_source_remove (sigint);
  g_source_remove (sigterm);
  sx_signaling_free (app.sig);
  g_main_loop_unref (app.loop);
  gst_deinit ();
  return 0;
}
