// Distances between measures (doc/theory.md §5) against closed forms, and invariant to how the
// clouds are split over MPI ranks (this suite also runs on 2 ranks: mpi.np2.metrics).
#include "test_helpers.h"

#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/compare/metrics.h>

#include <deal.II/base/mpi.h>

#include <cmath>

using namespace MeanField;

namespace {
const MPI_Comm world = MPI_COMM_WORLD;

// A cloud of n points in R^d with weights 1/n (seeded), the whole cloud on every call.
WeightedCloud full_cloud(const unsigned int d, const std::size_t n, const std::uint64_t seed,
                         const std::vector<double> &shift = {}) {
  RandomStream random(seed);
  WeightedCloud cloud(d);
  std::vector<double> theta(d);
  for (std::size_t j = 0; j < n; ++j) {
    for (unsigned int i = 0; i < d; ++i)
      theta[i] = random.normal() + (shift.empty() ? 0.0 : shift[i]);
    cloud.push_back(theta.data(), 1.0 / n);
  }
  return cloud;
}

// This rank's contiguous part of a full cloud.
WeightedCloud my_part(const WeightedCloud &cloud, MPI_Comm comm) {
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm);
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  WeightedCloud part(cloud.dim());
  for (std::size_t j = cloud.size() * rank / n_ranks; j < cloud.size() * (rank + 1) / n_ranks; ++j)
    part.push_back(cloud.position(j), cloud.weights[j]);
  return part;
}
} // namespace

TEST(Mmd, ZeroBetweenAMeasureAndItself) {
  const WeightedCloud mu = full_cloud(2, 300, 1);
  EXPECT_LT(mmd_exact(my_part(mu, world), my_part(mu, world), 0.5, world), 1e-7);
  EXPECT_LT(mmd_random_features(my_part(mu, world), my_part(mu, world), 0.5, 64, 3, world), 1e-12);
}

TEST(Mmd, TwoDiracsClosedForm) {
  // MMD²(δ_x, δ_y) = 2 − 2 exp(−|x − y|²/(2σ²))
  WeightedCloud x(2), y(2);
  x.push_back(std::vector<double>{0.1, 0.2}.data(), 1.0);
  y.push_back(std::vector<double>{0.4, -0.2}.data(), 1.0);
  const double sigma = 0.3, distance2 = 0.09 + 0.16;
  const double expected = std::sqrt(2 - 2 * std::exp(-distance2 / (2 * sigma * sigma)));
  EXPECT_NEAR(mmd_exact(x, y, sigma, MPI_COMM_SELF), expected, 1e-14);
  // random features: within a few standard deviations of the exact value
  const double rff = mmd_random_features(x, y, sigma, 20000, 7, MPI_COMM_SELF);
  EXPECT_NEAR(rff * rff, expected * expected, 4 * 2.0 * 4 / std::sqrt(20000.0));
}

TEST(Mmd, RandomFeaturesApproachTheExactValue) {
  const WeightedCloud mu = full_cloud(3, 200, 1), nu = full_cloud(3, 150, 2, {0.5, 0.0, 0.0});
  const double exact = mmd_exact(my_part(mu, world), my_part(nu, world), 1.0, world);
  double error = 0.0;
  for (const unsigned int D : {100u, 10000u}) {
    const double rff =
        mmd_random_features(my_part(mu, world), my_part(nu, world), 1.0, D, 5, world);
    const double e = std::abs(rff * rff - exact * exact);
    if (D == 10000) {
      EXPECT_LT(e, 0.2 * error + 1e-3) << "10^4 features no better than 10^2";
    }
    error = e;
  }
  EXPECT_LT(error, 0.01 * exact * exact + 1e-3);
}

TEST(Wasserstein1, UniformAgainstItsMidpoint) {
  // uniform on [0, 1] against δ_{1/2}: W1 = ∫|t − H(t − 1/2)| dt = 1/4
  EXPECT_NEAR(wasserstein1_line({{0.0, 1.0, 1.0}}, {{0.5, 0.5, 1.0}}, MPI_COMM_SELF), 0.25, 1e-15);
  // uniform against N midpoint Diracs of mass 1/N: N h²/4 = 1/(4N)
  const std::size_t N = 1000;
  std::vector<LinePiece> diracs;
  for (std::size_t k = 0; k < N; ++k)
    diracs.push_back({(k + 0.5) / N, (k + 0.5) / N, 1.0 / N});
  EXPECT_NEAR(wasserstein1_line({{0.0, 1.0, 1.0}}, diracs, MPI_COMM_SELF), 0.25 / N, 1e-12);
  // the same with the uniform measure cut into cells (a finite-volume density)
  std::vector<LinePiece> cells;
  for (std::size_t k = 0; k < 10; ++k)
    cells.push_back({k / 10.0, (k + 1) / 10.0, 0.1});
  EXPECT_NEAR(wasserstein1_line(cells, {{0.5, 0.5, 1.0}}, MPI_COMM_SELF), 0.25, 1e-14);
}

TEST(Wasserstein1, TranslationByS) {
  const WeightedCloud mu = full_cloud(1, 400, 3), nu = full_cloud(1, 400, 3, {-0.37});
  EXPECT_NEAR(
      wasserstein1_line(dirac_pieces(my_part(mu, world)), dirac_pieces(my_part(nu, world)), world),
      0.37, 1e-12);
  EXPECT_THROW(wasserstein1_line({{0.0, 1.0, 1.0}}, {{0.5, 0.5, 0.5}}, MPI_COMM_SELF), InputError);
}

TEST(SlicedWasserstein2, TranslationByV) {
  // W2(P_e μ, P_e (μ + v)) = |e·v| for every direction e
  const std::vector<double> v = {0.3, -0.4, 0.2};
  const WeightedCloud mu = full_cloud(3, 500, 4), nu = full_cloud(3, 500, 4, v);
  const unsigned int K = 20;
  const std::vector<double> e = slicing_directions(3, K, 9);
  double expected = 0.0;
  for (unsigned int k = 0; k < K; ++k) {
    const double p = e[3 * k] * v[0] + e[3 * k + 1] * v[1] + e[3 * k + 2] * v[2];
    expected += p * p / K;
  }
  EXPECT_NEAR(sliced_wasserstein2(my_part(mu, world), my_part(nu, world), K, 9, world),
              std::sqrt(expected), 1e-12);
  EXPECT_LT(sliced_wasserstein2(my_part(mu, world), my_part(mu, world), K, 9, world), 1e-14);
}

TEST(Wasserstein2, LineClosedForms) {
  // δ_0 against (δ_{-1} + δ_1)/2: W2 = 1; two-point masses against one point
  EXPECT_NEAR(wasserstein2_line({{0.0, 1.0}}, {{-1.0, 0.5}, {1.0, 0.5}}), 1.0, 1e-15);
  // uneven weights: (¼δ_0 + ¾δ_1) vs δ_1: W2² = ¼
  EXPECT_NEAR(wasserstein2_line({{0.0, 0.25}, {1.0, 0.75}}, {{1.0, 1.0}}), 0.5, 1e-15);
}

// The value does not depend on the split of the clouds: the parts of every rank against the
// whole cloud on one rank.
TEST(Metrics, IndependentOfTheSplit) {
  const WeightedCloud mu = full_cloud(2, 101, 5), nu = full_cloud(2, 77, 6, {0.2, 0.1});
  const WeightedCloud a = my_part(mu, world), b = my_part(nu, world);
  EXPECT_NEAR(mmd_exact(a, b, 0.7, world), mmd_exact(mu, nu, 0.7, MPI_COMM_SELF), 1e-13);
  EXPECT_NEAR(mmd_random_features(a, b, 0.7, 50, 1, world),
              mmd_random_features(mu, nu, 0.7, 50, 1, MPI_COMM_SELF), 1e-13);
  EXPECT_EQ(sliced_wasserstein2(a, b, 8, 2, world),
            sliced_wasserstein2(mu, nu, 8, 2, MPI_COMM_SELF));
}
