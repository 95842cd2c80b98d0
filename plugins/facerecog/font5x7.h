/* surveillx-gst — a 5x7 bitmap font for labels drawn into video.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SX_FONT5X7_H
#define SX_FONT5X7_H

#include <glib.h>

G_BEGIN_DECLS

#define SX_FONT_WIDTH 5
#define SX_FONT_HEIGHT 7

/* Rows of the glyph for `c`, bit 4 the leftmost pixel; characters without
 * a glyph get a hollow box. */
const guint8 *sx_font5x7_glyph (gunichar c);

G_END_DECLS

#endif
