/* kestrel-plugin-private.h — shared between the plugin registry, task
 * decoders and frame sources; not installed. */
#pragma once

#include "kestrel-plugin.h"

G_BEGIN_DECLS

/* Whether a graph value fits a pattern; when not, a phrase saying why
 * ("shape [1,896,16], expected [1,-1,1]") goes to *why. */
gboolean kestrel_tensor_pattern_match_value (const KestrelTensorPattern *pattern,
                                             const KestrelValue *value, char **why);
/* "float32[1,-1,1] 'name'" for messages. */
char *kestrel_tensor_pattern_describe (const KestrelTensorPattern *pattern);

/* Maps every pattern to a distinct value of `values` (indices into it, in
 * pattern order), trying the values in order for each pattern. FALSE with
 * the reason in *why when a pattern has no value left. */
gboolean kestrel_tensor_patterns_assign (const KestrelTensorPattern *patterns, guint n_patterns,
                                         const KestrelValue *const *values, guint n_values,
                                         guint *assigned, char **why);

/* The first frame source whose accepts() takes `spec`, or NULL. */
const KestrelFrameSourceVTable *kestrel_plugin_registry_find_frame_source_for_spec (KestrelPluginRegistry *self,
                                                                                   const char *spec);

G_END_DECLS
