/* surveillx-gst — a cheap appearance signature of an aligned face chip.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "facesignature.h"

#include "face.h"

#include <math.h>

/* The chip holds the face with 25 % padding around it: the border is
 * mostly background and hair, which change with the box more than the
 * face does (measured: margin 20 of 150 px separated different people
 * best, docs/elements.md). */
#define CHIP_MARGIN 20

void
sx_face_signature_from_chip (const guint8 *chip, SxFaceSignature *sig)
{
  const guint side = SX_FACE_SIGNATURE_SIDE;
  const guint span = SX_FACE_CHIP_SIZE - 2 * CHIP_MARGIN;
  gdouble sum = 0.0;
  for (guint cy = 0; cy < side; cy++) {
    guint y0 = CHIP_MARGIN + cy * span / side;
    guint y1 = CHIP_MARGIN + (cy + 1) * span / side;
    for (guint cx = 0; cx < side; cx++) {
      guint x0 = CHIP_MARGIN + cx * span / side;
      guint x1 = CHIP_MARGIN + (cx + 1) * span / side;
      guint acc = 0, n = 0;
      for (guint y = y0; y < y1; y++) {
        const guint8 *p = chip + ((gsize)y * SX_FACE_CHIP_SIZE + x0) * 3;
        for (guint x = x0; x < x1; x++, p += 3, n++)
          /* BT.601 luma in integers: 0.299, 0.587, 0.114 */
          acc += (77u * p[0] + 150u * p[1] + 29u * p[2]) >> 8;
      }
      gfloat mean = (gfloat)acc / n;
      sig->v[cy * side + cx] = mean;
      sum += mean;
    }
  }
  const guint len = side * side;
  gfloat mean = (gfloat)(sum / len);
  gdouble norm = 0.0;
  for (guint i = 0; i < len; i++) {
    sig->v[i] -= mean;
    norm += (gdouble)sig->v[i] * sig->v[i];
  }
  /* A flat chip (all one grey) correlates with nothing. */
  gfloat scale = norm > 0.0 ? (gfloat)(1.0 / sqrt (norm)) : 0.0f;
  for (guint i = 0; i < len; i++)
    sig->v[i] *= scale;
}

gdouble
sx_face_signature_similarity (const SxFaceSignature *a,
                              const SxFaceSignature *b)
{
  gdouble dot = 0.0;
  for (guint i = 0; i < G_N_ELEMENTS (a->v); i++)
    dot += (gdouble)a->v[i] * b->v[i];
  return dot;
}
