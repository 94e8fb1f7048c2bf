/* cpu.c — CPU feature detection, once.
 *
 * On x86 a feature counts only if the CPU reports it (CPUID) *and* the OS
 * saves the register state it needs (XCR0 via XGETBV): a CPU with AVX-512
 * under an OS or hypervisor that does not enable ZMM state must not run
 * AVX-512 code. On aarch64 the kernel's HWCAP bits already mean both.
 */
#include "kk-internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if KK_ARCH_X86
#include <cpuid.h>
#endif
#if KK_ARCH_ARM64
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1 << 10)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP_SVE
#define HWCAP_SVE (1 << 22)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#ifndef HWCAP2_BF16
#define HWCAP2_BF16 (1 << 14)
#endif
#endif

static kk_cpu_features features;
static pthread_once_t features_once = PTHREAD_ONCE_INIT;

#if KK_ARCH_X86
static uint64_t
read_xcr0 (void)
{
  uint32_t eax, edx;
  /* XGETBV with ECX = 0; encoded by hand so no -mxsave is needed here. */
  __asm__ volatile (".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t) edx << 32) | eax;
}

static void
detect_x86 (kk_cpu_features *f)
{
  unsigned a, b, c, d;
  unsigned max_leaf = __get_cpuid_max (0, NULL);

  if (max_leaf == 0)
    return;
  __cpuid (0, a, b, c, d);
  memcpy (f->vendor + 0, &b, 4);
  memcpy (f->vendor + 4, &d, 4);
  memcpy (f->vendor + 8, &c, 4);
  f->vendor[12] = '\0';

  __cpuid (1, a, b, c, d);
  unsigned base_family = (a >> 8) & 0xf;
  unsigned base_model = (a >> 4) & 0xf;
  f->stepping = a & 0xf;
  f->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
  f->model = (base_family == 0x6 || base_family == 0xf)
             ? (((a >> 16) & 0xf) << 4) | base_model : base_model;

  f->sse2 = (d >> 26) & 1;
  f->ssse3 = (c >> 9) & 1;
  f->sse41 = (c >> 19) & 1;
  f->sse42 = (c >> 20) & 1;
  f->popcnt = (c >> 23) & 1;
  bool osxsave = (c >> 27) & 1;
  bool cpu_avx = (c >> 28) & 1;
  bool cpu_fma = (c >> 12) & 1;
  bool cpu_f16c = (c >> 29) & 1;

  uint64_t xcr0 = osxsave ? read_xcr0 () : 0;
  f->os_ymm = (xcr0 & 0x6) == 0x6;                /* XMM + YMM */
  f->os_zmm = f->os_ymm && (xcr0 & 0xe0) == 0xe0; /* opmask + ZMM_Hi256 + Hi16_ZMM */
  bool os_amx = (xcr0 & 0x60000) == 0x60000;

  f->avx = cpu_avx && f->os_ymm;
  f->fma = cpu_fma && f->os_ymm;
  f->f16c = cpu_f16c && f->os_ymm;

  if (max_leaf >= 7)
    {
      __cpuid_count (7, 0, a, b, c, d);
      f->avx2 = ((b >> 5) & 1) && f->os_ymm;
      f->bmi2 = (b >> 8) & 1;
      f->avx512f = ((b >> 16) & 1) && f->os_zmm;
      f->avx512dq = ((b >> 17) & 1) && f->os_zmm;
      f->avx512cd = ((b >> 28) & 1) && f->os_zmm;
      f->avx512bw = ((b >> 30) & 1) && f->os_zmm;
      f->avx512vl = ((b >> 31) & 1) && f->os_zmm;
      f->avx512_vnni = ((c >> 11) & 1) && f->os_zmm;
      f->avx512_fp16 = ((d >> 23) & 1) && f->os_zmm;
      f->amx_tile = ((d >> 24) & 1) && os_amx;
      unsigned subleaves = a;
      if (subleaves >= 1)
        {
          __cpuid_count (7, 1, a, b, c, d);
          f->avx_vnni = ((a >> 4) & 1) && f->os_ymm;
          f->avx512_bf16 = ((a >> 5) & 1) && f->os_zmm;
        }
    }

  unsigned max_ext = __get_cpuid_max (0x80000000, NULL);
  if (max_ext >= 0x80000004)
    {
      unsigned *brand = (unsigned *) (void *) f->brand;
      for (unsigned leaf = 0; leaf < 3; leaf++)
        __cpuid (0x80000002 + leaf, brand[leaf * 4 + 0], brand[leaf * 4 + 1],
                 brand[leaf * 4 + 2], brand[leaf * 4 + 3]);
      f->brand[48] = '\0';
      /* Brand strings are padded with spaces on some CPUs. */
      size_t len = strlen (f->brand);
      while (len > 0 && f->brand[len - 1] == ' ')
        f->brand[--len] = '\0';
      size_t lead = strspn (f->brand, " ");
      memmove (f->brand, f->brand + lead, len - lead + 1);
    }
}
#endif

#if KK_ARCH_ARM64
static void
detect_arm64 (kk_cpu_features *f)
{
  unsigned long hwcap = getauxval (AT_HWCAP);
  unsigned long hwcap2 = getauxval (AT_HWCAP2);

  f->neon = (hwcap & HWCAP_ASIMD) != 0;
  f->asimd_dotprod = (hwcap & HWCAP_ASIMDDP) != 0;
  f->asimd_fp16 = (hwcap & HWCAP_ASIMDHP) != 0;
  f->sve = (hwcap & HWCAP_SVE) != 0;
  f->i8mm = (hwcap2 & HWCAP2_I8MM) != 0;
  f->bf16 = (hwcap2 & HWCAP2_BF16) != 0;
}
#endif

static void
detect (void)
{
#if KK_ARCH_X86
  detect_x86 (&features);
#elif KK_ARCH_ARM64
  detect_arm64 (&features);
#endif
}

const kk_cpu_features *
kk_cpu_features_get (void)
{
  pthread_once (&features_once, detect);
  return &features;
}

size_t
kk_cpu_feature_names (const char **names, size_t max)
{
  const kk_cpu_features *f = kk_cpu_features_get ();
  const struct { bool on; const char *name; } all[] = {
    { f->sse2, "sse2" }, { f->ssse3, "ssse3" }, { f->sse41, "sse4.1" },
    { f->sse42, "sse4.2" }, { f->popcnt, "popcnt" }, { f->avx, "avx" },
    { f->avx2, "avx2" }, { f->fma, "fma" }, { f->f16c, "f16c" }, { f->bmi2, "bmi2" },
    { f->avx512f, "avx512f" }, { f->avx512bw, "avx512bw" }, { f->avx512vl, "avx512vl" },
    { f->avx512dq, "avx512dq" }, { f->avx512cd, "avx512cd" },
    { f->avx512_vnni, "avx512_vnni" }, { f->avx512_bf16, "avx512_bf16" },
    { f->avx512_fp16, "avx512_fp16" }, { f->avx_vnni, "avx_vnni" },
    { f->amx_tile, "amx_tile" }, { f->neon, "neon" }, { f->asimd_dotprod, "asimddp" },
    { f->asimd_fp16, "asimdhp" }, { f->sve, "sve" }, { f->i8mm, "i8mm" }, { f->bf16, "bf16" },
  };
  size_t count = 0;

  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
    if (all[i].on)
      {
        if (count < max)
          names[count] = all[i].name;
        count++;
      }
  return count;
}

static const char *const isa_names[KK_ISA_COUNT] = {
  [KK_ISA_SCALAR] = "scalar",
  [KK_ISA_SSE42] = "sse4.2",
  [KK_ISA_AVX2] = "avx2",
  [KK_ISA_AVX512] = "avx512",
  [KK_ISA_NEON] = "neon",
};

const char *
kk_isa_name (kk_isa isa)
{
  return (unsigned) isa < KK_ISA_COUNT ? isa_names[isa] : "unknown";
}

bool
kk_isa_from_name (const char *name, kk_isa *out)
{
  if (name == NULL)
    return false;
  for (int i = 0; i < KK_ISA_COUNT; i++)
    if (strcmp (name, isa_names[i]) == 0)
      {
        *out = (kk_isa) i;
        return true;
      }
  /* Accept the spellings people type. */
  if (strcmp (name, "sse42") == 0 || strcmp (name, "sse4_2") == 0)
    {
      *out = KK_ISA_SSE42;
      return true;
    }
  if (strcmp (name, "avx-512") == 0 || strcmp (name, "avx512f") == 0)
    {
      *out = KK_ISA_AVX512;
      return true;
    }
  return false;
}

bool
kk_cpu_use_avx512_vnni (void)
{
  const char *env = getenv ("KESTREL_NO_VNNI");
  if (env != NULL && env[0] != '\0' && strcmp (env, "0") != 0)
    return false;
  return kk_cpu_features_get ()->avx512_vnni;
}

bool
kk_isa_hw_supported (kk_isa isa)
{
  const kk_cpu_features *f = kk_cpu_features_get ();

  switch (isa)
    {
    case KK_ISA_SCALAR:
      return true;
    case KK_ISA_SSE42:
      return KK_ARCH_X86 && f->sse42 && f->ssse3 && f->popcnt;
    case KK_ISA_AVX2:
      return kk_isa_hw_supported (KK_ISA_SSE42) && f->avx2 && f->fma && f->f16c;
    case KK_ISA_AVX512:
      return kk_isa_hw_supported (KK_ISA_AVX2) && f->avx512f && f->avx512bw
             && f->avx512vl && f->avx512dq;
    case KK_ISA_NEON:
      return KK_ARCH_ARM64 && f->neon;
    case KK_ISA_COUNT:
    default:
      return false;
    }
}

static kk_isa best_isa;
static const char *override_error;
static char override_error_buf[160];
static pthread_once_t best_once = PTHREAD_ONCE_INIT;

static void
choose_best (void)
{
  kk_isa hw = KK_ISA_SCALAR;

  if (kk_isa_hw_supported (KK_ISA_NEON))
    hw = KK_ISA_NEON;
  for (kk_isa isa = KK_ISA_SSE42; isa <= KK_ISA_AVX512; isa++)
    if (kk_isa_hw_supported (isa))
      hw = isa;

  best_isa = hw;

  const char *env = getenv ("KESTREL_ISA");
  if (env == NULL || *env == '\0')
    return;

  kk_isa wanted;
  if (!kk_isa_from_name (env, &wanted))
    {
      snprintf (override_error_buf, sizeof override_error_buf,
                "KESTREL_ISA=%s is not an instruction set "
                "(expected scalar, sse4.2, avx2, avx512 or neon); using %s",
                env, kk_isa_name (hw));
      override_error = override_error_buf;
    }
  else if (!kk_isa_hw_supported (wanted) || !kk_isa_includes (hw, wanted))
    {
      snprintf (override_error_buf, sizeof override_error_buf,
                "KESTREL_ISA=%s is not supported by this CPU; using %s",
                env, kk_isa_name (hw));
      override_error = override_error_buf;
    }
  else
    best_isa = wanted;
}

kk_isa
kk_isa_best (void)
{
  pthread_once (&best_once, choose_best);
  return best_isa;
}

const char *
kk_isa_override_error (void)
{
  pthread_once (&best_once, choose_best);
  return override_error;
}
