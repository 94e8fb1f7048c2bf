/* eltwise.c — puts the best elementwise kernels for an ISA into a table. */
#include "eltwise.h"

void
kk_eltwise_fill (kk_kernels *table, kk_isa isa)
{
  table->add_clamp_f32 = kk_add_clamp_f32_scalar;
  table->clamp_f32 = kk_clamp_f32_scalar;
  table->sigmoid_f32 = kk_sigmoid_f32_scalar;
  table->silu_f32 = kk_silu_f32_scalar;
  table->softmax_f32 = kk_softmax_f32_scalar;
  table->binary_f32 = kk_binary_f32_scalar;
  table->hard_gate_f32 = kk_hard_gate_f32_scalar;

#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    {
      table->add_clamp_f32 = kk_add_clamp_f32_sse42;
      table->clamp_f32 = kk_clamp_f32_sse42;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    {
      table->add_clamp_f32 = kk_add_clamp_f32_avx2;
      table->clamp_f32 = kk_clamp_f32_avx2;
      table->sigmoid_f32 = kk_sigmoid_f32_avx2;
      table->silu_f32 = kk_silu_f32_avx2;
      table->softmax_f32 = kk_softmax_f32_avx2;
      table->binary_f32 = kk_binary_f32_avx2;
      table->hard_gate_f32 = kk_hard_gate_f32_avx2;
    }
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    {
      table->add_clamp_f32 = kk_add_clamp_f32_avx512;
      table->clamp_f32 = kk_clamp_f32_avx512;
      table->sigmoid_f32 = kk_sigmoid_f32_avx512;
      table->silu_f32 = kk_silu_f32_avx512;
      table->softmax_f32 = kk_softmax_f32_avx512;
      table->binary_f32 = kk_binary_f32_avx512;
      table->hard_gate_f32 = kk_hard_gate_f32_avx512;
    }
#endif

#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    {
      table->add_clamp_f32 = kk_add_clamp_f32_neon;
      table->clamp_f32 = kk_clamp_f32_neon;
    }
#endif
}
