/* fuzz-image.c — still images through the images frame source: the bytes
 * are written to a file (the source reads files, as `kestrel-cli run
 * --source images:PATH` does) and opened as "images:FILE"; its frame is
 * taken twice (the single-file source lends the same decoded frame again).
 * gdk-pixbuf's loaders are Debian's and not instrumented: what is fuzzed
 * is Kestrel's side, from the file checks through the orientation and
 * pixel conversion (core/runtime/kestrel-image.c) to the frame lent.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-target.h"

#define FUZZ_IMAGE_MAX_BYTES (256 * 1024)

static char *image_path;

static void
remove_image_folder (void)
{
  g_autofree char *folder = g_path_get_dirname (image_path);

  g_unlink (image_path);
  g_rmdir (folder);
}

static void
init (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_dir_make_tmp ("kestrel-fuzz-image-XXXXXX", &error);

  fuzz_init_logging ();
  if (folder == NULL)
    {
      g_printerr ("%s\n", error->message);
      abort ();
    }
  /* The extension only picks nothing: gdk-pixbuf sniffs the bytes. */
  image_path = g_build_filename (folder, "image.png", NULL);
  atexit (remove_image_folder);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;

  if (image_path == NULL)
    init ();
  if (size > FUZZ_IMAGE_MAX_BYTES)
    return 0;
  if (!g_file_set_contents (image_path, (const char *) data, (gssize) size, &error))
    {
      g_printerr ("%s\n", error->message);
      abort ();
    }
  spec = g_strconcat ("images:", image_path, "?loop=0", NULL);
  fuzz_open_source (spec, 2);
  return 0;
}
