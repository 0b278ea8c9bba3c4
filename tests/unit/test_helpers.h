#pragma once
// Shared fixtures of the MeanField unit tests: random data and clouds, and the
// finite-difference checks every feature, loss and regularizer must pass.

#include <meanfield/base/random.h>
#include <meanfield/objective/dataset.h>
#include <meanfield/objective/objective.h>
#include <meanfield/objective/weighted_cloud.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

namespace MeanField::testing {
/// u = ε/2, the unit round-off of double: a rounded operation returns exact · (1 + δ), |δ| ≤ u.
/// Tolerances between two code paths are written in it (a sum of n terms in another order, with
/// or without fused multiply-adds, moves by ≲ n u times the sum of the terms' magnitudes).
inline constexpr double unit_roundoff = std::numeric_limits<double>::epsilon() / 2;

/// n points with i.i.d. N(0, 1) coordinates in R^p (optionally a constant last coordinate 1),
/// random targets and random positive weights summing to 1.
inline Dataset random_dataset(const unsigned int p, const std::size_t n, const std::uint64_t seed,
                              const bool bias = false, const bool binary_targets = false) {
  RandomStream random(seed);
  Dataset data;
  data.input_dim = p;
  std::vector<double> x(p);
  double total = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    for (unsigned int i = 0; i < p; ++i)
      x[i] = random.normal();
    if (bias)
      x[p - 1] = 1.0;
    const double y = binary_targets ? random.sign() : random.normal();
    const double rho = random.uniform(0.5, 1.5);
    total += rho;
    data.push_back(x.data(), rho, y);
  }
  for (double &rho : data.weights)
    rho /= total;
  return data;
}

/// Points s_k uniform in [0, 1) (not on a grid: tests must not rely on it).
inline Dataset random_torus_dataset(const std::size_t n, const std::uint64_t seed) {
  RandomStream random(seed);
  Dataset data;
  data.input_dim = 1;
  for (std::size_t k = 0; k < n; ++k) {
    const double s = random.uniform();
    data.push_back(&s, 1.0 / n, random.normal());
  }
  return data;
}

/// m points with N(0, scale²) coordinates and positive random weights of total mass `mass`.
inline WeightedCloud random_cloud(const unsigned int d, const std::size_t m,
                                  const std::uint64_t seed, const double scale = 1.0,
                                  const double mass = 1.0) {
  RandomStream random(seed);
  WeightedCloud cloud(d);
  std::vector<double> theta(d);
  double total = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    for (unsigned int i = 0; i < d; ++i)
      theta[i] = scale * random.normal();
    const double w = random.uniform(0.5, 1.5);
    total += w;
    cloud.push_back(theta.data(), w);
  }
  for (double &w : cloud.weights)
    w *= mass / total;
  return cloud;
}

/**
 * Compare an analytic gradient g of a scalar function f at x with centred finite
 * differences of step h: |g_i − FD_i| must be below tol · max(|g|_∞, |FD|_∞, floor).
 * Returns the largest relative error for reporting.
 */
inline double check_gradient(const std::function<double(const std::vector<double> &)> &f,
                             const std::vector<double> &x, const std::vector<double> &g,
                             const double tol = 1e-6, const double h = 1e-6,
                             const double floor = 1e-8) {
  std::vector<double> fd(x.size());
  double scale = floor;
  for (std::size_t i = 0; i < x.size(); ++i) {
    std::vector<double> xp(x), xm(x);
    xp[i] += h;
    xm[i] -= h;
    fd[i] = (f(xp) - f(xm)) / (2 * h);
    scale = std::max({scale, std::abs(fd[i]), std::abs(g[i])});
  }
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double error = std::abs(g[i] - fd[i]) / scale;
    worst = std::max(worst, error);
    EXPECT_LT(error, tol) << "coordinate " << i << ": analytic " << g[i] << ", finite difference "
                          << fd[i];
  }
  return worst;
}

/// max_i |a_i − b_i| / max(max_i |b_i|, floor)
inline double relative_difference(const std::vector<double> &a, const std::vector<double> &b,
                                  const double floor = 1e-300) {
  double diff = 0.0, scale = floor;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return diff / scale;
}
/**
 * S(θ) = Σ_k |h_k| (|φ(θ, x_k)| + Σ_i |θ_i ∂_iφ(θ, x_k)|) + |V(θ)|, h_k = ρ_k g_k: the size of the
 * terms of F'(μ)(θ) (M3) before they cancel, plus how far each moves when θ's coordinates are
 * perturbed by a relative round-off (the pre-activation w·x, the phase of e^{2iπ(s − x)}). Any two
 * evaluations of the data sum of n terms, in whatever order, agree to ~2 (n + c) u S.
 */
inline double first_variation_term_size(const Objective &objective, const Objective::State &state,
                                        const std::vector<double> &theta) {
  const unsigned int d = theta.size();
  double size = std::abs(objective.regularizer().value(theta.data(), d));
  const Dataset &data = objective.data();
  if (objective.feature() == nullptr || data.size() == 0)
    return size;
  std::vector<double> phi(data.size()), grad(data.size() * d);
  objective.feature()->evaluate(theta.data(), data, phi.data(), grad.data());
  for (std::size_t k = 0; k < data.size(); ++k) {
    double term = std::abs(phi[k]);
    for (unsigned int i = 0; i < d; ++i)
      term += std::abs(theta[i] * grad[k * d + i]);
    size += std::abs(state.weighted_residual[k]) * term;
  }
  return size;
}

/// F'(μ)(θ) at one point, from an evaluated state (M3).
inline double first_variation_at(const Objective &objective, const Objective::State &state,
                                 const std::vector<double> &theta) {
  PointSet point(theta.size());
  point.coordinates = theta;
  double value = 0.0;
  objective.first_variation(state, point, &value, nullptr);
  return value;
}
} // namespace MeanField::testing
