/* kestrel-cli.h — the sub-commands of kestrel-cli, one file each. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "kestrel-kernels.h"
#include "kestrel-model.h"

/* Where data/ puts the bundled models in the GResource. */
#define KESTREL_MODEL_RESOURCE_PREFIX "/org/kestrel/Kestrel/models/"

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
/* A model by name: "front" and "back" are the built-in BlazeFace models,
 * anything else a path to an .onnx file. */
KestrelModel *kestrel_cli_load_model (const char *spec, GError **error);
/* The model's file contents; *origin names it for messages. */
GBytes *kestrel_cli_model_bytes (const char *spec, char **origin, GError **error);

/* NULL means the default level, full. */
gboolean kestrel_cli_parse_level (const char *name, kk_level *level, GError **error);

/* Prints a JSON node on one line, or pretty when `pretty`, to stdout. */
void kestrel_cli_print_json (JsonNode *node, gboolean pretty);

G_END_DECLS
