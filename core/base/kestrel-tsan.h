/* kestrel-tsan.h — happens-before for ThreadSanitizer where data crosses
 * threads through GLib's main loop (a source attached to another thread's
 * context), which TSan cannot see in an uninstrumented GLib: the thread
 * that fills the data releases it before attaching, the callback that runs
 * on the other thread acquires it. Nothing outside a -Db_sanitize=thread
 * build (scripts/tsan.sh). See also kestrel-tsan-glib.c. */
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define KESTREL_TSAN_RELEASE(address) __tsan_release ((void *) (address))
#define KESTREL_TSAN_ACQUIRE(address) __tsan_acquire ((void *) (address))
#else
#define KESTREL_TSAN_RELEASE(address) ((void) 0)
#define KESTREL_TSAN_ACQUIRE(address) ((void) 0)
#endif
