#pragma once

#include <cmath>
#include <complex>
#include <vector>

namespace MeanField {
namespace internal {
constexpr int turn_table_size = 1024;

/// e^{2iπ j/N}, j = 0..N−1, from the libm cos and sin (computed once).
inline const std::vector<std::complex<double>> &turn_table() {
  static const std::vector<std::complex<double>> table = [] {
    std::vector<std::complex<double>> t(turn_table_size);
    for (int j = 0; j < turn_table_size; ++j)
      t[j] = std::complex<double>(std::cos(2 * M_PI * j / turn_table_size),
                                  std::sin(2 * M_PI * j / turn_table_size));
    return t;
  }();
  return table;
}
} // namespace internal

/**
 * e^{2iπx} for any x without a libm call (about 4× cheaper than sincos, which dominated the
 * particle steps of sparse deconvolution): x N = j + ρ with |ρ| ≤ ½ (both exact, N = 1024 a power
 * of 2), e^{2iπj/N} from a table times the Taylor series of e^{iθ}, θ = 2πρ/N, |θ| ≤ π/1024, to
 * θ⁸ (remainder < 1e-24). A few ulp at most (tests/unit/test_features.cc).
 */
inline std::complex<double> exp_2i_pi(const double x) {
  using internal::turn_table_size;
  const double scaled = x * turn_table_size;
  const double j = std::nearbyint(scaled);
  const double theta = (scaled - j) * (2 * M_PI / turn_table_size);
  const double t2 = theta * theta;
  const double c = 1 + t2 * (-1.0 / 2 + t2 * (1.0 / 24 + t2 * (-1.0 / 720 + t2 * (1.0 / 40320))));
  const double s = theta * (1 + t2 * (-1.0 / 6 + t2 * (1.0 / 120 + t2 * (-1.0 / 5040))));
  const std::complex<double> &e =
      internal::turn_table()[static_cast<long long>(j) & (turn_table_size - 1)];
  return {e.real() * c - e.imag() * s, e.real() * s + e.imag() * c};
}
} // namespace MeanField
