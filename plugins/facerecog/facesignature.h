/* surveillx-gst — a cheap appearance signature of an aligned face chip.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tracker may keep a confirmed face's name without describing it again
 * (a ResNet descriptor costs ~24 ms a face, the chip ~2 ms). A signature
 * tells whether the face in the box is still the one last described: the
 * chip's centre in grey at 16x16, zero-mean and unit-norm, compared by
 * normalised correlation. It does not identify anybody; it only says
 * "looks the same as before" or "describe it again".
 */
#ifndef SX_FACE_SIGNATURE_H
#define SX_FACE_SIGNATURE_H

#include <glib.h>

G_BEGIN_DECLS

#define SX_FACE_SIGNATURE_SIDE 16

typedef struct {
  gfloat v[SX_FACE_SIGNATURE_SIDE * SX_FACE_SIGNATURE_SIDE];
} SxFaceSignature;

/* From an aligned RGB chip of SX_FACE_CHIP_SIZE pixels a side. */
void sx_face_signature_from_chip (const guint8 *chip, SxFaceSignature *sig);

/* Normalised correlation, -1..1; 1 = the same picture. */
gdouble sx_face_signature_similarity (const SxFaceSignature *a,
                                      const SxFaceSignature *b);

G_END_DECLS

#endif /* SX_FACE_SIGNATURE_H */
