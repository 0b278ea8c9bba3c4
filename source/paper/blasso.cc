#include <meanfield/base/exceptions.h>
#include <meanfield/objective/features.h>
#include <meanfield/objective/loss.h>
#include <meanfield/paper/blasso.h>
#include <meanfield/paper/convex.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace MeanField {
namespace {
constexpr double two_pi = 6.283185307179586;

/// A measure Σ_j r_j δ_{x_j} as a cloud of unit-weight particles θ_j = (x_j, r_j).
WeightedCloud spikes_cloud(const std::vector<double> &x, const std::vector<double> &r) {
  WeightedCloud cloud(2);
  for (std::size_t j = 0; j < x.size(); ++j)
    cloud.push_back({x[j], r[j]}, 1.0);
  return cloud;
}

/// F of the spikes and its gradient in (x_1, r_1, x_2, r_2, ...): ∂F/∂θ_j = ∇F'(θ_j) (unit
/// weights).
double value_and_gradient(const Objective &objective, const std::vector<double> &x,
                          const std::vector<double> &r, std::vector<double> &gradient,
                          Objective::State &state) {
  const WeightedCloud cloud = spikes_cloud(x, r);
  state = objective.evaluate(cloud);
  std::vector<double> values(x.size());
  gradient.resize(2 * x.size());
  objective.first_variation(state, cloud.points, values.data(), gradient.data());
  return state.risk + state.potential;
}

/// The bound of sup_x |G(x)| of the class comment by branch and bound, with its lower bound
/// max|G(x_g)| and the node where it is attained.
struct SupBound {
  double upper = 0.0, lower = 0.0, argmax = 0.0;
  unsigned int nodes = 0;
};

SupBound certify_sup(const Objective &objective, const Objective::State &state,
                     const unsigned int degree, const double relative_slack) {
  struct Cell {
    double centre, width;
  };
  const unsigned int coarse = std::max(64u, 16u * degree);
  std::vector<Cell> cells(coarse);
  for (unsigned int c = 0; c < coarse; ++c)
    cells[c] = {(c + 0.5) / coarse, 1.0 / coarse};
  const double bernstein = two_pi * degree * two_pi * degree / 8.0; // b_c = bernstein w²
  SupBound result;
  std::vector<double> values, gradients;
  for (unsigned int level = 0; !cells.empty(); ++level) {
    PointSet nodes(2, cells.size());
    for (std::size_t c = 0; c < cells.size(); ++c) {
      nodes[c][0] = cells[c].centre;
      nodes[c][1] = 1.0; // a unit atom: the data part of F' is G(x), its x-derivative G'(x)
    }
    values.resize(cells.size());
    gradients.resize(2 * cells.size());
    objective.data_first_variation(state, nodes, values.data(), gradients.data());
    result.nodes += cells.size();
    for (std::size_t c = 0; c < cells.size(); ++c)
      if (std::abs(values[c]) > result.lower) {
        result.lower = std::abs(values[c]);
        result.argmax = cells[c].centre;
      }
    // S ≤ a_c / (1 − b_c) for the cell holding the maximum; split the cells whose bound is not
    // within the slack of the lower bound (those near a maximum, until w ~ √slack / (2πL))
    std::vector<Cell> open;
    double upper = 0.0;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const double w = cells[c].width, b = bernstein * w * w;
      const double bound =
          b < 0.5 ? (std::abs(values[c]) + std::abs(gradients[2 * c]) * w / 2) / (1.0 - b)
                  : std::numeric_limits<double>::infinity();
      if (bound <= result.lower * (1.0 + relative_slack) || level >= 40)
        upper = std::max(upper, bound);
      else {
        open.push_back({cells[c].centre - w / 4, w / 2});
        open.push_back({cells[c].centre + w / 4, w / 2});
      }
    }
    result.upper = std::max(result.upper, upper);
    cells.swap(open);
  }
  // cells closed early against a smaller lower bound stay valid: the bound is a max over cells
  result.upper = std::max(result.upper, result.lower);
  return result;
}

/// The dual value of the residual scaled into the constraint sup|G| ≤ λ (square loss; see
/// solve_weights): D(u) = −Σ_k (u_k y_k + u_k² / (2κρ_k)), u = s h, s = min(1, λ / sup|G|).
double dual_value(const Objective &objective, const Objective::State &state, const double lambda,
                  const double sup_bound) {
  const double kappa = objective.loss()->square_scale().value();
  const Dataset &data = objective.data();
  const double s = sup_bound > lambda ? lambda / sup_bound : 1.0;
  double dual = 0.0;
  for (std::size_t k = 0; k < data.size(); ++k) {
    const double u = s * state.weighted_residual[k];
    dual -= u * data.targets[k] + u * u / (2.0 * kappa * data.weights[k]);
  }
  return dual;
}

/// Cholesky solve of (H + μI) Δ = −g, μ raised until H + μI is positive definite; no step (zero)
/// if H or g is not finite or no μ up to 1e20 |H| helps (the caller's line search then stops).
std::vector<double> damped_newton_direction(std::vector<double> H, const std::vector<double> &g) {
  const std::size_t n = g.size();
  double scale = 0.0;
  bool finite = true;
  for (std::size_t i = 0; i < n; ++i) {
    scale = std::max(scale, std::abs(H[i * n + i]));
    finite = finite && std::isfinite(g[i]);
  }
  for (const double h : H)
    finite = finite && std::isfinite(h);
  if (!finite)
    return std::vector<double>(n, 0.0);
  for (double mu = 0.0; mu <= 1e20 * (scale + 1e-300);
       mu = mu == 0.0 ? 1e-10 * (scale + 1e-300) : 10.0 * mu) {
    std::vector<double> L(H);
    for (std::size_t i = 0; i < n; ++i)
      L[i * n + i] += mu;
    bool positive = true;
    for (std::size_t j = 0; j < n && positive; ++j) {
      for (std::size_t k = 0; k < j; ++k)
        L[j * n + j] -= L[j * n + k] * L[j * n + k];
      if (!(L[j * n + j] > 0.0)) {
        positive = false;
        break;
      }
      L[j * n + j] = std::sqrt(L[j * n + j]);
      for (std::size_t i = j + 1; i < n; ++i) {
        for (std::size_t k = 0; k < j; ++k)
          L[i * n + j] -= L[i * n + k] * L[j * n + k];
        L[i * n + j] /= L[j * n + j];
      }
    }
    if (!positive)
      continue;
    std::vector<double> z(n);
    for (std::size_t i = 0; i < n; ++i) { // L z = −g
      double s = -g[i];
      for (std::size_t k = 0; k < i; ++k)
        s -= L[i * n + k] * z[k];
      z[i] = s / L[i * n + i];
    }
    for (std::size_t i = n; i-- > 0;) { // Lᵀ Δ = z
      double s = z[i];
      for (std::size_t k = i + 1; k < n; ++k)
        s -= L[k * n + i] * z[k];
      z[i] = s / L[i * n + i];
    }
    return z;
  }
  return std::vector<double>(n, 0.0);
}

/// Newton's method on F(x_1, r_1, ...) with the signs of the r_j fixed (F is smooth there); the
/// Hessian by central differences of the exact gradient. A weight that would change sign is set
/// to 0 and its spike removed.
void newton_polish(const Objective &objective, std::vector<double> &x, std::vector<double> &r) {
  Objective::State state;
  std::vector<double> g, g_plus, g_minus, trial_g;
  for (unsigned int iteration = 0; iteration < 50 && !x.empty(); ++iteration) {
    const std::size_t n = 2 * x.size();
    const double F = value_and_gradient(objective, x, r, g, state);
    double g_norm = 0.0;
    for (const double v : g)
      g_norm = std::max(g_norm, std::abs(v));
    if (g_norm <= 1e-14 * std::max(F, 1.0))
      return;
    std::vector<double> H(n * n);
    const double delta = 1e-6;
    for (std::size_t c = 0; c < n; ++c) {
      std::vector<double> xp = x, rp = r, xm = x, rm = r;
      (c % 2 == 0 ? xp[c / 2] : rp[c / 2]) += delta;
      (c % 2 == 0 ? xm[c / 2] : rm[c / 2]) -= delta;
      value_and_gradient(objective, xp, rp, g_plus, state);
      value_and_gradient(objective, xm, rm, g_minus, state);
      for (std::size_t i = 0; i < n; ++i)
        H[i * n + c] = (g_plus[i] - g_minus[i]) / (2.0 * delta);
    }
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < i; ++c)
        H[i * n + c] = H[c * n + i] = 0.5 * (H[i * n + c] + H[c * n + i]);
    const std::vector<double> step = damped_newton_direction(H, g);
    // the largest step that keeps every sign, then backtracking (Armijo)
    double alpha = 1.0;
    std::size_t crossing = n;
    for (std::size_t j = 0; j < x.size(); ++j)
      if (r[j] * (r[j] + step[2 * j + 1]) < 0.0 && -r[j] / step[2 * j + 1] < alpha) {
        alpha = -r[j] / step[2 * j + 1];
        crossing = j;
      }
    double slope = 0.0;
    for (std::size_t i = 0; i < n; ++i)
      slope += g[i] * step[i];
    bool accepted = false;
    for (; alpha > 1e-12; alpha *= 0.5, crossing = n) {
      std::vector<double> xt = x, rt = r;
      for (std::size_t j = 0; j < x.size(); ++j) {
        xt[j] = xt[j] + alpha * step[2 * j];
        xt[j] -= std::floor(xt[j]);
        rt[j] = j == crossing ? 0.0 : rt[j] + alpha * step[2 * j + 1];
      }
      const double Ft = value_and_gradient(objective, xt, rt, trial_g, state);
      if (Ft <= F + 1e-4 * alpha * slope) {
        x.swap(xt);
        r.swap(rt);
        accepted = true;
        break;
      }
    }
    for (std::size_t j = x.size(); j-- > 0;)
      if (r[j] == 0.0) {
        x.erase(x.begin() + j);
        r.erase(r.begin() + j);
      }
    if (!accepted) // no decrease left at round-off
      return;
  }
}
} // namespace

BlassoSolution blasso_optimum(const Objective &objective, const double lambda,
                              const double tolerance, const unsigned int max_iterations) {
  const std::vector<double> coefficients = objective.feature()->cosine_coefficients();
  require(!coefficients.empty() && objective.loss()->square_scale() &&
              objective.n_parameters() == 2,
          "blasso_optimum: needs the sparse-deconvolution objective (a Fourier filter, the square "
          "loss, theta = (x, r)).");
  require(lambda > 0.0 && tolerance > 0.0, "blasso_optimum: lambda and the tolerance must be > 0.");
  const unsigned int degree = coefficients.size() - 1;

  BlassoSolution result;
  std::vector<double> &x = result.positions, &r = result.weights;
  std::vector<double> gradient;
  Objective::State state;
  for (unsigned int iteration = 0;; ++iteration) {
    result.value = value_and_gradient(objective, x, r, gradient, state);
    if (!std::isfinite(result.value))
      throw RunError("The BLASSO optimum F* cannot be computed: F is not finite (" +
                     std::to_string(result.value) +
                     "). The problem's scales (Loss scale, the weights of the ground truth) put F "
                     "beyond the range of double precision; lower them.");
    const SupBound sup = certify_sup(objective, state, degree, 0.25 * tolerance);
    result.lower_bound = dual_value(objective, state, lambda, sup.upper);
    result.certificate = sup.upper / lambda;
    result.grid_size = sup.nodes;
    result.iterations = iteration;
    if (result.gap() <= tolerance * result.value)
      return result;
    if (iteration == max_iterations)
      throw RunError("blasso_optimum: duality gap " + std::to_string(result.gap()) + " after " +
                     std::to_string(iteration) + " spikes (tolerance " + std::to_string(tolerance) +
                     " relative).");
    // Frank–Wolfe: a new spike where the certificate is violated most, then the weights of all
    // spikes (a small LASSO), then positions and weights together (the sliding step)
    if (sup.lower > lambda)
      x.push_back(sup.argmax);
    PointSet atoms(2, x.size());
    for (std::size_t j = 0; j < x.size(); ++j) {
      atoms[j][0] = x[j];
      atoms[j][1] = 1.0;
    }
    r = solve_weights(objective, atoms, lambda, 1e-13, 200000).weights;
    for (std::size_t j = x.size(); j-- > 0;)
      if (r[j] == 0.0) {
        x.erase(x.begin() + j);
        r.erase(r.begin() + j);
      }
    newton_polish(objective, x, r);
  }
}
} // namespace MeanField
