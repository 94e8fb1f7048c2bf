/* kestrel-cli.h — the sub-commands of kestrel-cli, one file each. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "kestrel-kernels.h"
#include "kestrel-builtin-models.h"

G_BEGIN_DECLS

/* Each command gets argv with argv[0] = its own name, and returns the
 * process exit status. */
int kestrel_cli_info (int argc, char **argv);
int kestrel_cli_bench_kernels (int argc, char **argv);
int kestrel_cli_detect (int argc, char **argv);
int kestrel_cli_run_model (int argc, char **argv);
int kestrel_cli_inspect (int argc, char **argv);
int kestrel_cli_bench (int argc, char **argv);
int kestrel_cli_run (int argc, char **argv);

/* Prints "kestrel-cli COMMAND: MESSAGE" to stderr and returns `status`. */
int kestrel_cli_fail (const char *command, const char *message, int status);
/* NULL means the default level, full. */
gboolean kestrel_cli_parse_level (const char *name, kk_level *level, GError **error);

/* A double member, null when it is not finite (JSON has no NaN). */
void kestrel_cli_json_add_double (JsonBuilder *b, const char *name, double value);

/* Prints a JSON node on one line, or pretty when `pretty`, to stdout. */
void kestrel_cli_print_json (JsonNode *node, gboolean pretty);

G_END_DECLS
