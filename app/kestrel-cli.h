/* kestrel-cli.h — the sub-commands of kestrel-cli, one file each. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Each command gets argv with argv[0] = its own name, and returns the
 * process exit status. */
int kestrel_cli_info (int argc, char **argv);
int kestrel_cli_bench_kernels (int argc, char **argv);

/* Prints a JSON node on one line, or pretty when `pretty`, to stdout. */
void kestrel_cli_print_json (JsonNode *node, gboolean pretty);

G_END_DECLS
