#include "kestrel-error.h"

G_DEFINE_QUARK (kestrel-error-quark, kestrel_error)
