#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/base/random.h>
#include <meanfield/compare/metrics.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace MeanField {

double prediction_distance(const Objective::State &mu, const Objective::State &nu,
                           const Dataset &data) {
  double sum = 0.0;
  for (std::size_t k = 0; k < data.size(); ++k) {
    const double difference = mu.prediction[k] - nu.prediction[k];
    sum += data.weights[k] * difference * difference;
  }
  return std::sqrt(sum);
}

double mmd_exact(const WeightedCloud &mu, const WeightedCloud &nu, const double bandwidth,
                 MPI_Comm comm) {
  require(mu.dim() == nu.dim(), "MMD: the two measures live in different dimensions.");
  require(bandwidth > 0, "MMD: the bandwidth must be positive.");
  const unsigned int d = mu.dim();
  // the signed measure μ − ν, gathered on every rank
  std::vector<double> points = mu.points.coordinates, weights = mu.weights;
  points.insert(points.end(), nu.points.coordinates.begin(), nu.points.coordinates.end());
  for (const double w : nu.weights)
    weights.push_back(-w);
  points = gather_all(points, comm);
  weights = gather_all(weights, comm);
  const std::size_t n = weights.size();
  // rows split over the ranks; ∫∫k d(μ−ν)d(μ−ν) = Σ_i c_i (c_i + 2 Σ_{j>i} c_j k_ij)
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm);
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  const double scale = -0.5 / (bandwidth * bandwidth);
  double local = 0.0;
  for (std::size_t i = n * rank / n_ranks; i < n * (rank + 1) / n_ranks; ++i) {
    const double *x = points.data() + i * d;
    double row = 0.0;
    for (std::size_t j = i + 1; j < n; ++j) {
      const double *y = points.data() + j * d;
      double distance2 = 0.0;
      for (unsigned int k = 0; k < d; ++k)
        distance2 += (x[k] - y[k]) * (x[k] - y[k]);
      row += weights[j] * std::exp(scale * distance2);
    }
    local += weights[i] * (weights[i] + 2.0 * row);
  }
  return std::sqrt(std::max(0.0, dealii::Utilities::MPI::sum(local, comm)));
}

double mmd_random_features(const WeightedCloud &mu, const WeightedCloud &nu, const double bandwidth,
                           const unsigned int n_features, const std::uint64_t seed, MPI_Comm comm) {
  require(mu.dim() == nu.dim(), "MMD: the two measures live in different dimensions.");
  require(bandwidth > 0 && n_features > 0,
          "MMD: the bandwidth and the number of features must be positive.");
  const unsigned int d = mu.dim();
  RandomStream random(seed);
  std::vector<double> omega(static_cast<std::size_t>(n_features) * d);
  for (double &o : omega)
    o = random.normal() / bandwidth;
  // (Re, Im) of μ̂(ω) − ν̂(ω) for every frequency
  std::vector<double> transform(2 * n_features, 0.0);
  auto add = [&](const WeightedCloud &cloud, const double sign) {
    for (unsigned int f = 0; f < n_features; ++f) {
      const double *w = omega.data() + static_cast<std::size_t>(f) * d;
      double re = 0.0, im = 0.0;
      for (std::size_t j = 0; j < cloud.size(); ++j) {
        const double *theta = cloud.position(j);
        double phase = 0.0;
        for (unsigned int k = 0; k < d; ++k)
          phase += w[k] * theta[k];
        re += cloud.weights[j] * std::cos(phase);
        im += cloud.weights[j] * std::sin(phase);
      }
      transform[2 * f] += sign * re;
      transform[2 * f + 1] += sign * im;
    }
  };
  add(mu, 1.0);
  add(nu, -1.0);
  dealii::Utilities::MPI::sum(transform, comm, transform);
  double sum = 0.0;
  for (const double t : transform)
    sum += t * t;
  return std::sqrt(sum / n_features);
}

std::vector<LinePiece> dirac_pieces(const WeightedCloud &cloud) {
  require(cloud.dim() == 1, "W1 on the line needs a measure on R (d = 1).");
  std::vector<LinePiece> pieces;
  for (std::size_t j = 0; j < cloud.size(); ++j)
    pieces.push_back({cloud.position(j)[0], cloud.position(j)[0], cloud.weights[j]});
  return pieces;
}

double wasserstein1_line(const std::vector<LinePiece> &mu, const std::vector<LinePiece> &nu,
                         MPI_Comm comm) {
  // Events of G = F_μ − F_ν: jumps (Diracs) and slope changes (uniform pieces), all ranks'.
  struct Event {
    double t, jump, slope;
    bool operator<(const Event &other) const { return t < other.t; }
  };
  std::vector<double> local;
  double masses[2] = {0.0, 0.0};
  auto add = [&](const std::vector<LinePiece> &pieces, const double sign, double &mass) {
    for (const LinePiece &p : pieces) {
      require(p.b >= p.a && p.mass >= 0, "W1: a piece with b < a or a negative mass.");
      mass += p.mass;
      if (p.b == p.a)
        local.insert(local.end(), {p.a, sign * p.mass, 0.0});
      else {
        const double density = sign * p.mass / (p.b - p.a);
        local.insert(local.end(), {p.a, 0.0, density, p.b, 0.0, -density});
      }
    }
  };
  add(mu, 1.0, masses[0]);
  add(nu, -1.0, masses[1]);
  dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(masses, 2), comm,
                              dealii::ArrayView<double>(masses, 2));
  require(std::abs(masses[0] - masses[1]) <= 1e-10 * std::max(masses[0], masses[1]),
          "W1: the two measures have different masses (" + std::to_string(masses[0]) + " and " +
              std::to_string(masses[1]) + ").");
  const std::vector<double> all = gather_all(local, comm);
  std::vector<Event> events(all.size() / 3);
  for (std::size_t e = 0; e < events.size(); ++e)
    events[e] = {all[3 * e], all[3 * e + 1], all[3 * e + 2]};
  std::sort(events.begin(), events.end());

  // Sweep: apply every event at t, then integrate |G| exactly over the linear stretch to the next.
  double G = 0.0, slope = 0.0, integral = 0.0;
  for (std::size_t e = 0; e < events.size();) {
    const double t = events[e].t;
    for (; e < events.size() && events[e].t == t; ++e) {
      G += events[e].jump;
      slope += events[e].slope;
    }
    if (e == events.size())
      break;
    const double h = events[e].t - t, G1 = G + slope * h;
    if (G * G1 >= 0)
      integral += 0.5 * h * (std::abs(G) + std::abs(G1));
    else // a sign change inside: two triangles
      integral += 0.5 * h * (G * G + G1 * G1) / (std::abs(G) + std::abs(G1));
    G = G1;
  }
  return integral;
}

double wasserstein2_line(std::vector<std::pair<double, double>> mu,
                         std::vector<std::pair<double, double>> nu) {
  std::sort(mu.begin(), mu.end());
  std::sort(nu.begin(), nu.end());
  double mass_mu = 0.0, mass_nu = 0.0;
  for (const auto &p : mu)
    mass_mu += p.second;
  for (const auto &p : nu)
    mass_nu += p.second;
  require(mass_mu > 0 && std::abs(mass_mu - mass_nu) <= 1e-10 * mass_mu,
          "W2: the two measures have different masses (" + std::to_string(mass_mu) + " and " +
              std::to_string(mass_nu) + ").");
  // the quantile functions are step functions: walk both through u ∈ [0, mass]
  double sum = 0.0, left_mu = mu.empty() ? 0.0 : mu[0].second,
         left_nu = nu.empty() ? 0.0 : nu[0].second;
  std::size_t i = 0, j = 0;
  while (i < mu.size() && j < nu.size()) {
    const double chunk = std::min(left_mu, left_nu);
    const double difference = mu[i].first - nu[j].first;
    sum += chunk * difference * difference;
    left_mu -= chunk;
    left_nu -= chunk;
    if (left_mu <= 0 && ++i < mu.size())
      left_mu = mu[i].second;
    if (left_nu <= 0 && ++j < nu.size())
      left_nu = nu[j].second;
  }
  return std::sqrt(sum / mass_mu);
}

std::vector<double> slicing_directions(const unsigned int d, const unsigned int n_directions,
                                       const std::uint64_t seed) {
  RandomStream random(seed);
  std::vector<double> directions(static_cast<std::size_t>(n_directions) * d);
  for (unsigned int k = 0; k < n_directions; ++k) {
    double *e = directions.data() + static_cast<std::size_t>(k) * d, norm2 = 0.0;
    while (norm2 == 0.0) {
      norm2 = 0.0;
      for (unsigned int i = 0; i < d; ++i) {
        e[i] = random.normal();
        norm2 += e[i] * e[i];
      }
    }
    for (unsigned int i = 0; i < d; ++i)
      e[i] /= std::sqrt(norm2);
  }
  return directions;
}

double sliced_wasserstein2(const WeightedCloud &mu, const WeightedCloud &nu,
                           const unsigned int n_directions, const std::uint64_t seed,
                           MPI_Comm comm) {
  require(mu.dim() == nu.dim(), "Sliced W2: the two measures live in different dimensions.");
  require(n_directions > 0, "Sliced W2: at least one direction is needed.");
  const unsigned int d = mu.dim();
  const std::vector<double> directions = slicing_directions(d, n_directions, seed);
  // one projection of a cloud: (value, weight) pairs of every rank
  auto project = [&](const WeightedCloud &cloud, const double *e) {
    std::vector<double> local(2 * cloud.size());
    for (std::size_t j = 0; j < cloud.size(); ++j) {
      double value = 0.0;
      for (unsigned int i = 0; i < d; ++i)
        value += e[i] * cloud.position(j)[i];
      local[2 * j] = value;
      local[2 * j + 1] = cloud.weights[j];
    }
    const std::vector<double> all = gather_all(local, comm);
    std::vector<std::pair<double, double>> pairs(all.size() / 2);
    for (std::size_t j = 0; j < pairs.size(); ++j)
      pairs[j] = {all[2 * j], all[2 * j + 1]};
    return pairs;
  };
  double sum = 0.0;
  for (unsigned int k = 0; k < n_directions; ++k) {
    const double *e = directions.data() + static_cast<std::size_t>(k) * d;
    const double w2 = wasserstein2_line(project(mu, e), project(nu, e));
    sum += w2 * w2;
  }
  return std::sqrt(sum / n_directions);
}
} // namespace MeanField
