/* qdwconv-avx2.c — int8 depthwise convolution, 16 channels per block (two
 * ymm of s32 accumulators); scheme in qdwconv.h, requantisation as in
 * qgemm-avx2.c.
 *
 * Pixels whose whole window is inside the input (nearly all of them) take
 * a faster path: taps go in pairs through vpmaddwd, the bytes of the two
 * taps interleaved and zero-extended against weights interleaved the same
 * way once per row and block, and the zero point's share comes off the
 * starting sum (bias - zero_point * sum of the weights) rather than off
 * every input. Products and sums are exact, so the bits are the same.
 * Channels left over after the 16-channel blocks go through an 8-channel
 * block when there are 8 or fewer (interior_block8), else a 16-channel one
 * overlapping the last. Border pixels centre each input and multiply tap by
 * tap (block16). */
#include "qdwconv.h"

#include <immintrin.h>

/* floor ((acc * m + 2^(shift - 1)) / 2^shift), zero point, clamp */
static inline __m256i
requant8 (__m256i acc, const int32_t *mult, const kk_requant *rq)
{
  const __m256i m = _mm256_loadu_si256 ((const __m256i *) mult);
  const __m256i even = _mm256_mul_epi32 (acc, m);
  const __m256i odd = _mm256_mul_epi32 (_mm256_srli_epi64 (acc, 32), _mm256_srli_epi64 (m, 32));
  __m256i x = _mm256_blend_epi32 (_mm256_srli_epi64 (even, 32), odd, 0xAA);
  x = _mm256_add_epi32 (x, _mm256_set1_epi32 ((int32_t) (1u << (rq->shift - 33))));
  x = _mm256_sra_epi32 (x, _mm_cvtsi32_si128 ((int) (rq->shift - 32)));
  x = _mm256_add_epi32 (x, _mm256_set1_epi32 (rq->zero_point));
  return _mm256_min_epi32 (_mm256_max_epi32 (x, _mm256_set1_epi32 (rq->lo)), _mm256_set1_epi32 (rq->hi));
}

static inline void
block16 (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c, uint8_t *o)
{
  const __m256i zi = _mm256_set1_epi16 ((int16_t) p->input_zero_point);
  __m256i acc0 = _mm256_setzero_si256 (), acc1 = _mm256_setzero_si256 ();

  if (p->bias != NULL)
    {
      acc0 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c));
      acc1 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c + 8));
    }
  for (size_t i = 0; i < t->ny; i++)
    {
      const uint8_t *x = t->x + i * t->x_row + c;
      const int8_t *w = t->w + i * t->w_row + c;
      for (size_t j = 0; j < t->nx; j++, x += t->C, w += t->C)
        {
          __m256i xv = _mm256_sub_epi16 (_mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) x)), zi);
          __m256i wv = _mm256_cvtepi8_epi16 (_mm_loadu_si128 ((const __m128i *) w));
          __m256i prod = _mm256_mullo_epi16 (xv, wv);
          acc0 = _mm256_add_epi32 (acc0, _mm256_cvtepi16_epi32 (_mm256_castsi256_si128 (prod)));
          acc1 = _mm256_add_epi32 (acc1, _mm256_cvtepi16_epi32 (_mm256_extracti128_si256 (prod, 1)));
        }
    }

  const __m256i r0 = requant8 (acc0, p->requant.multiplier + c, &p->requant);
  const __m256i r1 = requant8 (acc1, p->requant.multiplier + c + 8, &p->requant);
  __m256i w16 = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (r0, r1), 0xD8);
  __m128i bytes = _mm_packus_epi16 (_mm256_castsi256_si128 (w16), _mm256_extracti128_si256 (w16, 1));
  _mm_storeu_si128 ((__m128i *) (o + c), bytes);
}

/* requantised 16 channels to o */
static inline void
store16 (const kk_qdwconv_params *p, __m256i acc0, __m256i acc1, size_t c, uint8_t *o)
{
  const __m256i r0 = requant8 (acc0, p->requant.multiplier + c, &p->requant);
  const __m256i r1 = requant8 (acc1, p->requant.multiplier + c + 8, &p->requant);
  __m256i w16 = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (r0, r1), 0xD8);
  _mm_storeu_si128 ((__m128i *) o, _mm_packus_epi16 (_mm256_castsi256_si128 (w16),
                                                     _mm256_extracti128_si256 (w16, 1)));
}

/* The interior fast path handles windows of up to this many taps. */
#define MAX_TAPS 49
#define MAX_PAIRS ((MAX_TAPS + 1) / 2)

/* Interior pixels [x_lo, x_hi) of one output row, channels [c, c + 16):
 * row_x points at input row iy0's channel 0 (iy0 >= 0, all kernel_h rows
 * inside). */
static void
interior_block (const kk_qdwconv_params *p, const uint8_t *row_x, size_t x_lo, size_t x_hi,
                size_t c, uint8_t *out_row, const size_t *offsets)
{
  const size_t C = p->channels, taps = p->kernel_h * p->kernel_w, pairs = (taps + 1) / 2;
  _Alignas (32) int16_t wpair[MAX_PAIRS][2][16];
  __m256i start0, start1;

  /* Weights of tap pairs interleaved (w_a[ch], w_b[ch]) as in the inputs
   * below, and the starting sums. */
  {
    __m256i sum0 = _mm256_setzero_si256 (), sum1 = _mm256_setzero_si256 ();
    for (size_t tp = 0; tp < pairs; tp++)
      {
        const __m128i wa = _mm_loadu_si128 ((const __m128i *) (p->weights + 2 * tp * C + c));
        const __m128i wb = 2 * tp + 1 < taps
                             ? _mm_loadu_si128 ((const __m128i *) (p->weights + (2 * tp + 1) * C + c))
                             : _mm_setzero_si128 ();
        const __m256i lo = _mm256_cvtepi8_epi16 (_mm_unpacklo_epi8 (wa, wb));
        const __m256i hi = _mm256_cvtepi8_epi16 (_mm_unpackhi_epi8 (wa, wb));
        _mm256_store_si256 ((__m256i *) wpair[tp][0], lo);
        _mm256_store_si256 ((__m256i *) wpair[tp][1], hi);
        sum0 = _mm256_add_epi32 (sum0, _mm256_madd_epi16 (lo, _mm256_set1_epi16 (1)));
        sum1 = _mm256_add_epi32 (sum1, _mm256_madd_epi16 (hi, _mm256_set1_epi16 (1)));
      }
    const __m256i zi = _mm256_set1_epi32 (p->input_zero_point);
    start0 = _mm256_mullo_epi32 (sum0, zi);
    start1 = _mm256_mullo_epi32 (sum1, zi);
    __m256i b0 = _mm256_setzero_si256 (), b1 = _mm256_setzero_si256 ();
    if (p->bias != NULL)
      {
        b0 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c));
        b1 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c + 8));
      }
    start0 = _mm256_sub_epi32 (b0, start0);
    start1 = _mm256_sub_epi32 (b1, start1);
  }

  const size_t step = p->stride_w * C;
  const uint8_t *x = row_x + (x_lo * p->stride_w - p->pad_left) * C + c;
  for (size_t ox = x_lo; ox < x_hi; ox++, x += step)
    {
      __m256i acc0 = start0, acc1 = start1;
      for (size_t tp = 0; tp < pairs; tp++)
        {
          const __m128i xa = _mm_loadu_si128 ((const __m128i *) (x + offsets[2 * tp]));
          const __m128i xb = 2 * tp + 1 < taps ? _mm_loadu_si128 ((const __m128i *) (x + offsets[2 * tp + 1]))
                                               : _mm_setzero_si128 ();
          acc0 = _mm256_add_epi32 (acc0, _mm256_madd_epi16 (_mm256_cvtepu8_epi16 (_mm_unpacklo_epi8 (xa, xb)),
                                                            _mm256_load_si256 ((const __m256i *) wpair[tp][0])));
          acc1 = _mm256_add_epi32 (acc1, _mm256_madd_epi16 (_mm256_cvtepu8_epi16 (_mm_unpackhi_epi8 (xa, xb)),
                                                            _mm256_load_si256 ((const __m256i *) wpair[tp][1])));
        }
      store16 (p, acc0, acc1, c, out_row + ox * C + c);
    }
}

/* As interior_block for the 8 channels [c, c + 8): the last ones of a
 * channel count that leaves 8 or fewer after the 16-channel blocks (24, 36,
 * 56, 72, 88 in BlazeFace), rather than a 16-channel block overlapping up
 * to 8 channels already done. One ymm holds 8 channels x a tap pair. */
static void
interior_block8 (const kk_qdwconv_params *p, const uint8_t *row_x, size_t x_lo, size_t x_hi,
                 size_t c, uint8_t *out_row, const size_t *offsets)
{
  const size_t C = p->channels, taps = p->kernel_h * p->kernel_w, pairs = (taps + 1) / 2;
  _Alignas (32) int16_t wpair[MAX_PAIRS][16];
  const __m256i gather = _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7);
  __m256i start, sum = _mm256_setzero_si256 ();

  for (size_t tp = 0; tp < pairs; tp++)
    {
      const __m128i wa = _mm_loadl_epi64 ((const __m128i *) (p->weights + 2 * tp * C + c));
      const __m128i wb = 2 * tp + 1 < taps
                           ? _mm_loadl_epi64 ((const __m128i *) (p->weights + (2 * tp + 1) * C + c))
                           : _mm_setzero_si128 ();
      const __m256i w = _mm256_cvtepi8_epi16 (_mm_unpacklo_epi8 (wa, wb));
      _mm256_store_si256 ((__m256i *) wpair[tp], w);
      sum = _mm256_add_epi32 (sum, _mm256_madd_epi16 (w, _mm256_set1_epi16 (1)));
    }
  start = _mm256_mullo_epi32 (sum, _mm256_set1_epi32 (p->input_zero_point));
  start = _mm256_sub_epi32 (p->bias != NULL ? _mm256_loadu_si256 ((const __m256i *) (p->bias + c))
                                            : _mm256_setzero_si256 (),
                            start);

  const size_t step = p->stride_w * C;
  const uint8_t *x = row_x + (x_lo * p->stride_w - p->pad_left) * C + c;
  for (size_t ox = x_lo; ox < x_hi; ox++, x += step)
    {
      __m256i acc = start;
      for (size_t tp = 0; tp < pairs; tp++)
        {
          const __m128i xa = _mm_loadl_epi64 ((const __m128i *) (x + offsets[2 * tp]));
          const __m128i xb = 2 * tp + 1 < taps ? _mm_loadl_epi64 ((const __m128i *) (x + offsets[2 * tp + 1]))
                                               : _mm_setzero_si128 ();
          acc = _mm256_add_epi32 (acc, _mm256_madd_epi16 (_mm256_cvtepu8_epi16 (_mm_unpacklo_epi8 (xa, xb)),
                                                          _mm256_load_si256 ((const __m256i *) wpair[tp])));
        }
      /* 0..255 after requant8: the saturating packs are exact; bytes 0-3
       * of each lane hold 4 channels, gathered to the low 8 bytes. */
      __m256i r = requant8 (acc, p->requant.multiplier + c, &p->requant);
      r = _mm256_permutevar8x32_epi32 (_mm256_packus_epi16 (_mm256_packs_epi32 (r, r), r), gather);
      _mm_storel_epi64 ((__m128i *) (out_row + ox * C + c), _mm256_castsi256_si128 (r));
    }
}

KK_QDWCONV_PIXEL_BLOCKS (pixel, 16, block16)

void
kk_qdwconv_u8_nhwc_avx2 (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                         size_t row_begin, size_t row_end)
{
  const size_t C = p->channels, taps = p->kernel_h * p->kernel_w;
  size_t x_lo, x_hi, offsets[MAX_TAPS];

  if (C < 16 || taps > MAX_TAPS)
    {
      KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
      return;
    }
  for (size_t ky = 0, i = 0; ky < p->kernel_h; ky++)
    for (size_t kx = 0; kx < p->kernel_w; kx++)
      offsets[i++] = (ky * p->in_w + kx) * C;
  kk_window_interior (p->out_w, p->in_w, p->kernel_w, p->stride_w, 1, p->pad_left, &x_lo, &x_hi);

  row_end = kk_qdwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      uint8_t *out_row = out + (r - p->out_row0) * p->out_w * C;
      const size_t n = r / p->out_h, oy = r % p->out_h;
      const ptrdiff_t iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
      const bool rows_inside = iy0 >= 0 && (size_t) iy0 + p->kernel_h <= p->in_h;
      const size_t lo = rows_inside ? x_lo : p->out_w, hi = rows_inside ? x_hi : p->out_w;

      for (size_t ox = 0; ox < p->out_w; ox++)
        {
          if (ox == lo)
            ox = hi;
          if (ox >= p->out_w)
            break;
          const kk_qdwconv_taps t = kk_qdwconv_taps_at (p, in, r, ox);
          pixel (p, &t, out_row + ox * C);
        }
      if (lo < hi)
        {
          const uint8_t *row_x = in + ((n * p->in_h + (size_t) iy0) * p->in_w) * C;
          size_t c = 0;
          for (; c + 16 <= C; c += 16)
            interior_block (p, row_x, lo, hi, c, out_row, offsets);
          if (c < C && C - c <= 8)
            interior_block8 (p, row_x, lo, hi, C - 8, out_row, offsets);
          else if (c < C)
            interior_block (p, row_x, lo, hi, C - 16, out_row, offsets);
        }
    }
}
