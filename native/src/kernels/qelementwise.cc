#include "qelementwise.h"

namespace netlite {
namespace kernels {
namespace qelementwise_detail {

inline bool use_simd(QIsa isa) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  return (isa == QIsa::Auto || isa == QIsa::Avx512Vnni) && x86::qelementwise_avx512_usable();
#else
  (void)isa;
  return false;
#endif
}

}  // namespace qelementwise_detail

void qadd_reference(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p) {
  for (int64_t i = 0; i < n; ++i) y[i] = qadd_one(a[i], b[i], p);
}

void qadd(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const QAddParams& p, QIsa isa) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  if (qelementwise_detail::use_simd(isa)) return x86::qadd_avx512(a, b, y, n, p);
#endif
  (void)isa;
  qadd_reference(a, b, y, n, p);
}

void qlookup_reference(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table) {
  for (int64_t i = 0; i < n; ++i) y[i] = table[x[i]];
}

void qlookup(const uint8_t* x, uint8_t* y, int64_t n, const uint8_t* table, QIsa isa) {
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
  if (qelementwise_detail::use_simd(isa)) return x86::qlookup_avx512(x, y, n, table);
#endif
  (void)isa;
  qlookup_reference(x, y, n, table);
}

int64_t qsum(const uint8_t* x, int64_t n, bool is_signed) {
  int64_t s = 0;
  if (is_signed) {
    const int8_t* p = reinterpret_cast<const int8_t*>(x);
    for (int64_t i = 0; i < n; ++i) s += p[i];
  } else {
    for (int64_t i = 0; i < n; ++i) s += x[i];
  }
  return s;
}

}  // namespace kernels
}  // namespace netlite
