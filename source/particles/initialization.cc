#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/particles/initialization.h>

#include <deal.II/base/quadrature_lib.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace MeanField {
std::uint64_t particle_seed(const std::uint64_t seed, const std::uint64_t i) {
  // SplitMix64 (Steele, Lea & Flood 2014) of seed and index: decorrelated streams per particle
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + i + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double halton(std::uint64_t i, const unsigned int base) {
  // radical inverse of i in base b
  double value = 0.0, digit_weight = 1.0 / base;
  for (; i > 0; i /= base, digit_weight /= base)
    value += static_cast<double>(i % base) * digit_weight;
  return value;
}

PointSet initial_particles(const Problem &problem, const ParticleParameters &parameters,
                           const std::size_t first, const std::size_t count) {
  const unsigned int d = problem.dimension();
  const std::size_t m = parameters.n_particles;
  PointSet points(d, count);
  using Init = ParticleInitialization;
  const Init method = parameters.initialization;
  if (method == Init::evenly_spaced) {
    // the paper's deconvolution start: positions evenly spaced on the torus, weights r = 0
    const Domain box = problem.domain();
    for (std::size_t j = 0; j < count; ++j) {
      points[j][0] = box.lower[0] + (box.upper[0] - box.lower[0]) * (first + j + 0.5) / m;
      for (unsigned int i = 1; i < d; ++i)
        points[j][i] = 0.0;
    }
    return points;
  }
  if (method == Init::sphere || method == Init::iid) {
    for (std::size_t j = 0; j < count; ++j) {
      RandomStream random(particle_seed(parameters.seed, first + j));
      double *theta = points[j];
      if (method == Init::sphere) {
        double norm2 = 0.0;
        while (norm2 == 0.0) {
          norm2 = 0.0;
          for (unsigned int i = 0; i < d; ++i) {
            theta[i] = random.normal();
            norm2 += theta[i] * theta[i];
          }
        }
        const double scale = parameters.sphere_radius / std::sqrt(norm2);
        for (unsigned int i = 0; i < d; ++i)
          theta[i] *= scale;
      } else
        require(problem.sample_default_initial(random, theta),
                "Particles/Initialization = iid: the problem " + problem.name() +
                    " has no sampler for its mu0 in d = " + std::to_string(d) + ".");
    }
    return points;
  }
  throw InputError("Particles/Initialization = " + to_string(method) +
                   " needs a density on a box (d <= 3).");
}

namespace {
// μ0 on the Mesh box as a function of a plain coordinate array.
template <int dim>
struct BoxDensity {
  const InitialDensity<dim> &mu0;
  std::vector<double> lower, upper;

  double operator()(const double *theta) const {
    dealii::Point<dim> p;
    for (unsigned int i = 0; i < dim; ++i)
      p[i] = theta[i];
    return mu0.value(p);
  }
  // The bound M of the rejection sampler: twice the largest value at the midpoints of a 64^d
  // grid (checked while sampling).
  double rejection_bound() const {
    const unsigned int n = 64;
    std::size_t total = 1;
    for (unsigned int i = 0; i < dim; ++i)
      total *= n;
    double largest = 0.0;
    double theta[dim];
    for (std::size_t c = 0; c < total; ++c) {
      std::size_t index = c;
      for (unsigned int i = 0; i < dim; ++i, index /= n)
        theta[i] = lower[i] + (upper[i] - lower[i]) * (index % n + 0.5) / n;
      largest = std::max(largest, (*this)(theta));
    }
    require(largest > 0 && std::isfinite(largest),
            "Initial condition/Density has no positive finite value on the Mesh box: nothing "
            "to sample.");
    return 2.0 * largest;
  }
  // One rejection draw with proposals (u_1..u_d) and acceptance variable v: true if accepted.
  bool accept(const double *u, const double v, const double bound, double *theta) const {
    for (unsigned int i = 0; i < dim; ++i)
      theta[i] = lower[i] + (upper[i] - lower[i]) * u[i];
    const double value = (*this)(theta);
    require(value <= bound, "Initial condition/Density is too peaked for rejection sampling (a "
                            "value above twice its maximum on a 64^d grid): use Particles/"
                            "Initialization = pde density.");
    return v * bound < value;
  }
};

// The samplers of μ0 on the Mesh box: particles first, ..., first + count − 1 into points.
// iid: rejection against twice the maximum of μ0 on a 64^d grid, one stream per particle.
template <int dim>
void sample_iid(const BoxDensity<dim> &density, const ParticleParameters &parameters,
                const std::size_t first, const std::size_t count, PointSet &points) {
  const double bound = density.rejection_bound();
  for (std::size_t j = 0; j < count; ++j) {
    RandomStream random(particle_seed(parameters.seed, first + j));
    double u[dim];
    unsigned long attempts = 0;
    do {
      for (unsigned int i = 0; i < dim; ++i)
        u[i] = random.uniform();
      require(++attempts < 100000000, "Initial condition/Density: rejection sampling accepts "
                                      "nothing (is mu0 almost zero on the box?).");
    } while (!density.accept(u, random.uniform(), bound, points[j]));
  }
}

// quasi-random: the Halton sequence thinned by the same rejection.
template <int dim>
void sample_quasi_random(const BoxDensity<dim> &density, const std::size_t first,
                         const std::size_t count, PointSet &points) {
  // Halton in d + 1 dimensions (bases 2, 3, 5, 7): d for the proposal, one for acceptance
  const unsigned int bases[4] = {2, 3, 5, 7};
  const double bound = density.rejection_bound();
  std::size_t accepted = 0;
  double theta[dim], u[dim];
  for (std::uint64_t i = 1; accepted < first + count; ++i) {
    require(i < 1000000000ULL, "Initial condition/Density: quasi-random sampling accepts "
                               "nothing (is mu0 almost zero on the box?).");
    for (unsigned int k = 0; k < dim; ++k)
      u[k] = halton(i, bases[k]);
    if (!density.accept(u, halton(i, bases[dim]), bound, theta))
      continue;
    if (accepted >= first)
      std::copy(theta, theta + dim, points[accepted - first]);
    ++accepted;
  }
}

// quantiles (d = 1): the inverse CDF at the midpoints (i − 1/2)/m.
template <int dim>
void sample_quantiles(const BoxDensity<dim> &density, const std::size_t m, const std::size_t first,
                      const std::size_t count, PointSet &points) {
  require(dim == 1, "Particles/Initialization = quantiles needs d = 1.");
  // the CDF of μ0 at the midpoint-rule nodes of 2^16 cells, inverted linearly
  const std::size_t n = 1 << 16;
  const double a = density.lower[0], b = density.upper[0], h = (b - a) / n;
  std::vector<double> cdf(n + 1, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    const double x = a + (k + 0.5) * h;
    cdf[k + 1] = cdf[k] + density(&x) * h;
  }
  require(cdf[n] > 0, "Initial condition/Density integrates to zero on the Mesh box.");
  for (std::size_t j = 0; j < count; ++j) {
    const double level = cdf[n] * (first + j + 0.5) / m;
    const std::size_t k = std::min<std::size_t>(
        n - 1, std::upper_bound(cdf.begin(), cdf.end(), level) - cdf.begin() - 1);
    const double slope = cdf[k + 1] - cdf[k];
    points[j][0] = a + h * (k + (slope > 0 ? (level - cdf[k]) / slope : 0.5));
  }
}

// pde density: a cell of the Mesh lattice by its mass, then uniform inside it.
template <int dim>
void sample_pde_density(const BoxDensity<dim> &density, const ParticleParameters &parameters,
                        const PdeParameters &mesh, const std::size_t first, const std::size_t count,
                        PointSet &points) {
  // the finite-volume μ0: cell averages by Gauss quadrature on the Mesh lattice
  std::vector<unsigned int> n(dim);
  std::size_t total = 1;
  for (unsigned int i = 0; i < dim; ++i) {
    const unsigned int repetitions =
        mesh.subdivisions.size() == 1 ? mesh.subdivisions[0] : mesh.subdivisions[i];
    n[i] = repetitions << mesh.refinements;
    total *= n[i];
  }
  const dealii::QGauss<dim> quadrature(mesh.quadrature_points);
  std::vector<double> cumulative(total + 1, 0.0);
  auto corner = [&](std::size_t c, double *lower_corner) { // cell c, axis 0 fastest
    for (unsigned int i = 0; i < dim; ++i) {
      lower_corner[i] =
          density.lower[i] + (density.upper[i] - density.lower[i]) * (c % n[i]) / n[i];
      c /= n[i];
    }
  };
  double h[dim], x0[dim], theta[dim];
  for (unsigned int i = 0; i < dim; ++i)
    h[i] = (density.upper[i] - density.lower[i]) / n[i];
  for (std::size_t c = 0; c < total; ++c) {
    corner(c, x0);
    double mass = 0.0;
    for (unsigned int q = 0; q < quadrature.size(); ++q) {
      for (unsigned int i = 0; i < dim; ++i)
        theta[i] = x0[i] + h[i] * quadrature.point(q)[i];
      const double value = density(theta);
      require(std::isfinite(value) && value >= 0,
              "Initial condition/Density must be finite and non-negative on the Mesh box.");
      mass += quadrature.weight(q) * value;
    }
    cumulative[c + 1] = cumulative[c] + mass;
  }
  require(cumulative[total] > 0, "Initial condition/Density integrates to zero on the Mesh.");
  for (std::size_t j = 0; j < count; ++j) {
    RandomStream random(particle_seed(parameters.seed, first + j));
    const double level = cumulative[total] * random.uniform();
    // cumulative[c] <= level < cumulative[c + 1]: a cell of positive mass
    const std::size_t c =
        std::upper_bound(cumulative.begin(), cumulative.end(), level) - cumulative.begin() - 1;
    corner(std::min(c, total - 1), x0);
    for (unsigned int i = 0; i < dim; ++i)
      points[j][i] = x0[i] + h[i] * random.uniform();
  }
}
} // namespace

template <int dim>
PointSet initial_particles(const Problem &problem, const ParticleParameters &parameters,
                           const InitialDensity<dim> &mu0, const PdeParameters &mesh,
                           const std::size_t first, const std::size_t count) {
  using Init = ParticleInitialization;
  const Init method = parameters.initialization;
  if (method == Init::evenly_spaced || method == Init::sphere)
    return initial_particles(problem, parameters, first, count);
  const BoxDensity<dim> density{mu0, mesh.resolved_lower(problem), mesh.resolved_upper(problem)};
  PointSet points(dim, count);
  switch (method) {
  case Init::iid:
    sample_iid(density, parameters, first, count, points);
    break;
  case Init::quasi_random:
    sample_quasi_random(density, first, count, points);
    break;
  case Init::quantiles:
    sample_quantiles(density, parameters.n_particles, first, count, points);
    break;
  case Init::pde_density:
    sample_pde_density(density, parameters, mesh, first, count, points);
    break;
  default: // evenly spaced and sphere: above
    throw InputError("Particles/Initialization = " + to_string(method) + " is not known.");
  }
  return points;
}

template PointSet initial_particles<1>(const Problem &, const ParticleParameters &,
                                       const InitialDensity<1> &, const PdeParameters &,
                                       std::size_t, std::size_t);
template PointSet initial_particles<2>(const Problem &, const ParticleParameters &,
                                       const InitialDensity<2> &, const PdeParameters &,
                                       std::size_t, std::size_t);
template PointSet initial_particles<3>(const Problem &, const ParticleParameters &,
                                       const InitialDensity<3> &, const PdeParameters &,
                                       std::size_t, std::size_t);
} // namespace MeanField
