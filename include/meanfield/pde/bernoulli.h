#pragma once

#include <cmath>

namespace MeanField {
/**
 * The Bernoulli function B(x) = x / (eˣ − 1) (B(0) = 1) at x and −x, for the Scharfetter–Gummel
 * flux (M13, doc/theory.md §7). From the positive argument a = |x| only: b = a/expm1(a) ∈ (0, 1]
 * is accurate for every a (no cancellation, overflow gives 0), and B(−a) = B(a) + a is a sum of
 * positive terms. One expm1 per face; B(x) eˣ = B(−x) holds to round-off, so the flux vanishes
 * on a discrete Gibbs state.
 */
inline void bernoulli_pair(const double x, double &at_x, double &at_minus_x) {
  const double a = std::abs(x);
  const double b = a == 0.0 ? 1.0 : a / std::expm1(a);
  at_x = x >= 0.0 ? b : b + a;
  at_minus_x = x >= 0.0 ? b + a : b;
}
} // namespace MeanField
