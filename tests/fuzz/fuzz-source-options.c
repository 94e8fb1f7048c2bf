/* fuzz-source-options.c — the option strings of the frame sources
 * ("images:DIR?loop=0&hold=2.5", "synthetic:?width=64&format=gray"): the
 * first byte picks the source, the rest is the text after its name. The
 * source is opened through the plugin registry, as `kestrel-cli run
 * --source` does, and asked for two frames.
 *
 * Only the sources that read no device and start no GStreamer pipeline
 * take fuzzed text: images (its location fixed to the fuzz corpus of
 * photos, which FUZZ_IMAGES_DIR names, so the fuzzer does not wander the
 * file system) and synthetic. The option syntax they parse is the one the
 * GStreamer sources share (plugins/sources/sources-common.c).
 */
#include "config.h"

#include <string.h>

#include "fuzz-target.h"

#define FUZZ_OPTIONS_MAX_BYTES 4096

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *spec = NULL;
  g_autofree char *text = NULL;

  fuzz_init_logging ();
  if (size < 1 || size > FUZZ_OPTIONS_MAX_BYTES)
    return 0;
  /* Option strings are text: a NUL ends them. */
  text = g_strndup ((const char *) data + 1, size - 1);
  if (data[0] & 1)
    spec = g_strconcat ("synthetic:", text, NULL);
  else
    spec = g_strconcat ("images:", FUZZ_IMAGES_DIR, text, NULL);

  fuzz_open_source (spec, 2);
  return 0;
}
