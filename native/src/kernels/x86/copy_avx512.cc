// AVX-512 VBMI form of the channel de-interleave (see kernels/copy.h): 64 bytes
// or 16 dwords of each output plane per step, each gathered from the C source
// vectors that hold those pixels by two-source permutes (vpermt2b / vpermt2d),
// a third and fourth source merged by mask when C > 2. Tails use masked loads
// and stores, so no byte outside src or dst is touched.
#include "../copy.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)

#include <immintrin.h>

// GCC 12 reports the intrinsics' internal _mm512_undefined_*() values as maybe
// uninitialized once they are inlined into these target functions: a false positive.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace netlite {
namespace kernels {
namespace x86 {

#define NETLITE_COPY_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

bool deinterleave_avx512_usable() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  return ok;
}

namespace copy_avx512_detail {

// Bytes: lane i of plane c is source byte i * C + c of the step's 64 * C bytes.
template <int C>
NETLITE_COPY_TARGET void bytes(const uint8_t* src, int64_t n, uint8_t* dst, int64_t plane) {
  __m512i idx[C];
  __mmask64 high[C];  // lanes whose byte lies in the 3rd / 4th source vector
  for (int c = 0; c < C; ++c) {
    alignas(64) uint8_t b[64];
    high[c] = 0;
    for (int i = 0; i < 64; ++i) {
      const int at = i * C + c;
      b[i] = uint8_t(at & 127);
      if (at >= 128) high[c] |= __mmask64(1) << i;
    }
    idx[c] = _mm512_load_si512(b);
  }
  for (int64_t j = 0; j < n; j += 64) {
    const int64_t left = n - j, bytes_left = left * C;
    __m512i v[4];
    for (int s = 0; s < C; ++s) {
      const int64_t in = bytes_left - 64 * s;
      const __mmask64 m = in >= 64 ? ~__mmask64(0) : in <= 0 ? 0 : (__mmask64(1) << in) - 1;
      v[s] = _mm512_maskz_loadu_epi8(m, src + j * C + 64 * s);
    }
    const __mmask64 out = left >= 64 ? ~__mmask64(0) : (__mmask64(1) << left) - 1;
    for (int c = 0; c < C; ++c) {
      __m512i r = _mm512_permutex2var_epi8(v[0], idx[c], C > 1 ? v[1] : v[0]);
      if (C > 2) r = _mm512_mask_mov_epi8(r, high[c], _mm512_permutex2var_epi8(v[2], idx[c], C > 3 ? v[3] : v[2]));
      _mm512_mask_storeu_epi8(dst + c * plane + j, out, r);
    }
  }
}

// Dwords: lane i of plane c is source dword i * C + c of the step's 16 * C dwords.
template <int C>
NETLITE_COPY_TARGET void dwords(const uint32_t* src, int64_t n, uint32_t* dst, int64_t plane) {
  __m512i idx[C];
  __mmask16 high[C];
  for (int c = 0; c < C; ++c) {
    alignas(64) uint32_t b[16];
    high[c] = 0;
    for (int i = 0; i < 16; ++i) {
      const int at = i * C + c;
      b[i] = uint32_t(at & 31);
      if (at >= 32) high[c] = __mmask16(high[c] | (1u << i));
    }
    idx[c] = _mm512_load_si512(b);
  }
  for (int64_t j = 0; j < n; j += 16) {
    const int64_t left = n - j, words_left = left * C;
    __m512i v[4];
    for (int s = 0; s < C; ++s) {
      const int64_t in = words_left - 16 * s;
      const __mmask16 m = in >= 16 ? __mmask16(0xFFFF) : in <= 0 ? __mmask16(0) : __mmask16((1u << in) - 1u);
      v[s] = _mm512_maskz_loadu_epi32(m, src + j * C + 16 * s);
    }
    const __mmask16 out = left >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    for (int c = 0; c < C; ++c) {
      __m512i r = _mm512_permutex2var_epi32(v[0], idx[c], C > 1 ? v[1] : v[0]);
      if (C > 2) r = _mm512_mask_mov_epi32(r, high[c], _mm512_permutex2var_epi32(v[2], idx[c], C > 3 ? v[3] : v[2]));
      _mm512_mask_storeu_epi32(dst + c * plane + j, out, r);
    }
  }
}

}  // namespace copy_avx512_detail

bool deinterleave_avx512(size_t elem_size, int64_t C, int64_t n, const void* src, void* dst, int64_t plane) {
  using namespace copy_avx512_detail;
  const uint8_t* s8 = static_cast<const uint8_t*>(src);
  uint8_t* d8 = static_cast<uint8_t*>(dst);
  const uint32_t* s32 = static_cast<const uint32_t*>(src);
  uint32_t* d32 = static_cast<uint32_t*>(dst);
  if (elem_size == 1) {
    switch (C) {
      case 2: bytes<2>(s8, n, d8, plane); return true;
      case 3: bytes<3>(s8, n, d8, plane); return true;
      case 4: bytes<4>(s8, n, d8, plane); return true;
      default: return false;
    }
  }
  if (elem_size == 4) {
    switch (C) {
      case 2: dwords<2>(s32, n, d32, plane); return true;
      case 3: dwords<3>(s32, n, d32, plane); return true;
      case 4: dwords<4>(s32, n, d32, plane); return true;
      default: return false;
    }
  }
  return false;
}

#undef NETLITE_COPY_TARGET

}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#else

namespace netlite {
namespace kernels {
namespace x86 {
bool deinterleave_avx512_usable() { return false; }
bool deinterleave_avx512(size_t, int64_t, int64_t, const void*, void*, int64_t) { return false; }
}  // namespace x86
}  // namespace kernels
}  // namespace netlite

#endif
