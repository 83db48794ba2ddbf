// NETLITE_UNROLL(n): `#pragma GCC unroll n` for the SIMD micro-kernels, as a macro so
// that sanitizer builds can drop it. Unrolling changes code size, never results: under
// ASan+UBSan every unrolled load and index gets its own check, and clang spent 89 s of
// CI's sanitizer build on the AVX-512 depthwise kernel alone (6 s without the pragmas).
// The sanitizers still check every access of the same source; only the release build
// needs the unrolled code.
#ifndef NETLITE_KERNELS_UNROLL_H_
#define NETLITE_KERNELS_UNROLL_H_

#if !defined(NETLITE_SANITIZER_BUILD)
#if defined(__SANITIZE_ADDRESS__)
#define NETLITE_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define NETLITE_SANITIZER_BUILD 1
#endif
#endif
#endif

#define NETLITE_PRAGMA_(x) _Pragma(#x)
#if defined(NETLITE_SANITIZER_BUILD) || !(defined(__GNUC__) || defined(__clang__))
#define NETLITE_UNROLL(n)
#else
#define NETLITE_UNROLL(n) NETLITE_PRAGMA_(GCC unroll n)
#endif

#endif  // NETLITE_KERNELS_UNROLL_H_
