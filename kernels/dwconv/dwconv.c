/* Placeholder: the dwconv family is not written yet, so tables stay incomplete. */
#include "kk-internal.h"

void
kk_dwconv_fill (kk_kernels *table, kk_isa isa)
{
  (void) table;
  (void) isa;
}
void kk_dwconv_f32_pack_weights (const float *w, size_t c, size_t kh, size_t kw, float *p) { for (size_t ch = 0; ch < c; ch++) for (size_t i = 0; i < kh * kw; i++) p[i * c + ch] = w[ch * kh * kw + i]; }
