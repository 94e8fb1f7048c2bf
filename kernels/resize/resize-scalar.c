/* resize-scalar.c — the reference micro-kernels: the formulas of resize.h,
 * one byte at a time. Always built; the oracle of every other ISA. */
#include "resize.h"

void
kk_resize_vpass_u8s16__scalar (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                               uint32_t fy)
{
  for (size_t i = 0; i < n; i++)
    v[i] = kk_resize_vblend (s0[i], s1[i], fy);
}

/* One loop for every channel count; inlined with a constant c below. */
static inline void
hpass_generic (const int16_t *v, const int32_t *ofs, const uint32_t *w, uint8_t *dst, size_t n,
               size_t c)
{
  for (size_t i = 0; i < n; i++)
    {
      const int16_t *p = v + ofs[i];
      for (size_t k = 0; k < c; k++)
        dst[i * c + k] = kk_resize_hblend (p[k], p[c + k], w[i]);
    }
}

void
kk_resize_hpass_s16u8c1__scalar (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  hpass_generic (v, ofs, w, dst, n, 1);
}

void
kk_resize_hpass_s16u8c3__scalar (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  hpass_generic (v, ofs, w, dst, n, 3);
}

void
kk_resize_hpass_s16u8c4__scalar (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                 uint8_t *dst, size_t n)
{
  hpass_generic (v, ofs, w, dst, n, 4);
}

KK_RESIZE_DEFINE_ENTRY (scalar, kk_resize_vpass_u8s16__scalar, kk_resize_hpass_s16u8c1__scalar,
                        kk_resize_hpass_s16u8c3__scalar, kk_resize_hpass_s16u8c4__scalar)
