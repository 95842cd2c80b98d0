/* surveillx-convert-model — face-api.js faceRecognitionNet -> dlib .dat
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * face-api.js ships dlib's face recognition ResNet re-exported for
 * TensorFlow.js: a JSON manifest naming each tensor (shape, dtype, optional
 * uint8/uint16 quantisation: value = q * scale + min) and binary shards
 * holding them back to back. This tool de-quantises the tensors and hands
 * them to the dlib shim, which places them in dlib's own network and
 * serialises it, so the result loads exactly like dlib's
 * dlib_face_recognition_resnet_model_v1.dat.
 */
#include "face.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GPtrArray *names;  /* gchar* */
  GPtrArray *values; /* gfloat* */
  GArray *counts;    /* gsize */
} Tensors;

static gboolean
read_shards (JsonArray *groups, const gchar *dir, GByteArray *blob,
             GError **error)
{
  for (guint g = 0; g < json_array_get_length (groups); g++) {
    JsonObject *group = json_array_get_object_element (groups, g);
    JsonArray *paths = json_object_get_array_member (group, "paths");
    for (guint p = 0; paths && p < json_array_get_length (paths); p++) {
      g_autofree gchar *path = g_build_filename (
          dir, json_array_get_string_element (paths, p), NULL);
      g_autofree gchar *data = NULL;
      gsize len = 0;
      if (!g_file_get_contents (path, &data, &len, error))
        return FALSE;
      g_byte_array_append (blob, (const guint8 *)data, len);
    }
  }
  return TRUE;
}

static gboolean
decode_tensors (JsonArray *groups, const guint8 *blob, gsize blob_len,
                Tensors *out, GError **error)
{
  gsize offset = 0;
  for (guint g = 0; g < json_array_get_length (groups); g++) {
    JsonObject *group = json_array_get_object_element (groups, g);
    JsonArray *weights = json_object_get_array_member (group, "weights");
    for (guint w = 0; weights && w < json_array_get_length (weights); w++) {
      JsonObject *t = json_array_get_object_element (weights, w);
      const gchar *name = json_object_get_string_member (t, "name");
      JsonArray *shape = json_object_get_array_member (t, "shape");
      gsize count = 1;
      for (guint i = 0; i < json_array_get_length (shape); i++)
        count *= (gsize)json_array_get_int_element (shape, i);

      JsonObject *q = json_object_has_member (t, "quantization")
                          ? json_object_get_object_member (t, "quantization")
                          : NULL;
      const gchar *dtype
          = json_object_get_string_member_with_default (t, "dtype", "float32");
      gsize elem = 4;
      if (q) {
        const gchar *qtype = json_object_get_string_member (q, "dtype");
        elem = g_strcmp0 (qtype, "uint8") == 0    ? 1
               : g_strcmp0 (qtype, "uint16") == 0 ? 2
                                                  : 0;
        if (elem == 0) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "tensor %s: unsupported quantisation '%s'", name, qtype);
          return FALSE;
        }
      } else if (g_strcmp0 (dtype, "float32") != 0) {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     "tensor %s: unsupported dtype '%s'", name, dtype);
        return FALSE;
      }
      if (offset + count * elem > blob_len) {
        g_set_error (
            error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            "tensor %s runs past the end of the weights (%" G_GSIZE_FORMAT
            " bytes)",
            name, blob_len);
        return FALSE;
      }

      gfloat *values = g_new (gfloat, count);
      const guint8 *src = blob + offset;
      if (q) {
        gdouble scale = json_object_get_double_member (q, "scale");
        gdouble min = json_object_get_double_member (q, "min");
        for (gsize i = 0; i < count; i++) {
          guint qv = elem == 1 ? src[i] : GUINT16_FROM_LE (((guint16 *)src)[i]);
          values[i] = (gfloat)(qv * scale + min);
        }
      } else {
        memcpy (values, src, count * 4); /* tfjs writes little-endian */
      }
      offset += count * elem;
      g_ptr_array_add (out->names, g_strdup (name));
      g_ptr_array_add (out->values, values);
      g_array_append_val (out->counts, count);
    }
  }
  if (offset != blob_len) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "manifest describes %" G_GSIZE_FORMAT
                 " bytes, weights hold %" G_GSIZE_FORMAT,
                 offset, blob_len);
    return FALSE;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  if (argc != 3) {
    fprintf (
        stderr,
        "usage: %s face_recognition_model-weights_manifest.json "
        "OUT.dat\n\nConverts face-api.js's face recognition model (the dlib "
        "ResNet) into dlib's .dat format.\n",
        argv[0]);
    return 2;
  }
  const gchar *manifest_path = argv[1];
  const gchar *out_path = argv[2];
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, manifest_path, &error)) {
    fprintf (stderr, "%s: %s\n", manifest_path, error->message);
    return 1;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_ARRAY (root)) {
    fprintf (stderr, "%s: not a tfjs weights manifest (no top-level array)\n",
             manifest_path);
    return 1;
  }
  JsonArray *groups = json_node_get_array (root);
  g_autofree gchar *dir = g_path_get_dirname (manifest_path);
  g_autoptr (GByteArray) blob = g_byte_array_new ();
  Tensors t = { g_ptr_array_new_with_free_func (g_free),
                g_ptr_array_new_with_free_func (g_free),
                g_array_new (FALSE, FALSE, sizeof (gsize)) };

  int status = 1;
  if (!read_shards (groups, dir, blob, &error)
      || !decode_tensors (groups, blob->data, blob->len, &t, &error)) {
    fprintf (stderr, "%s: %s\n", manifest_path, error->message);
    goto out;
  }

  SxNamedTensor *named = g_new (SxNamedTensor, t.names->len);
  gsize total = 0;
  for (guint i = 0; i < t.names->len; i++) {
    named[i].name = g_ptr_array_index (t.names, i);
    named[i].values = g_ptr_array_index (t.values, i);
    named[i].n_values = g_array_index (t.counts, gsize, i);
    total += named[i].n_values;
  }
  if (sx_descriptor_model_write_from_faceapi (named, t.names->len, out_path,
                                              &error)) {
    printf ("%s: %u tensors, %" G_GSIZE_FORMAT " values -> %s\n", manifest_path,
            t.names->len, total, out_path);
    status = 0;
  } else {
    fprintf (stderr, "%s: %s\n", manifest_path, error->message);
  }
  g_free (named);
out:
  g_ptr_array_unref (t.names);
  g_ptr_array_unref (t.values);
  g_array_unref (t.counts);
  return status;
}
