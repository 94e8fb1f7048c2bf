/* ops-math.c — placeholder: the operators of this group are not written yet. */
#include "config.h"

#include "kestrel-ops-registry.h"

const KestrelOpDef *const kestrel_ops_math[] = {
  NULL,
};
