/* kestrel-malloc.c — glibc's malloc set up, once, for a process whose
 * large buffers come and go (issue 16, item 3: found by the soak).
 *
 * A reconfiguration frees one configuration's plans and builds the next:
 * arenas, packed weights, scratch and the model's initializers, buffers of
 * 128 KiB to tens of MB. glibc serves a block at or above its mmap
 * threshold with a mapping of its own, unmapped when freed. But the
 * threshold is dynamic: each time such a block is freed, glibc raises it
 * to that block's size (up to 32 MB on 64-bit). After the first freed plan
 * nearly every plan buffer comes from a malloc arena's heap instead, mixed
 * with small long-lived blocks, and a heap only shrinks from its top:
 * freed plans leave holes that later plans of other sizes fit badly.
 * malloc_trim once per freed configuration (kestrel-engine-plans.c) was
 * not enough: an hour of `scripts/soak.sh` (a reconfiguration every 3 s)
 * went from 8.7 to 138 MB resident, +78 MB/hour, with malloc_stats showing
 * 380 MB held by malloc for 41 MB in use.
 *
 * Setting M_MMAP_THRESHOLD explicitly fixes it at glibc's own starting
 * value and turns the dynamic adjustment off (mallopt(3)): every large
 * buffer is its own mapping, given back whole when freed. The cost is a
 * mmap and munmap per large buffer, paid when plans are built and freed
 * and when a source allocates a large picture; a steady-state inference
 * allocates nothing (the allocation counter of tests/graph, test
 * `graph`).
 *
 * The heaps still fragmented, more slowly, because there were many of
 * them: glibc gives a thread that finds the arenas busy a new one, up to
 * 8 per core, and the builder, the worker, GStreamer's streaming threads
 * (new ones with each source) and the main loop each filled and freed
 * theirs. Each heap kept its own holes: over 80 reconfigurations of
 * tests/runtime/test-memory.c the bytes free in the heaps went from 14.6
 * to 25.6 MB and what was resident beyond what was in use grew 1.3 to
 * 1.6 MB; the hour of the soak, at the same settings each minute, grew
 * +1.33 MB/hour (session 11, Zen 5). With one arena (M_ARENA_MAX), in
 * two runs of the same 80, from 9.3 to 9.5 and 9.3 MB free, resident +0.3
 * and +0.4 MB (with two arenas: 9.3 and 9.7 to 11.1 MB free). One arena costs little here: the frame path
 * allocates nothing, so the threads meet on malloc's lock only while
 * plans are built, sources open and the UI draws.
 *
 * A constructor of libkestrel, so that the window, kestrel-cli and every
 * test get the same allocator behaviour, before their first allocation
 * of a plan. Only glibc has the dynamic threshold; ASan's and TSan's
 * allocators ignore mallopt. */
#include "config.h"

#include <stdlib.h>
/* After a libc header, which defines __GLIBC__. */
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* glibc's default starting threshold (DEFAULT_MMAP_THRESHOLD_MIN): blocks
 * of at least this size get a mapping of their own. */
#define KESTREL_MMAP_THRESHOLD (128 * 1024)

__attribute__ ((constructor)) static void
kestrel_malloc_set_up (void)
{
#ifdef __GLIBC__
  mallopt (M_MMAP_THRESHOLD, KESTREL_MMAP_THRESHOLD);
  mallopt (M_ARENA_MAX, 1);
#endif
}
