/* kestrel-preferences.h — the Preferences window: how far back the graphs
 * reach (history-points) and how often processor and memory use are
 * sampled (sample-interval-ms), bound both ways to the org.kestrel.Kestrel
 * settings the window follows. The tuning itself (model, level, budget...)
 * is in the window's controls, where its effect on the graphs is seen.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KESTREL_TYPE_PREFERENCES (kestrel_preferences_get_type ())

G_DECLARE_FINAL_TYPE (KestrelPreferences, kestrel_preferences, KESTREL, PREFERENCES,
                      AdwPreferencesWindow)

GtkWidget *kestrel_preferences_new (GtkWindow *parent,
                                    GSettings *settings);

G_END_DECLS
