/* conformance-case.h — one case of the ONNX backend data, as the runner
 * (test-onnx-conformance.c) records it for the table (conformance-table.c). */
#pragma once

#include <glib.h>

typedef struct {
  char *suite;
  char *name;
  char *dir;
  GPtrArray *ops;        /* op types in the model, for the table */
  char *skip_reason;     /* set when skipped */
  gboolean bound_inputs; /* shape-deciding inputs were bound as constants */
  gboolean failed;
  gboolean vision;       /* every operator of the model is a vision operator */
} Case;

/* Writes docs/conformance.md's Markdown for `cases` (Case *) to `path`. */
void conformance_write_table (GPtrArray *cases, const char *path);
