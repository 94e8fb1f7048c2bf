/* fuzz-replay.c — the main() of a fuzz target in an ordinary build: runs
 * the target once on each file named, or on each file of each folder named
 * (in name order), as libFuzzer does with a corpus folder and no time to
 * fuzz. A crash names the file, which is printed before it runs.
 *
 *   fuzz-model-replay tests/fuzz/corpus/model tests/fuzz/regressions/model
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "fuzz-target.h"

static guint
replay_file (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      g_printerr ("%s\n", error->message);
      exit (1);
    }
  printf ("%s (%zu bytes)\n", path, length);
  fflush (stdout);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
  return 1;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static guint
replay_dir (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      exit (1);
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && strcmp (name, "README.md") != 0)
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    n += replay_file (g_ptr_array_index (names, i));
  return n;
}

int
main (int argc, char **argv)
{
  guint n = 0;

  if (argc < 2)
    {
      g_printerr ("usage: %s FILE|FOLDER...\n", argv[0]);
      return 2;
    }
  for (int i = 1; i < argc; i++)
    n += g_file_test (argv[i], G_FILE_TEST_IS_DIR) ? replay_dir (argv[i]) : replay_file (argv[i]);
  /* An empty corpus would make this test pass without testing anything. */
  if (n == 0)
    {
      g_printerr ("no inputs in the folders given\n");
      return 1;
    }
  printf ("%u inputs, no crash\n", n);
  return 0;
}
