/* surveillx-gst — the enrolled people a recogniser matches against.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gallery.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define GALLERY_FORMAT "surveillx-gallery"
#define GALLERY_VERSION 1

typedef struct {
  gchar *id;
  gchar *name;
} Person;

struct _SxGallery {
  gatomicrefcount refcount;
  GPtrArray *people;   /* Person*, in enrolment order */
  GHashTable *by_id;   /* id -> index+1 into people */
  GArray *descriptors; /* gfloat, SX_FACE_DESCRIPTOR_LEN per entry */
  GArray *owner;       /* guint person index per descriptor */
  GPtrArray *sources;  /* gchar* photo name per descriptor (may be "") */
};

static void
person_free (Person *p)
{
  g_free (p->id);
  g_free (p->name);
  g_free (p);
}

SxGallery *
sx_gallery_new (void)
{
  SxGallery *g = g_new0 (SxGallery, 1);
  g_atomic_ref_count_init (&g->refcount);
  g->people = g_ptr_array_new_with_free_func ((GDestroyNotify)person_free);
  g->by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g->descriptors = g_array_new (FALSE, FALSE, sizeof (gfloat));
  g->owner = g_array_new (FALSE, FALSE, sizeof (guint));
  g->sources = g_ptr_array_new_with_free_func (g_free);
  return g;
}

SxGallery *
sx_gallery_ref (SxGallery *gallery)
{
  g_atomic_ref_count_inc (&gallery->refcount);
  return gallery;
}

void
sx_gallery_unref (SxGallery *gallery)
{
  if (!gallery || !g_atomic_ref_count_dec (&gallery->refcount))
    return;
  g_hash_table_unref (gallery->by_id);
  g_ptr_array_unref (gallery->people);
  g_array_unref (gallery->descriptors);
  g_array_unref (gallery->owner);
  g_ptr_array_unref (gallery->sources);
  g_free (gallery);
}

void
sx_gallery_add (SxGallery *gallery, const gchar *id, const gchar *name,
                const gfloat *descriptor, const gchar *source)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (gallery->by_id, id));
  if (index == 0) {
    Person *p = g_new0 (Person, 1);
    p->id = g_strdup (id);
    p->name = g_strdup (name && *name ? name : id);
    g_ptr_array_add (gallery->people, p);
    index = gallery->people->len;
    g_hash_table_insert (gallery->by_id, p->id, GUINT_TO_POINTER (index));
  }
  index--;
  g_array_append_vals (gallery->descriptors, descriptor,
                       SX_FACE_DESCRIPTOR_LEN);
  g_array_append_val (gallery->owner, index);
  g_ptr_array_add (gallery->sources, g_strdup (source ? source : ""));
}

gboolean
sx_gallery_has_id (SxGallery *gallery, const gchar *id)
{
  return g_hash_table_contains (gallery->by_id, id);
}

const gchar *
sx_gallery_person_id (SxGallery *gallery, guint index)
{
  g_return_val_if_fail (index < gallery->people->len, NULL);
  return ((Person *)g_ptr_array_index (gallery->people, index))->id;
}

guint
sx_gallery_n_people (SxGallery *gallery)
{
  return gallery->people->len;
}

guint
sx_gallery_n_descriptors (SxGallery *gallery)
{
  return gallery->owner->len;
}

void
sx_gallery_get_entry (SxGallery *gallery, guint index, const gchar **id,
                      const gchar **name, const gfloat **descriptor,
                      const gchar **source)
{
  g_return_if_fail (index < gallery->owner->len);
  Person *p = g_ptr_array_index (gallery->people,
                                 g_array_index (gallery->owner, guint, index));
  *id = p->id;
  *name = p->name;
  *descriptor = (const gfloat *)gallery->descriptors->data
                + (gsize)index * SX_FACE_DESCRIPTOR_LEN;
  *source = g_ptr_array_index (gallery->sources, index);
}

SxGallery *
sx_gallery_copy_without (SxGallery *gallery, const gchar *id)
{
  SxGallery *copy = sx_gallery_new ();
  for (guint i = 0; i < gallery->owner->len; i++) {
    const gchar *pid, *name, *source;
    const gfloat *d;
    sx_gallery_get_entry (gallery, i, &pid, &name, &d, &source);
    if (g_strcmp0 (pid, id) != 0)
      sx_gallery_add (copy, pid, name, d, source);
  }
  return copy;
}

/* A match scans every enrolled descriptor (2,000 students x 5 = 10,000), so
 * this loop is its cost: squared distances in single precision, four
 * independent sums the CPU overlaps, no square root; the winner's distance
 * is then computed exactly (docs/performance.md, "Large galleries"). */
static inline gfloat
squared_distance (const gfloat *a, const gfloat *b)
{
  gfloat s0 = 0, s1 = 0, s2 = 0, s3 = 0;

  for (guint k = 0; k < SX_FACE_DESCRIPTOR_LEN; k += 4) {
    gfloat d0 = a[k] - b[k], d1 = a[k + 1] - b[k + 1];
    gfloat d2 = a[k + 2] - b[k + 2], d3 = a[k + 3] - b[k + 3];

    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  return (s0 + s1) + (s2 + s3);
}

gboolean
sx_gallery_match (SxGallery *gallery, const gfloat *descriptor,
                  SxGalleryMatch *match)
{
  guint n = gallery->owner->len;
  if (n == 0)
    return FALSE;
  const gfloat *d = (const gfloat *)gallery->descriptors->data;
  guint best = 0;
  gfloat best_squared = G_MAXFLOAT;
  for (guint i = 0; i < n; i++) {
    gfloat squared
        = squared_distance (descriptor, d + (gsize)i * SX_FACE_DESCRIPTOR_LEN);
    if (squared < best_squared) {
      best_squared = squared;
      best = i;
    }
  }
  Person *p = g_ptr_array_index (gallery->people,
                                 g_array_index (gallery->owner, guint, best));
  match->id = p->id;
  match->name = p->name;
  match->distance
      = sx_face_distance (descriptor, d + (gsize)best * SX_FACE_DESCRIPTOR_LEN);
  return TRUE;
}

/* ---- Folder of photos ---------------------------------------------------- */

static gboolean
is_photo (const gchar *name)
{
  static const gchar *extensions[] = { ".jpg", ".jpeg", ".png", ".bmp", ".webp",
                                       ".tif", ".tiff", ".gif", NULL };
  g_autofree gchar *lower = g_ascii_strdown (name, -1);
  for (const gchar **e = extensions; *e; e++)
    if (g_str_has_suffix (lower, *e))
      return TRUE;
  return FALSE;
}

/* "<id>_<name>" -> id, "name with spaces"; "<name>" -> name, name. */
static void
split_id_name (const gchar *stem, gchar **id, gchar **name)
{
  const gchar *sep = strchr (stem, '_');
  if (sep && sep != stem && sep[1] != '\0') {
    *id = g_strndup (stem, sep - stem);
    *name = g_strdup (sep + 1);
    g_strdelimit (*name, "_", ' ');
  } else {
    *id = g_strdup (stem);
    *name = g_strdup (stem);
  }
}

static gchar *
strip_extension (const gchar *file_name)
{
  const gchar *dot = strrchr (file_name, '.');
  return dot && dot != file_name ? g_strndup (file_name, dot - file_name)
                                 : g_strdup (file_name);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar **)a, *(const gchar **)b);
}

/* Sorted entry names, so enrolment order (and ties) never depend on the
 * file system's listing order. */
static GPtrArray *
list_dir (const gchar *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  if (!d)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;
  while ((name = g_dir_read_name (d)))
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  return names;
}

static void
enrol_photo (SxGallery *gallery, SxAnalyzer *analyzer, const gchar *path,
             const gchar *id, const gchar *name, SxGalleryWarnFunc warn,
             gpointer user_data)
{
  gfloat descriptor[SX_FACE_DESCRIPTOR_LEN];
  g_autoptr (GError) error = NULL;
  if (sx_analyzer_describe_photo (analyzer, path, descriptor, &error)) {
    g_autofree gchar *base = g_path_get_basename (path);
    sx_gallery_add (gallery, id, name, descriptor, base);
  } else if (warn) {
    warn (path, error, user_data);
  }
}

SxGallery *
sx_gallery_load_folder (const gchar *dir, SxAnalyzer *analyzer,
                        SxGalleryWarnFunc warn, gpointer user_data,
                        GError **error)
{
  g_autoptr (GPtrArray) entries = list_dir (dir, error);
  if (!entries)
    return NULL;

  SxGallery *gallery = sx_gallery_new ();
  for (guint i = 0; i < entries->len; i++) {
    const gchar *entry = g_ptr_array_index (entries, i);
    g_autofree gchar *path = g_build_filename (dir, entry, NULL);
    g_autofree gchar *id = NULL, *name = NULL;

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      split_id_name (entry, &id, &name);
      g_autoptr (GPtrArray) photos = list_dir (path, NULL);
      for (guint j = 0; photos && j < photos->len; j++) {
        const gchar *photo = g_ptr_array_index (photos, j);
        if (!is_photo (photo))
          continue;
        g_autofree gchar *photo_path = g_build_filename (path, photo, NULL);
        enrol_photo (gallery, analyzer, photo_path, id, name, warn, user_data);
      }
    } else if (is_photo (entry)) {
      g_autofree gchar *stem = strip_extension (entry);
      split_id_name (stem, &id, &name);
      enrol_photo (gallery, analyzer, path, id, name, warn, user_data);
    }
  }
  return gallery;
}

/* ---- Descriptor file -------------------------------------------------------
 */

static gboolean
parse_descriptor (JsonArray *values, gfloat *out, GError **error)
{
  if (!values || json_array_get_length (values) != SX_FACE_DESCRIPTOR_LEN) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "a descriptor must be an array of %d numbers",
                 SX_FACE_DESCRIPTOR_LEN);
    return FALSE;
  }
  for (guint i = 0; i < SX_FACE_DESCRIPTOR_LEN; i++) {
    JsonNode *n = json_array_get_element (values, i);
    if (!JSON_NODE_HOLDS_VALUE (n)
        || (json_node_get_value_type (n) != G_TYPE_DOUBLE
            && json_node_get_value_type (n) != G_TYPE_INT64)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "descriptor value %u is not a number", i);
      return FALSE;
    }
    out[i] = (gfloat)json_node_get_double (n);
  }
  return TRUE;
}

static SxGallery *
gallery_from_json (JsonNode *root, GError **error)
{
  JsonObject *top
      = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (!top
      || g_strcmp0 (
             json_object_get_string_member_with_default (top, "format", ""),
             GALLERY_FORMAT)
             != 0) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "not a %s descriptor file", GALLERY_FORMAT);
    return NULL;
  }
  gint64 version = json_object_get_int_member_with_default (top, "version", 0);
  if (version != GALLERY_VERSION) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 "descriptor file version %" G_GINT64_FORMAT
                 " (this build reads %d)",
                 version, GALLERY_VERSION);
    return NULL;
  }
  JsonArray *people = json_object_get_array_member (top, "people");
  if (!people) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "descriptor file has no \"people\" array");
    return NULL;
  }
  g_autoptr (SxGallery) gallery = sx_gallery_new ();
  for (guint i = 0; i < json_array_get_length (people); i++) {
    JsonObject *p = json_array_get_object_element (people, i);
    const gchar *id
        = p ? json_object_get_string_member_with_default (p, "id", NULL) : NULL;
    JsonArray *faces = p && json_object_has_member (p, "faces")
                           ? json_object_get_array_member (p, "faces")
                           : NULL;
    if (!id || !*id || !faces) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "person %u needs an \"id\" and a \"faces\" array", i);
      return NULL;
    }
    const gchar *name
        = json_object_get_string_member_with_default (p, "name", id);
    for (guint j = 0; j < json_array_get_length (faces); j++) {
      JsonObject *f = json_array_get_object_element (faces, j);
      gfloat descriptor[SX_FACE_DESCRIPTOR_LEN];
      JsonArray *values = f && json_object_has_member (f, "descriptor")
                              ? json_object_get_array_member (f, "descriptor")
                              : NULL;
      g_autoptr (GError) inner = NULL;
      if (!parse_descriptor (values, descriptor, &inner)) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     "person '%s', face %u: %s", id, j, inner->message);
        return NULL;
      }
      sx_gallery_add (
          gallery, id, name, descriptor,
          json_object_get_string_member_with_default (f, "source", ""));
    }
  }
  return g_steal_pointer (&gallery);
}

SxGallery *
sx_gallery_load_file (const gchar *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) inner = NULL;
  if (!json_parser_load_from_file (parser, path, &inner)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "descriptor file '%s': %s", path, inner->message);
    return NULL;
  }
  SxGallery *gallery
      = gallery_from_json (json_parser_get_root (parser), &inner);
  if (!gallery)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "descriptor file '%s': %s", path, inner->message);
  return gallery;
}

gboolean
sx_gallery_save_file (SxGallery *gallery, const gchar *path, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, GALLERY_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, GALLERY_VERSION);
  json_builder_set_member_name (b, "descriptor_length");
  json_builder_add_int_value (b, SX_FACE_DESCRIPTOR_LEN);
  json_builder_set_member_name (b, "people");
  json_builder_begin_array (b);
  for (guint p = 0; p < gallery->people->len; p++) {
    Person *person = g_ptr_array_index (gallery->people, p);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_string_value (b, person->id);
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, person->name);
    json_builder_set_member_name (b, "faces");
    json_builder_begin_array (b);
    for (guint i = 0; i < gallery->owner->len; i++) {
      if (g_array_index (gallery->owner, guint, i) != p)
        continue;
      const gfloat *d = (const gfloat *)gallery->descriptors->data
                        + (gsize)i * SX_FACE_DESCRIPTOR_LEN;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b,
                                     g_ptr_array_index (gallery->sources, i));
      json_builder_set_member_name (b, "descriptor");
      json_builder_begin_array (b);
      for (guint k = 0; k < SX_FACE_DESCRIPTOR_LEN; k++)
        json_builder_add_double_value (b, d[k]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  g_autofree gchar *text = json_generator_to_data (gen, NULL);
  /* biometric data: readable by its owner only, whatever the umask */
  return g_file_set_contents_full (path, text, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

SxGallery *
sx_gallery_load (const gchar *location, SxAnalyzer *analyzer,
                 SxGalleryWarnFunc warn, gpointer user_data, GError **error)
{
  if (g_file_test (location, G_FILE_TEST_IS_DIR))
    return sx_gallery_load_folder (location, analyzer, warn, user_data, error);
  if (g_file_test (location, G_FILE_TEST_IS_REGULAR))
    return sx_gallery_load_file (location, error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "gallery '%s' is neither a folder nor a descriptor file",
               location);
  return NULL;
}
