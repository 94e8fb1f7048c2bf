/* kestrel-input-size-row.h — the controls' "Input Size" row: for a model
 * file whose picture input takes any size, the size it is planned at:
 * "Frame size" (the input-size setting empty: the engine follows the
 * frames, core/runtime/kestrel-frame-size.h) or one of a few common sizes
 * (the setting "WxH"). Hidden for models whose size is fixed. The
 * subtitle says what the engine plans at now.
 */
#pragma once

#include <adwaita.h>

#include "kestrel-engine.h"

G_BEGIN_DECLS

/* Fills the row from the settings and writes the setting when the user
 * picks another entry. */
void kestrel_input_size_row_setup (AdwComboRow *row, GSettings *settings);
/* Follows the input-size, model and model-file settings. */
void kestrel_input_size_row_sync (AdwComboRow *row, GSettings *settings);
/* The subtitle: the size the engine's plans have now. */
void kestrel_input_size_row_show_engine (AdwComboRow *row, KestrelEngine *engine);

G_END_DECLS
