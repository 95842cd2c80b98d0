/* Shared bits of the libFuzzer targets (tests/fuzz/README.md).
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

/* An invariant of the code under test: on failure print which one and
 * abort, which libFuzzer records as a crash with the input that caused it.
 * Unlike g_assert() this cannot be compiled out (G_DISABLE_ASSERT). */
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (G_UNLIKELY (!(cond))) {                                                \
      fprintf (stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,    \
               #cond);                                                         \
      abort ();                                                                \
    }                                                                          \
  } while (0)

/* A g_critical() or g_warning() is a precondition the code broke (a GLib
 * or json-glib g_return_if_fail, a type mismatch): make it a crash too. */
static inline void
fuzz_make_criticals_fatal (void)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL
                          | G_LOG_LEVEL_WARNING);
}
