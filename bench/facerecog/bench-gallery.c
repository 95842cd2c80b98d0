/* bench/facerecog: a large gallery: what loading it and matching against it
 * cost, and what sharing it between cameras saves.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-gallery PEOPLE PER_PERSON CAMERAS PROBES
 *
 * Writes a descriptor file of PEOPLE x PER_PERSON random unit descriptors
 * (the scale of dlib's: real ones are near unit length), then:
 *   load      one sx_gallery_load_file, ms, and the heap it holds
 *   cameras   CAMERAS recognisers opening it the old way (a load each)
 *             against sx_gallery_share_open (one load, shared): ms and heap
 *   match     ms per sx_gallery_match over PROBES random probes
 * Lines are "key value ..." for bench/facerecog/gallery.sh, which runs
 * numpy's face_recognition-style match (the Python design) beside it.
 */
#include "gallery.h"
#include "galleryshare.h"

#include <glib/gstdio.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static gsize
heap_in_use (void)
{
  struct mallinfo2 m = mallinfo2 ();
  return m.uordblks + m.hblkhd;
}

static void
random_descriptor (GRand *rand, gfloat *d)
{
  gdouble norm = 0;
  for (guint i = 0; i < SX_FACE_DESCRIPTOR_LEN; i++) {
    d[i] = (gfloat)g_rand_double_range (rand, -1.0, 1.0);
    norm += d[i] * d[i];
  }
  for (guint i = 0; i < SX_FACE_DESCRIPTOR_LEN; i++)
    d[i] /= (gfloat)sqrt (norm);
}

int
main (int argc, char **argv)
{
  if (argc != 5) {
    fprintf (stderr, "usage: %s PEOPLE PER_PERSON CAMERAS PROBES\n", argv[0]);
    return 2;
  }
  guint people = atoi (argv[1]), per_person = atoi (argv[2]);
  guint cameras = atoi (argv[3]), probes = atoi (argv[4]);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  g_autoptr (GError) error = NULL;

  g_autoptr (SxGallery) built = sx_gallery_new ();
  gfloat d[SX_FACE_DESCRIPTOR_LEN];
  for (guint p = 0; p < people; p++) {
    g_autofree gchar *id = g_strdup_printf ("S%05u", p);
    g_autofree gchar *name = g_strdup_printf ("Student %u", p);
    for (guint k = 0; k < per_person; k++) {
      random_descriptor (rand, d);
      sx_gallery_add (built, id, name, d, "bench");
    }
  }
  g_autofree gchar *dir = g_dir_make_tmp ("sx-bench-gallery-XXXXXX", NULL);
  g_autofree gchar *path = g_build_filename (dir, "gallery.json", NULL);
  if (!sx_gallery_save_file (built, path, &error))
    g_error ("%s", error->message);
  g_clear_pointer (&built, sx_gallery_unref);

  /* one load */
  gsize heap0 = heap_in_use ();
  gint64 t0 = g_get_monotonic_time ();
  SxGallery *one = sx_gallery_load_file (path, &error);
  gint64 t1 = g_get_monotonic_time ();
  if (!one)
    g_error ("%s", error->message);
  printf ("load people=%u descriptors=%u ms=%.1f heap_mb=%.1f\n",
          sx_gallery_n_people (one), sx_gallery_n_descriptors (one),
          (t1 - t0) / 1000.0, (heap_in_use () - heap0) / 1048576.0);

  /* matching: every probe against every descriptor */
  gfloat *probe = g_new (gfloat, (gsize)probes * SX_FACE_DESCRIPTOR_LEN);
  for (guint i = 0; i < probes; i++)
    random_descriptor (rand, probe + (gsize)i * SX_FACE_DESCRIPTOR_LEN);
  SxGalleryMatch match;
  gdouble checksum = 0;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < probes; i++) {
    sx_gallery_match (one, probe + (gsize)i * SX_FACE_DESCRIPTOR_LEN, &match);
    checksum += match.distance;
  }
  t1 = g_get_monotonic_time ();
  printf ("match probes=%u ms_per_match=%.3f mean_distance=%.4f\n", probes,
          (t1 - t0) / 1000.0 / probes, checksum / probes);
  g_free (probe);
  sx_gallery_unref (one);

  /* CAMERAS recognisers: a copy each (as before), or one shared */
  SxGallery **copies = g_new0 (SxGallery *, cameras);
  heap0 = heap_in_use ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < cameras; i++)
    copies[i] = sx_gallery_load_file (path, NULL);
  t1 = g_get_monotonic_time ();
  printf ("cameras mode=copy-each cameras=%u loads=%u ms=%.1f heap_mb=%.1f\n",
          cameras, cameras, (t1 - t0) / 1000.0,
          (heap_in_use () - heap0) / 1048576.0);
  for (guint i = 0; i < cameras; i++)
    sx_gallery_unref (copies[i]);

  SxGalleryShare **shares = g_new0 (SxGalleryShare *, cameras);
  heap0 = heap_in_use ();
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < cameras; i++) {
    shares[i] = sx_gallery_share_open (path, NULL, NULL, NULL, NULL, NULL, NULL,
                                       &copies[i], &error);
    if (!shares[i])
      g_error ("%s", error->message);
  }
  t1 = g_get_monotonic_time ();
  printf ("cameras mode=shared cameras=%u loads=1 users=%u ms=%.1f "
          "heap_mb=%.1f\n",
          cameras, sx_gallery_share_get_users (shares[0]), (t1 - t0) / 1000.0,
          (heap_in_use () - heap0) / 1048576.0);
  for (guint i = 0; i < cameras; i++) {
    sx_gallery_unref (copies[i]);
    sx_gallery_share_close (shares[i]);
  }
  g_free (shares);
  g_free (copies);

  g_unlink (path);
  g_rmdir (dir);
  return 0;
}
