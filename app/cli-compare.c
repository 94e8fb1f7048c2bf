/* kestrel-cli compare — two benchmark result files, cell by cell (see
 * core/bench/kestrel-bench-compare.h for the statistics). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-bench-compare.h"
#include "kestrel-bench-result.h"
#include "kestrel-cli.h"

int
kestrel_cli_compare (int argc, char **argv)
{
  g_autofree char *format = NULL;
  GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "text, markdown or csv (default text)", "FORMAT" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("A.json B.json - compare two benchmark results");
  g_autoptr(GError) error = NULL;
  g_autoptr(KestrelBenchResult) a = NULL;
  g_autoptr(KestrelBenchResult) b = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *text = NULL;

  if (!kestrel_cli_parse_options ("compare", context, entries, NULL, "two result files (A.json B.json)", 2, 2,
                                  &argc, &argv))
    return 2;
  if (format == NULL)
    format = g_strdup ("text");
  if (strcmp (format, "text") != 0 && strcmp (format, "markdown") != 0 && strcmp (format, "csv") != 0)
    return kestrel_cli_fail ("compare", "--format: expected text, markdown or csv", 2);

  a = kestrel_bench_result_load (argv[1], &error);
  if (a == NULL)
    return kestrel_cli_fail ("compare", error->message, 1);
  b = kestrel_bench_result_load (argv[2], &error);
  if (b == NULL)
    return kestrel_cli_fail ("compare", error->message, 1);
  rows = kestrel_bench_compare (a, b);
  text = kestrel_bench_comparison_format (a, b, rows, format);
  fputs (text, stdout);
  return 0;
}
