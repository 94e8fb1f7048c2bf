/* kestrel-engine-settings.h — the org.kestrel.Kestrel settings as an engine
 * configuration.
 *
 * The schema's enumeration nicks are the names kestrel-cli accepts, so a
 * setting reads the same in `gsettings`, on the command line and here.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-engine.h"

G_BEGIN_DECLS

/* Fills @config (kestrel_engine_config_init() it first) from @settings:
 *   model        front, back, or model-file's path;
 *   input_shapes for a model file whose picture input takes any size and
 *                an input-size "WxH": that input at that size; else none
 *                (the engine plans such a model at the frames' size);
 *   source       samples -> "images:" + kestrel_samples_get_dir (),
 *                folder -> "images:PATH", video -> "file:PATH",
 *                camera -> "camera:" or "camera:DEVICE";
 *   precision, level (by their nicks), threads (capped at the number of
 *   processors), batch, throttle mode and cpu-budget (percent of one
 *   core), canary-interval (frames; 0 = off), score-threshold (negative:
 *   the model's own).
 * A model or source kind that needs a path but has an empty one (nothing
 * was ever chosen) falls back to the front model or the sample photos, so
 * the engine runs rather than failing on a file called "". Paths that do
 * not exist are passed on: the engine names them in its error. */
void     kestrel_engine_config_from_settings (GSettings           *settings,
                                              KestrelEngineConfig *config);

/* The other way: makes the model, source, precision (and, for a model
 * file whose picture input takes any size, input-size) settings say what
 * @config (the engine's running configuration) runs, writing only the keys
 * that differ. After the engine refused a change (a model or a source it
 * cannot open), the rows show, and the settings keep, what still runs.
 * A source spec no setting can say (a CLI's synthetic:) is left alone. */
void     kestrel_engine_settings_apply_config (GSettings                 *settings,
                                               const KestrelEngineConfig *config);

/* The largest side input-size may give. */
#define KESTREL_ENGINE_SETTINGS_MAX_INPUT_SIDE 4096

/* "640x480" into 640, 480; FALSE for anything else ("" is the frames'
 * size). */
gboolean kestrel_engine_settings_parse_input_size (const char *text, guint *width, guint *height);

/* Whether the model the settings choose is a file whose picture input
 * takes any size (the input-size setting applies to it). */
gboolean kestrel_engine_settings_model_takes_any_size (GSettings *settings);

/* Whether @key is one of the keys above, whose change needs a
 * reconfiguration of the engine. */
gboolean kestrel_engine_settings_is_engine_key (const char *key);

G_END_DECLS
