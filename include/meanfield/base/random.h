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
/// The SplitMix64 finalizer (Steele, Lea & Flood 2014): a bijective 64-bit mixing function.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/**
 * A small counter-based stream: the SplitMix64 sequence started from a key hashed from (seed,
 * stream, counter). Particle i's noise in step n is CounterStream(seed, i, n), whatever rank
 * holds particle i: the same trajectories on any number of ranks, with 8 bytes of state instead
 * of one Mersenne twister per particle.
 */
class CounterStream {
public:
  CounterStream(const std::uint64_t seed, const std::uint64_t stream, const std::uint64_t counter)
      : state(mix64(mix64(mix64(seed ^ 0x6a09e667f3bcc909ULL) ^ stream) ^ counter)) {}

  std::uint64_t next() {
    state += 0x9e3779b97f4a7c15ULL;
    return mix64(state);
  }

  /// Uniform on [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Two independent standard normal variates (Box–Muller).
  void normal_pair(double &z0, double &z1) {
    double u1 = 0.0;
    while (u1 <= 0.0)
      u1 = uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * M_PI * uniform();
    z0 = radius * std::cos(angle);
    z1 = radius * std::sin(angle);
  }

private:
  std::uint64_t state;
};
} // namespace MeanField
