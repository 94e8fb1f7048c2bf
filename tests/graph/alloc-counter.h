/* alloc-counter.h — counts heap allocations made by any thread of this
 * process between alloc_counter_start() and alloc_counter_stop().
 *
 * The test program defines malloc and friends itself (alloc-counter.c);
 * the dynamic linker then resolves every library's calls, libkestrel's and
 * GLib's included, to these, which count and forward to glibc. */
#pragma once

#include <glib.h>

void alloc_counter_start (void);
guint64 alloc_counter_stop (void);
