#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/objective/loss.h>
#include <meanfield/paper/convex.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
namespace {
// The risk R(Σ_j c_j φ(θ_j, ·)), its gradient ∂R/∂c_j = Σ_k h_k φ(θ_j, x_k) and the state.
struct Risk {
  const Objective &objective;
  WeightedCloud cloud;

  double operator()(const std::vector<double> &c, std::vector<double> &gradient,
                    Objective::State &state) {
    cloud.weights = c;
    state = objective.evaluate(cloud);
    gradient.resize(c.size());
    objective.data_first_variation(state, cloud.points, gradient.data(), nullptr);
    return state.risk;
  }
};

double l1_norm(const std::vector<double> &c) {
  double s = 0.0;
  for (const double v : c)
    s += std::abs(v);
  return s;
}

// The Lipschitz constant of ∇R: power iteration on c ↦ ∇R(c) − ∇R(0) (the Hessian for the square
// loss; for the logistic loss its value at f = 0, the largest).
double gradient_lipschitz_constant(Risk &risk, const std::vector<double> &g0, const std::size_t M,
                                   Objective::State &state) {
  std::vector<double> v(M), g;
  RandomStream random(12345);
  for (double &vi : v)
    vi = random.normal();
  double lambda_max = 0.0;
  for (unsigned int k = 0; k < 50; ++k) {
    double norm = 0.0;
    for (const double vi : v)
      norm += vi * vi;
    norm = std::sqrt(norm);
    for (double &vi : v)
      vi /= norm;
    risk(v, g, state);
    double rayleigh = 0.0;
    for (std::size_t j = 0; j < M; ++j) {
      v[j] = g[j] - g0[j];
      rayleigh += v[j] * v[j];
    }
    lambda_max = std::sqrt(rayleigh);
  }
  return lambda_max;
}
} // namespace

ConvexResult solve_weights(const Objective &objective, const PointSet &positions, const double l1,
                           const double tolerance, const unsigned int max_iterations) {
  const std::size_t M = positions.size();
  require(M > 0, "solve_weights: no positions.");
  Risk risk{objective, WeightedCloud(positions.dim)};
  risk.cloud.points = positions;
  Objective::State state;
  std::vector<double> g0, g, x(M, 0.0), y(M, 0.0), x_new(M);
  risk(x, g0, state);

  const double L = 1.05 * gradient_lipschitz_constant(risk, g0, M, state) + 1e-300;

  const std::optional<double> square = objective.loss()->square_scale();
  const Dataset &data = objective.data();
  ConvexResult result;
  double t = 1.0, previous_value = std::numeric_limits<double>::max();
  for (unsigned int it = 1; it <= max_iterations; ++it) {
    // FISTA: a proximal gradient step from the extrapolated point, soft-thresholding by l1/L
    risk(y, g, state);
    for (std::size_t j = 0; j < M; ++j) {
      const double z = y[j] - g[j] / L, threshold = l1 / L;
      x_new[j] = std::abs(z) <= threshold ? 0.0 : z - std::copysign(threshold, z);
    }
    const double t_new = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
    for (std::size_t j = 0; j < M; ++j)
      y[j] = x_new[j] + (t - 1.0) / t_new * (x_new[j] - x[j]);
    x.swap(x_new);
    t = t_new;
    result.iterations = it;
    if (it % 20 != 0 && it != max_iterations)
      continue;
    // the value at x and a certificate
    const double value = risk(x, g, state) + l1 * l1_norm(x);
    result.value = value;
    bool converged = false;
    if (square && l1 > 0) {
      // dual point u = h = ρ κ (f − y), scaled into ‖Ψᵀu‖_∞ ≤ λ; D(u) = −Σ u²/(2κρ) + u y
      double largest = 0.0;
      for (const double gj : g)
        largest = std::max(largest, std::abs(gj));
      const double s = largest > l1 ? l1 / largest : 1.0, kappa = *square;
      double dual = 0.0;
      for (std::size_t k = 0; k < data.size(); ++k) {
        const double u = s * state.weighted_residual[k];
        dual -= u * u / (2.0 * kappa * data.weights[k]) + u * data.targets[k];
      }
      result.gap = value - dual;
      converged = result.gap <= tolerance * std::max(value, 1e-300);
    } else { // no certificate: stop when the value stalls
      result.gap = std::numeric_limits<double>::quiet_NaN();
      converged = std::abs(previous_value - value) <= tolerance * std::max(value, 1e-300);
    }
    // adaptive restart (O'Donoghue & Candès 2015): FISTA stays monotone between checks
    if (value > previous_value) {
      y = x;
      t = 1.0;
    }
    previous_value = value;
    if (converged)
      break;
  }
  result.weights = x;
  return result;
}

double blasso_grid_optimum(const Objective &objective, const double lambda, const double tolerance,
                           const unsigned int initial_grid, unsigned int &grid_size) {
  double previous = std::numeric_limits<double>::quiet_NaN();
  for (unsigned int M = initial_grid;; M *= 2) {
    PointSet grid(2, M);
    for (unsigned int j = 0; j < M; ++j) {
      grid[j][0] = static_cast<double>(j) / M;
      grid[j][1] = 1.0; // a unit atom: φ = ψ(s − x)
    }
    const ConvexResult r = solve_weights(objective, grid, lambda, 0.1 * tolerance, 2000000);
    grid_size = M;
    if (std::abs(r.value - previous) <= tolerance * r.value || M >= (1u << 20))
      return r.value;
    previous = r.value;
  }
}
} // namespace MeanField
