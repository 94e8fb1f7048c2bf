/* kestrel-samples.h — where the bundled sample photos are.
 *
 * The application's default source ("samples") is these photos, so a new
 * user sees faces found without choosing anything. The folder is the first
 * of:
 *   - $KESTREL_SAMPLES_DIR, when set and not empty (tests, packagers);
 *   - the installed datadir/kestrel/samples, when it exists;
 *   - the source tree's data/samples, for uninstalled runs from the build
 *     folder.
 * data/samples/README.md names each photo, its author and licence.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

const char *kestrel_samples_get_dir (void);
/* The frame source for the samples: a slideshow that shows each photo for
 * a few seconds (images:DIR?hold=SECONDS), so the preview can be watched.
 * With @repeat FALSE each photo is given to the pipeline once (repeat=0),
 * which is what a throttled, frugal run wants; with TRUE the pipeline runs
 * the photo shown frame after frame, as fast as it may. */
char       *kestrel_samples_dup_source_spec (gboolean repeat);

G_END_DECLS
