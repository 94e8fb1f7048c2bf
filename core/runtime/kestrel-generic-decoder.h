/* kestrel-generic-decoder.h — the task decoder for models no plugin
 * decodes: the engine still runs them (frames, latency, processor and
 * memory are measured, the preview shows the frames), it only finds
 * nothing in them.
 *
 * It takes any model whose first input is a float32 image tensor with 3
 * channels, [1,3,H,W] or [1,H,W,3], and feeds it the frame's pixels scaled
 * to 0..1: the model's own normalisation is not known, so its outputs are
 * only as meaningful as that guess. What the outputs mean is not known
 * either, so no detection is made from them.
 */
#pragma once

#include "kestrel-plugin.h"

G_BEGIN_DECLS

extern const KestrelTaskDecoderVTable kestrel_generic_decoder_vtable;

G_END_DECLS
