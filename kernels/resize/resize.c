/* resize.c — the ISA-independent half of bilinear resize: coordinates,
 * weights, column chunks and the row loop (see resize.h for the arithmetic),
 * and the fill function. Compiled with the scalar flags only; the ISA files
 * contribute micro-kernels through kk_resize_ukernels.
 */
#include "resize.h"

#include <string.h>

void
kk_resize_coord (size_t d, size_t src_size, size_t dst_size, size_t *i0, uint32_t *f)
{
  /* sx = num / den with num = (2d + 1) src - dst and den = 2 dst; exact in
   * 64 bits for any size below 2^31. */
  const uint64_t pos = (2 * (uint64_t) d + 1) * (uint64_t) src_size;
  const uint64_t den = 2 * (uint64_t) dst_size;

  if (pos <= dst_size)
    {
      /* At or left of the first centre: clamp. */
      *i0 = 0;
      *f = 0;
      return;
    }

  const uint64_t num = pos - dst_size;
  uint64_t q = num / den;
  /* den is even, so den / 2 is exactly one half: round half up. */
  uint64_t frac = ((num % den) * KK_RESIZE_ONE + den / 2) / den;

  if (frac == KK_RESIZE_ONE)
    {
      q++;
      frac = 0;
    }
  if (q >= src_size - 1)
    {
      /* At or right of the last centre: clamp, so x0 + 1 is never needed. */
      q = src_size - 1;
      frac = 0;
    }
  *i0 = (size_t) q;
  *f = (uint32_t) frac;
}

void
kk_resize_bilinear_u8_run (const kk_resize_ukernels *uk,
                           const uint8_t *src, size_t src_w, size_t src_h, size_t src_stride,
                           uint8_t *dst, size_t dst_w, size_t dst_h, size_t dst_stride,
                           size_t channels, size_t row_begin, size_t row_end)
{
  kk_resize_hpass_fn hpass;

  switch (channels)
    {
    case 1:
      hpass = uk->hpass_c1;
      break;
    case 3:
      hpass = uk->hpass_c3;
      break;
    case 4:
      hpass = uk->hpass_c4;
      break;
    default:
      return;
    }
  if (src_w == 0 || src_h == 0 || dst_w == 0)
    return;
  if (row_end > dst_h)
    row_end = dst_h;
  if (row_begin >= row_end)
    return;

  const size_t c = channels;
  int32_t ofs[KK_RESIZE_CHUNK_PX];
  uint32_t w[KK_RESIZE_CHUNK_PX];
  _Alignas (64) int16_t v[KK_RESIZE_SCRATCH + KK_RESIZE_SCRATCH_TAIL];

  for (size_t x = 0; x < dst_w;)
    {
      size_t lo, hi, n = 0;
      uint32_t f;

      /* Grow the chunk while its source span, plus the copy of the last
       * pixel, fits the scratch row. The first pixel always fits (its span
       * is at most 2 pixels), so every chunk makes progress. */
      kk_resize_coord (x, src_w, dst_w, &lo, &f);
      hi = lo;
      while (x + n < dst_w && n < KK_RESIZE_CHUNK_PX)
        {
          size_t x0;
          uint32_t fx;

          kk_resize_coord (x + n, src_w, dst_w, &x0, &fx);
          const size_t x1 = fx != 0 ? x0 + 1 : x0;
          if ((x1 - lo + 2) * c > KK_RESIZE_SCRATCH)
            break;
          if (x1 > hi)
            hi = x1;
          ofs[n] = (int32_t) ((x0 - lo) * c);
          w[n] = (KK_RESIZE_ONE - fx) | (fx << 16);
          n++;
        }

      const size_t span = (hi - lo + 1) * c;
      /* Only ever multiplied by zero weights or shuffled away, but keep
       * them defined so no ISA reads indeterminate memory. */
      memset (v + span + c, 0, KK_RESIZE_SCRATCH_TAIL * sizeof v[0]);

      for (size_t y = row_begin; y < row_end; y++)
        {
          size_t y0;
          uint32_t fy;

          kk_resize_coord (y, src_h, dst_h, &y0, &fy);
          const size_t y1 = fy != 0 ? y0 + 1 : y0;
          uk->vpass (src + y0 * src_stride + lo * c, src + y1 * src_stride + lo * c, v, span, fy);
          memcpy (v + span, v + span - c, c * sizeof v[0]);
          hpass (v, ofs, w, dst + y * dst_stride + x * c, n);
        }
      x += n;
    }
}

void
kk_resize_fill (kk_kernels *table, kk_isa isa)
{
  table->resize_bilinear_u8 = kk_resize_bilinear_u8__scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->resize_bilinear_u8 = kk_resize_bilinear_u8__sse42;
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->resize_bilinear_u8 = kk_resize_bilinear_u8__avx2;
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->resize_bilinear_u8 = kk_resize_bilinear_u8__avx512;
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->resize_bilinear_u8 = kk_resize_bilinear_u8__neon;
#endif
}
