/* kestrel-cli — Kestrel's headless front end. */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"

typedef struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  { "info", kestrel_cli_info, "CPU features, instruction sets per level, OpenBLAS, threads" },
  { "bench-kernels", kestrel_cli_bench_kernels, "throughput of image and conversion kernels per instruction set" },
  { "detect", kestrel_cli_detect, "faces in images (BlazeFace), as text or JSON lines" },
  { "inspect", kestrel_cli_inspect, "operators, parameters, multiply-adds and arena of a model" },
  { "run-model", kestrel_cli_run_model, "run a model on ONNX TensorProto inputs, write its outputs" },
  { "bench", kestrel_cli_bench, "latency of a model, optionally beside ONNX Runtime" },
  { "benchmark", kestrel_cli_benchmark, "a suite: precision x level x threads x batch, saved as JSON" },
  { "compare", kestrel_cli_compare, "two benchmark results cell by cell, with a significance test" },
  { "calibrate", kestrel_cli_calibrate, "an INT8 calibration table from a folder of frames, as JSON" },
  { "quantize", kestrel_cli_quantize, "an INT8 model (calibrated, mixed precision) as a QDQ ONNX file" },
  { "run", kestrel_cli_run, "run the pipeline headless, with metrics (and a Prometheus endpoint)" },
};

void
kestrel_cli_print_json (JsonNode *node, gboolean pretty)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  fflush (stdout);
}

static void
usage (FILE *out)
{
  fprintf (out, "Usage: kestrel-cli COMMAND [OPTION...]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-16s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'kestrel-cli COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* JSON and numbers must not depend on the user's locale. */
  setlocale (LC_NUMERIC, "C");
  /* Writing to a peer process that has died (ONNX Runtime's, through a
   * pipe) must be an error the command reports and cleans up after, not a
   * SIGPIPE that ends kestrel-cli on the spot. */
  signal (SIGPIPE, SIG_IGN);

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("kestrel-cli %s\n", PACKAGE_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, "kestrel-cli: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
