/* kestrel-cli bench-kernels — placeholder until the benchmark is written. */
#include <stdio.h>

#include "kestrel-cli.h"

int
kestrel_cli_bench_kernels (int argc, char **argv)
{
  fprintf (stderr, "kestrel-cli bench-kernels: not written yet\n");
  return 1;
}
