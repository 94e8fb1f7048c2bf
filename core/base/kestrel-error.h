/* kestrel-error.h — the error domain of libkestrel. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KESTREL_ERROR (kestrel_error_quark ())

typedef enum {
  KESTREL_ERROR_FAILED,
  KESTREL_ERROR_INVALID_ARGUMENT, /* a value out of range, a bad name */
  KESTREL_ERROR_DEPENDENCY,       /* a library Kestrel needs is missing or broken */
  KESTREL_ERROR_UNSUPPORTED,      /* valid input Kestrel does not handle (yet) */
  KESTREL_ERROR_CORRUPT,          /* a file that is not what it claims to be */
  KESTREL_ERROR_NO_MEMORY,
} KestrelError;

GQuark kestrel_error_quark (void);

G_END_DECLS
