#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace MeanField {
/**
 * A seeded random stream whose draws are the same on every platform and every
 * MPI rank: std::mt19937_64 is fully specified by the standard, and the uniform
 * and normal variates are computed here (the std:: distributions are not
 * portable between standard libraries).
 */
class RandomStream {
public:
  explicit RandomStream(const std::uint64_t seed)
      : engine(seed) {}

  /// Uniform on [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(engine() >> 11) * 0x1.0p-53; }

  /// Uniform on [a, b).
  double uniform(const double a, const double b) { return a + (b - a) * uniform(); }

  /// Standard normal variate (Box-Muller; the second variate is kept for the next call).
  double normal() {
    if (has_spare) {
      has_spare = false;
      return spare;
    }
    double u1 = 0.0;
    while (u1 <= 0.0)
      u1 = uniform();
    const double u2 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double angle = 2.0 * M_PI * u2;
    spare = radius * std::sin(angle);
    has_spare = true;
    return radius * std::cos(angle);
  }

  /// +1 or -1 with probability 1/2 each.
  double sign() { return (engine() >> 63) ? 1.0 : -1.0; }

  /// Uniform integer in {0, ..., n-1}.
  std::uint64_t index(const std::uint64_t n) { return static_cast<std::uint64_t>(uniform() * n); }

private:
  std::mt19937_64 engine;
  double spare = 0.0;
  bool has_spare = false;
};
} // namespace MeanField
