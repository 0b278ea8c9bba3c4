// Serial == MPI: a cloud split over the ranks of MPI_COMM_WORLD gives the f, F, F', ∇F' and
// dissipation of the whole cloud on one rank, to 1e-13 (the same answer on any number of MPI
// ranks). ctest runs this binary on 1 rank and on 2 ranks (mpirun -np 2).
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/objective/features.h>
#include <meanfield/objective/objective.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

using namespace MeanField;
using namespace MeanField::testing;

namespace {
WeightedCloud my_part(const WeightedCloud &cloud) {
  const unsigned int P = dealii::Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD);
  const unsigned int r = dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD);
  WeightedCloud part(cloud.dim());
  for (std::size_t j = cloud.size() * r / P; j < cloud.size() * (r + 1) / P; ++j)
    part.push_back(cloud.position(j), cloud.weights[j]);
  return part;
}

void expect_split_equals_serial(const Objective &serial, const WeightedCloud &cloud) {
  const Objective parallel = serial.with_communicator(MPI_COMM_WORLD);
  const WeightedCloud part = my_part(cloud);
  const Objective::State s = serial.evaluate(cloud), p = parallel.evaluate(part);
  // Not the same arithmetic: on 2 ranks f, the V-part, the mass and the dissipation are two partial
  // sums added by MPI_Allreduce, i.e. sums of m ≤ 3001 terms regrouped (the rest, F' and ∇F' at
  // the queries, inherits that through h). The second half's rounding errors then accumulate on
  // another partial sum: a random walk of ~√m u ≈ 6e-15 of the terms' size (the worst case
  // m u ≈ 3e-13 needs all m roundings in one direction); 1e-13 of the largest entry (or of 1).
  const double tol = 1e-13;
  EXPECT_LT(relative_difference(p.prediction, s.prediction, 1e-300), tol);
  EXPECT_NEAR(p.risk, s.risk, tol * std::max(1.0, std::abs(s.risk)));
  EXPECT_NEAR(p.potential, s.potential, tol * std::max(1.0, std::abs(s.potential)));
  EXPECT_NEAR(p.mass, s.mass, tol);
  const double ds = serial.dissipation(s, cloud), dp = parallel.dissipation(p, part);
  EXPECT_NEAR(dp, ds, tol * std::max(1.0, ds));

  // F' and ∇F' at the same query points on every rank
  const unsigned int d = cloud.dim();
  const WeightedCloud queries = random_cloud(d, 64, 99);
  std::vector<double> vs(64), gs(64 * d), vp(64), gp(64 * d);
  serial.first_variation(s, queries.points, vs.data(), gs.data());
  parallel.first_variation(p, queries.points, vp.data(), gp.data());
  EXPECT_LT(relative_difference(vp, vs), tol);
  EXPECT_LT(relative_difference(gp, gs), tol);
}
} // namespace

TEST(SerialEqualsMpi, TwoLayerDirectLoops) {
  const auto data = std::make_shared<Dataset>(random_dataset(2, 300, 1));
  const Objective objective(std::make_shared<TwoLayerFeature>(2, TwoLayerFeature::Activation::relu),
                            create_loss("square"), std::make_shared<NoRegularizer>(), data);
  expect_split_equals_serial(objective, random_cloud(3, 2001, 2));
}

TEST(SerialEqualsMpi, TwoLayerBlas) {
  const auto data = std::make_shared<Dataset>(random_dataset(8, 200, 3, true, true));
  const Objective objective(
      std::make_shared<TwoLayerFeature>(8, TwoLayerFeature::Activation::sigmoid),
      create_loss("logistic"),
      std::make_shared<QuadraticPotential>(QuadraticPotential::weight_decay(9, 0.1)), data);
  expect_split_equals_serial(objective, random_cloud(9, 1201, 4));
}

TEST(SerialEqualsMpi, DeconvolutionAndLinearAndPotential) {
  const Objective deconvolution(
      std::make_shared<FourierFilterFeature>(FourierFilterFeature::dirichlet(7)),
      create_loss("square"), std::make_shared<L1Coordinate>(1, 0.2),
      std::make_shared<Dataset>(random_torus_dataset(100, 5)));
  expect_split_equals_serial(deconvolution, random_cloud(2, 3001, 6));

  const Objective linear(
      std::make_shared<LinearFeature>(3), create_loss("square"),
      std::make_shared<QuadraticPotential>(QuadraticPotential::weight_decay(3, 0.5)),
      std::make_shared<Dataset>(random_dataset(3, 50, 7)));
  expect_split_equals_serial(linear, random_cloud(3, 777, 8));

  const Objective potential(2, std::make_shared<QuadraticPotential>(std::vector<double>{1, 2},
                                                                    std::vector<double>{0, 0}));
  expect_split_equals_serial(potential, random_cloud(2, 99, 9));
}

// An empty part on some rank is fine (the ground truth lives on rank 0 only).
TEST(SerialEqualsMpi, CloudOnOneRankOnly) {
  const Objective serial(std::make_shared<FourierFilterFeature>(FourierFilterFeature::dirichlet(3)),
                         create_loss("square"), std::make_shared<L1Coordinate>(1, 0.2),
                         std::make_shared<Dataset>(random_torus_dataset(20, 5)));
  const WeightedCloud cloud = random_cloud(2, 10, 1);
  const bool root = dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0;
  const Objective::State s = serial.evaluate(cloud);
  const Objective::State p =
      serial.with_communicator(MPI_COMM_WORLD).evaluate(root ? cloud : WeightedCloud(2));
  EXPECT_NEAR(p.value(), s.value(), 1e-13 * std::abs(s.value()));
}

// The midpoint discretization of μ0 split over ranks is the serial one.
TEST(SerialEqualsMpi, InitialDensityDiscretization) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  const auto problem = create_problem(prm, MPI_COMM_SELF);
  // not symmetric in r, so that f_μ0 is not zero by symmetry
  const InitialDensity<2> mu0(*problem, "exp(-(r - 0.3)^2 / 0.02) * (1 + 0.5 * sin(2 * pi * x))",
                              "");
  const WeightedCloud whole = mu0.midpoint_cloud(40, MPI_COMM_SELF);
  const WeightedCloud part = mu0.midpoint_cloud(40, MPI_COMM_WORLD);
  const Objective::State s = problem->objective().evaluate(whole);
  const Objective::State p = problem->objective().with_communicator(MPI_COMM_WORLD).evaluate(part);
  EXPECT_NEAR(p.mass, 1.0, 1e-13);
  EXPECT_NEAR(p.value(), s.value(), 1e-13 * std::abs(s.value()));
  EXPECT_LT(relative_difference(p.prediction, s.prediction), 1e-13);
}
