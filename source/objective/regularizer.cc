#include <meanfield/base/exceptions.h>
#include <meanfield/objective/regularizer.h>

#include <cmath>
#include <string>

namespace MeanField {
namespace {
// out[q · stride] += f[a] for every grid point q, a = the index of θ_i(q) on axis i: runs of
// stride(i) consecutive points share it on a full tensor grid (unit-stride loops), the index
// table gives it otherwise. For a V (or ∂V) that depends on one coordinate.
void add_axis_function(const GridPointSet &grid, const unsigned int i, const std::vector<double> &f,
                       double *out, const std::size_t stride = 1) {
  const std::size_t n = grid.size();
  if (grid.full_tensor) {
    const std::size_t run = grid.stride(i);
    for (std::size_t start = 0, b = 0; start < n; start += run, ++b) {
      const double v = f[b % f.size()];
      if (stride == 1) // the unit-stride loop the compiler vectorizes
        for (std::size_t q = start; q < start + run; ++q)
          out[q] += v;
      else
        for (std::size_t q = start; q < start + run; ++q)
          out[q * stride] += v;
    }
    return;
  }
  const unsigned int d = grid.dim();
  for (std::size_t q = 0; q < n; ++q)
    out[q * stride] += f[grid.index[q * d + i]];
}
// f(q) for every grid point q whose coordinate i has index a on its axis.
template <typename Function>
void for_each_point_on_axis_value(const GridPointSet &grid, const unsigned int i,
                                  const std::size_t a, const Function &f) {
  const std::size_t n = grid.size();
  if (grid.full_tensor) {
    const std::size_t run = grid.stride(i), period = run * grid.axes[i].size();
    for (std::size_t start = a * run; start < n; start += period)
      for (std::size_t q = start; q < start + run; ++q)
        f(q);
    return;
  }
  const unsigned int d = grid.dim();
  for (std::size_t q = 0; q < n; ++q)
    if (grid.index[q * d + i] == a)
      f(q);
}

// The minimal-norm element of g + λ[−1, 1] (the subdifferential of the data part g plus λ|r|
// at r = 0): soft-thresholding of g.
inline double soft_threshold(const double g, const double lambda) {
  return g > lambda ? g - lambda : (g < -lambda ? g + lambda : 0.0);
}
} // namespace

void Regularizer::add_to(const PointSet &queries, double *values, double *gradients) const {
  const unsigned int d = queries.dim;
  std::vector<double> g(d);
  for (std::size_t q = 0; q < queries.size(); ++q) {
    values[q] += value(queries[q], d);
    if (gradients != nullptr) {
      gradient(queries[q], d, g.data());
      for (unsigned int i = 0; i < d; ++i)
        gradients[q * d + i] += g[i];
    }
  }
}

void Regularizer::add_to(const GridPointSet &queries, double *values, double *gradients) const {
  const unsigned int d = queries.dim();
  std::vector<double> theta(d), g(d);
  queries.for_each_point([&](const std::size_t q, const std::uint32_t *k) {
    for (unsigned int i = 0; i < d; ++i)
      theta[i] = queries.axes[i][k[i]];
    values[q] += value(theta.data(), d);
    if (gradients != nullptr) {
      gradient(theta.data(), d, g.data());
      for (unsigned int i = 0; i < d; ++i)
        gradients[q * d + i] += g[i];
    }
  });
}

void Regularizer::add_partial(const GridPointSet &queries, const unsigned int i,
                              double *out) const {
  const unsigned int d = queries.dim();
  std::vector<double> theta(d), g(d);
  queries.for_each_point([&](const std::size_t q, const std::uint32_t *k) {
    for (unsigned int j = 0; j < d; ++j)
      theta[j] = queries.axes[j][k[j]];
    gradient(theta.data(), d, g.data());
    out[q] += g[i];
  });
}

double Regularizer::integrate(const GridPointSet &points, const double *weights) const {
  std::vector<double> values(points.size(), 0.0);
  add_to(points, values.data(), nullptr);
  double sum = 0.0;
  for (std::size_t q = 0; q < points.size(); ++q)
    sum += weights[q] * values[q];
  return sum;
}

double Regularizer::integrate(const WeightedCloud &cloud) const {
  double sum = 0.0;
  for (std::size_t j = 0; j < cloud.size(); ++j)
    sum += cloud.weights[j] * value(cloud.position(j), cloud.dim());
  return sum;
}

void NoRegularizer::gradient(const double *, const unsigned int dim, double *gradient) const {
  for (unsigned int i = 0; i < dim; ++i)
    gradient[i] = 0.0;
}

// ------------------------------------------------------------------ λ|θ_c|

L1Coordinate::L1Coordinate(const unsigned int coordinate, const double lambda,
                           const double huber_width)
    : c(coordinate)
    , lambda(lambda)
    , huber(huber_width) {
  require(lambda >= 0, "The l1 regularization strength must be non-negative.");
  require(huber_width >= 0, "The Huber width must be non-negative.");
}

std::vector<Kink> L1Coordinate::kinks() const {
  if (huber > 0 || lambda == 0)
    return {};
  return {Kink{c, 0.0, "the l1 penalty"}};
}

double L1Coordinate::value_of(const double signed_r) const {
  const double r = std::abs(signed_r);
  if (huber > 0 && r <= huber)
    return lambda * r * r / (2 * huber);
  return lambda * (huber > 0 ? r - 0.5 * huber : r);
}

double L1Coordinate::derivative_of(const double r) const {
  if (huber > 0 && std::abs(r) <= huber)
    return lambda * r / huber;
  return lambda * ((r > 0) - (r < 0)); // sign(0) = 0
}

double L1Coordinate::value(const double *theta, const unsigned int) const {
  return value_of(theta[c]);
}

void L1Coordinate::add_to(const PointSet &queries, double *values, double *gradients) const {
  const unsigned int d = queries.dim;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const double r = queries[q][c];
    values[q] += value_of(r);
    if (gradients == nullptr)
      continue;
    double &g = gradients[q * d + c];
    g = on_kink(r) ? soft_threshold(g, lambda) : g + derivative_of(r);
  }
}

double L1Coordinate::integrate(const GridPointSet &points, const double *weights) const {
  const std::vector<double> &axis = points.axes[c];
  std::vector<double> V(axis.size());
  for (std::size_t j = 0; j < axis.size(); ++j)
    V[j] = value_of(axis[j]);
  const std::size_t n = points.size();
  double sum = 0.0;
  if (points.full_tensor) {
    // coordinate c is constant on runs of stride(c) consecutive points
    const std::size_t run = points.stride(c);
    for (std::size_t start = 0, b = 0; start < n; start += run, ++b) {
      double partial = 0.0;
#pragma omp simd reduction(+ : partial)
      for (std::size_t q = start; q < start + run; ++q)
        partial += weights[q];
      sum += V[b % axis.size()] * partial;
    }
    return sum;
  }
  const unsigned int d = points.dim();
  const std::uint32_t *index = points.index.data() + c;
  for (std::size_t q = 0; q < n; ++q)
    sum += weights[q] * V[index[q * d]];
  return sum;
}

void L1Coordinate::add_to(const GridPointSet &queries, double *values, double *gradients) const {
  // V depends on one coordinate: evaluate it once per distinct value of that coordinate
  const std::vector<double> &axis = queries.axes[c];
  std::vector<double> V(axis.size()), dV(axis.size());
  for (std::size_t j = 0; j < axis.size(); ++j) {
    V[j] = value_of(axis[j]);
    dV[j] = derivative_of(axis[j]);
  }
  add_axis_function(queries, c, V, values);
  if (gradients == nullptr)
    return;
  add_axis_function(queries, c, dV, gradients + c, queries.dim());
  const unsigned int d = queries.dim();
  for (std::size_t j = 0; j < axis.size(); ++j)
    if (on_kink(axis[j]))
      for_each_point_on_axis_value(queries, c, j, [&](const std::size_t q) {
        gradients[q * d + c] = soft_threshold(gradients[q * d + c], lambda);
      });
}

void L1Coordinate::add_partial(const GridPointSet &queries, const unsigned int i,
                               double *out) const {
  if (i != c)
    return; // V depends on θ_c only
  const std::vector<double> &axis = queries.axes[c];
  std::vector<double> dV(axis.size());
  for (std::size_t j = 0; j < axis.size(); ++j)
    dV[j] = derivative_of(axis[j]);
  add_axis_function(queries, c, dV, out);
  for (std::size_t j = 0; j < axis.size(); ++j)
    if (on_kink(axis[j]))
      for_each_point_on_axis_value(
          queries, c, j, [&](const std::size_t q) { out[q] = soft_threshold(out[q], lambda); });
}

void L1Coordinate::gradient(const double *theta, const unsigned int dim, double *gradient) const {
  for (unsigned int i = 0; i < dim; ++i)
    gradient[i] = 0.0;
  gradient[c] = derivative_of(theta[c]);
}

void L1Coordinate::prox(double *theta, const unsigned int, const double eta) const {
  const double v = theta[c];
  const double t = eta * lambda;
  if (huber > 0 && std::abs(v) <= huber + t)
    theta[c] = v / (1.0 + t / huber); // prox of the quadratic part of the Huber function
  else
    theta[c] = std::abs(v) <= t ? 0.0 : v - std::copysign(t, v); // soft-thresholding
}

// ------------------------------------------------------------------ ½ Σ K_i (θ_i − c_i)²

QuadraticPotential::QuadraticPotential(std::vector<double> stiffness, std::vector<double> center)
    : K(std::move(stiffness))
    , c(std::move(center)) {
  require(K.size() == c.size(),
          "Quadratic potential: stiffness and center must have the same length.");
  for (const double k : K)
    require(k >= 0 && std::isfinite(k),
            "Quadratic potential: stiffness values must be non-negative.");
}

QuadraticPotential QuadraticPotential::weight_decay(const unsigned int dim, const double lambda) {
  return QuadraticPotential(std::vector<double>(dim, lambda), std::vector<double>(dim, 0.0));
}

double QuadraticPotential::value(const double *theta, const unsigned int dim) const {
  double v = 0.0;
  for (unsigned int i = 0; i < dim; ++i)
    v += K[i] * (theta[i] - c[i]) * (theta[i] - c[i]);
  return 0.5 * v;
}

void QuadraticPotential::gradient(const double *theta, const unsigned int dim,
                                  double *gradient) const {
  for (unsigned int i = 0; i < dim; ++i)
    gradient[i] = K[i] * (theta[i] - c[i]);
}

void QuadraticPotential::prox(double *theta, const unsigned int dim, const double eta) const {
  for (unsigned int i = 0; i < dim; ++i)
    theta[i] = (theta[i] + eta * K[i] * c[i]) / (1.0 + eta * K[i]);
}

void QuadraticPotential::add_to(const PointSet &queries, double *values, double *gradients) const {
  const unsigned int d = queries.dim;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const double *theta = queries[q];
    double v = 0.0;
    for (unsigned int i = 0; i < d; ++i) {
      const double delta = theta[i] - c[i];
      v += K[i] * delta * delta;
      if (gradients != nullptr)
        gradients[q * d + i] += K[i] * delta;
    }
    values[q] += 0.5 * v;
  }
}
} // namespace MeanField

namespace MeanField {
void QuadraticPotential::add_to(const GridPointSet &queries, double *values,
                                double *gradients) const {
  const unsigned int d = queries.dim();
  queries.for_each_point([&](const std::size_t q, const std::uint32_t *k) {
    double v = 0.0;
    for (unsigned int i = 0; i < d; ++i) {
      const double delta = queries.axes[i][k[i]] - c[i];
      v += K[i] * delta * delta;
      if (gradients != nullptr)
        gradients[q * d + i] += K[i] * delta;
    }
    values[q] += 0.5 * v;
  });
}

void QuadraticPotential::add_partial(const GridPointSet &queries, const unsigned int i,
                                     double *out) const {
  // ∂_i V = K_i (θ_i − c_i): one value per entry of axis i
  const std::vector<double> &axis = queries.axes[i];
  std::vector<double> dV(axis.size());
  for (std::size_t j = 0; j < axis.size(); ++j)
    dV[j] = K[i] * (axis[j] - c[i]);
  add_axis_function(queries, i, dV, out);
}
} // namespace MeanField
