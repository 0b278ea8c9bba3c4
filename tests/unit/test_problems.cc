// The problem library (doc/theory.md §3): every problem's kernel against finite differences, the
// exact solutions E1 and E2 (velocity fields, means, flow maps), ground truths and data generation.
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/problems/exact_solutions.h>
#include <meanfield/problems/sparse_deconvolution.h>
#include <meanfield/problems/two_layer_network.h>

#include <deal.II/base/parameter_handler.h>

using namespace MeanField;
using namespace MeanField::testing;

namespace {
// A problem from .prm text, exactly as `meanfield` builds it.
std::unique_ptr<Problem> make_problem(const std::string &text) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(text);
  return create_problem(prm, MPI_COMM_SELF);
}

const std::vector<std::string> problem_texts{
    "subsection Problem\n set Type = sparse deconvolution\nend",
    "subsection Problem\n set Type = sparse deconvolution\n subsection Sparse deconvolution\n"
    "  set Filter = Gaussian\n set Huber width = 0.1\n set Noise level = 0.1\n end\nend",
    "subsection Problem\n set Type = two-layer network\nend",
    "subsection Problem\n set Type = two-layer network\n subsection Two-layer network\n"
    "  set Input dimension = 1\n set Bias = true\n set Weight decay = 0.01\n end\nend",
    "subsection Problem\n set Type = two-layer network\n subsection Two-layer network\n"
    "  set Input dimension = 10\n set Activation = sigmoid\n set Loss = logistic\n"
    "  set Number of samples = 200\n end\nend",
    "subsection Problem\n set Type = linear features\nend",
    "subsection Problem\n set Type = potential drift\n subsection Potential drift\n"
    "  set Stiffness = 1, 2, 0.5\n set Center = 0.1, 0.2, 0.3\n end\nend"};

class EveryProblem : public ::testing::TestWithParam<std::string> {};

} // namespace

// ∇F' against finite differences of F', for each problem's own objective.
TEST_P(EveryProblem, GradientOfFirstVariationMatchesFiniteDifferences) {
  const auto problem = make_problem(GetParam());
  const Objective &objective = problem->objective();
  const unsigned int d = problem->dimension();
  const Objective::State state = objective.evaluate(random_cloud(d, 100, 4, 0.7));
  const WeightedCloud queries = random_cloud(d, 5, 9, 0.9);
  std::vector<double> values(5), gradients(5 * d);
  objective.first_variation(state, queries.points, values.data(), gradients.data());
  for (int q = 0; q < 5; ++q)
    check_gradient(
        [&](const std::vector<double> &t) { return first_variation_at(objective, state, t); },
        std::vector<double>(queries.points[q], queries.points[q] + d),
        std::vector<double>(gradients.begin() + q * d, gradients.begin() + (q + 1) * d));
}

// Each problem states a box of its own dimension and a default μ0 (for d ≤ 3).
TEST_P(EveryProblem, DomainAndDefaults) {
  const auto problem = make_problem(GetParam());
  const Domain box = problem->domain();
  ASSERT_EQ(box.dim(), problem->dimension());
  EXPECT_GT(box.volume(), 0.0);
  EXPECT_EQ(problem->coordinate_names().size(), problem->dimension());
  EXPECT_EQ(problem->default_initial_density().empty(), problem->dimension() > 3);
  EXPECT_FALSE(problem->summary().empty());
}

INSTANTIATE_TEST_SUITE_P(Library, EveryProblem, ::testing::ValuesIn(problem_texts));

// E2: the kernel's velocity is −A(θ̄ − θ*) − λθ for any measure of mass 1 (doc/theory.md §3.3).
TEST(LinearFeaturesE2, KernelVelocityIsTheExactAffineField) {
  for (const std::string target : {"0.5, -0.5", "1, 0.2, -0.7"}) {
    const auto problem = make_problem("subsection Problem\n set Type = linear features\n"
                                      " subsection Linear features\n  set Target = " +
                                      target + "\n set Weight decay = 0.3\n end\nend");
    const auto &e2 = dynamic_cast<const LinearFeatures &>(*problem);
    const unsigned int d = e2.dimension();
    const WeightedCloud mu = random_cloud(d, 500, 6, 1.0, 1.0);
    std::vector<double> mean(d, 0.0);
    for (std::size_t j = 0; j < mu.size(); ++j)
      for (unsigned int i = 0; i < d; ++i)
        mean[i] += mu.weights[j] * mu.points[j][i];
    const Objective::State state = e2.objective().evaluate(mu);
    std::vector<double> v(mu.size() * d), exact(d);
    e2.objective().velocity(state, mu.points, v.data());
    for (std::size_t j = 0; j < mu.size(); ++j) {
      e2.exact_velocity(mean, mu.points[j], exact.data());
      for (unsigned int i = 0; i < d; ++i)
        EXPECT_NEAR(v[j * d + i], exact[i], 1e-12);
    }
  }
}

// E2: θ̄(t) solves dθ̄/dt = −(A + λI)θ̄ + Aθ*, and the flow map moves every point with the field.
TEST(LinearFeaturesE2, MeanAndFlowSolveTheOde) {
  const auto problem =
      make_problem("subsection Problem\n set Type = linear features\n"
                   " subsection Linear features\n set Target = 1, 0.2, -0.7\n end\nend");
  const auto &e2 = dynamic_cast<const LinearFeatures &>(*problem);
  const unsigned int d = 3;
  const std::vector<double> mean0{0.3, -0.8, 0.5}, theta0{1.0, 0.4, -0.2};
  const std::vector<double> &A = e2.second_moment();
  const double lambda = e2.weight_decay(), h = 1e-5;
  EXPECT_LT(relative_difference(e2.mean(0.0, mean0), mean0), 1e-14);
  for (const double t : {0.0, 0.4, 2.0}) {
    const auto m = e2.mean(t, mean0), mp = e2.mean(t + h, mean0), mm = e2.mean(t - h, mean0);
    std::vector<double> x(d), xp(d), xm(d), v(d);
    e2.flow(t, mean0).apply(theta0.data(), x.data());
    e2.flow(t + h, mean0).apply(theta0.data(), xp.data());
    e2.flow(t - h, mean0).apply(theta0.data(), xm.data());
    e2.exact_velocity(m, x.data(), v.data());
    for (unsigned int i = 0; i < d; ++i) {
      double rhs = -lambda * m[i];
      for (unsigned int l = 0; l < d; ++l)
        rhs += -A[i * d + l] * m[l] + A[i * d + l] * e2.target()[l];
      EXPECT_NEAR((mp[i] - mm[i]) / (2 * h), rhs, 1e-8);
      EXPECT_NEAR((xp[i] - xm[i]) / (2 * h), v[i], 1e-8);
    }
  }
  // the flow map carries the mean along: Φ_t(θ̄_0) = θ̄(t)
  std::vector<double> moved(d);
  e2.flow(1.3, mean0).apply(mean0.data(), moved.data());
  EXPECT_LT(relative_difference(moved, e2.mean(1.3, mean0)), 1e-13);
}

// E2: F* is attained by the Dirac mass at θ̄_∞ and no measure does better.
TEST(LinearFeaturesE2, OptimalValue) {
  const auto problem =
      make_problem("subsection Problem\n set Type = linear features\n"
                   " subsection Linear features\n set Target = 1, 0.2, -0.7\n end\nend");
  const auto &e2 = dynamic_cast<const LinearFeatures &>(*problem);
  const double F_star = *e2.optimal_value();
  const std::vector<double> limit = e2.mean(1e3, {0.0, 0.0, 0.0});
  WeightedCloud dirac(3);
  dirac.push_back(limit.data(), 1.0);
  const Objective::State at_limit = e2.objective().evaluate(dirac);
  EXPECT_NEAR(at_limit.value(), F_star, 1e-13);
  // the velocity vanishes there: it is stationary
  std::vector<double> v(3);
  e2.objective().velocity(at_limit, dirac.points, v.data());
  for (const double vi : v)
    EXPECT_NEAR(vi, 0.0, 1e-13);
  for (std::uint64_t seed = 1; seed < 6; ++seed)
    EXPECT_GT(e2.objective().evaluate(random_cloud(3, 50, seed, 0.3)).value(), F_star);
}

// E1: velocity −K(θ − c); characteristics θ(t) = c + e^{−Kt}(θ_0 − c) follow it.
TEST(PotentialDriftE1, VelocityAndCharacteristics) {
  const auto problem = make_problem("subsection Problem\n set Type = potential drift\n"
                                    " subsection Potential drift\n set Stiffness = 1, 2, 0.5\n"
                                    "  set Center = 0.1, 0.2, 0.3\n end\nend");
  const auto &e1 = dynamic_cast<const PotentialDrift &>(*problem);
  const std::vector<double> K{1, 2, 0.5}, c{0.1, 0.2, 0.3};
  const WeightedCloud mu = random_cloud(3, 50, 2);
  const Objective::State state = e1.objective().evaluate(mu);
  std::vector<double> v(150);
  e1.objective().velocity(state, mu.points, v.data());
  for (int j = 0; j < 50; ++j)
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(v[3 * j + i], -K[i] * (mu.points[j][i] - c[i]), 1e-14);

  const std::vector<double> theta0{1.0, -1.0, 0.7};
  const double h = 1e-5;
  for (const double t : {0.0, 0.5, 3.0}) {
    std::vector<double> x(3), xp(3), xm(3);
    e1.flow(t).apply(theta0.data(), x.data());
    e1.flow(t + h).apply(theta0.data(), xp.data());
    e1.flow(t - h).apply(theta0.data(), xm.data());
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR((xp[i] - xm[i]) / (2 * h), -K[i] * (x[i] - c[i]), 1e-8);
  }
}

// The push-forward density of an affine flow: ρ_t(θ) = ρ_0(Φ^{-1}θ)/det Φ.
TEST(AffineFlow, PushForwardDensity) {
  const AffineFlow phi{{0.5, 2.0}, {1.0, -1.0}};
  const std::vector<double> theta{2.0, 3.0};
  std::vector<double> back(2), again(2);
  phi.apply_inverse(theta.data(), back.data());
  phi.apply(back.data(), again.data());
  EXPECT_LT(relative_difference(again, theta), 1e-15);
  auto rho0 = [](const double *x) {
    return std::exp(-x[0] * x[0] - x[1] * x[1]);
  };
  EXPECT_NEAR(phi.density(rho0, theta.data()), rho0(back.data()) / 1.0, 1e-15);
  EXPECT_DOUBLE_EQ(phi.determinant(), 1.0);
}

TEST(SymmetricEigen, ReconstructsTheMatrix) {
  const unsigned int d = 5;
  RandomStream random(3);
  std::vector<double> S(d * d);
  for (unsigned int i = 0; i < d; ++i)
    for (unsigned int j = 0; j <= i; ++j)
      S[i * d + j] = S[j * d + i] = random.normal();
  std::vector<double> values, Q;
  symmetric_eigen(S, d, values, Q);
  for (unsigned int i = 0; i < d; ++i)
    for (unsigned int j = 0; j < d; ++j) {
      double qlq = 0.0, qtq = 0.0;
      for (unsigned int e = 0; e < d; ++e) {
        qlq += Q[i * d + e] * values[e] * Q[j * d + e];
        qtq += Q[e * d + i] * Q[e * d + j];
      }
      EXPECT_NEAR(qlq, S[i * d + j], 1e-13);
      EXPECT_NEAR(qtq, i == j ? 1.0 : 0.0, 1e-13);
    }
}

// Noise-free data are generated by the ground truth: R(f_μ*) vanishes to round-off.
TEST(GroundTruth, GeneratesTheData) {
  for (const std::string type : {"sparse deconvolution", "two-layer network"}) {
    const auto problem = make_problem("subsection Problem\n set Type = " + type + "\nend");
    const auto truth = problem->ground_truth();
    ASSERT_TRUE(truth.has_value());
    EXPECT_NEAR(truth->local_mass(), 1.0, 1e-14);
    EXPECT_LT(problem->objective().evaluate(*truth).risk, 1e-25) << type;
  }
  const auto noisy = make_problem("subsection Problem\n subsection Sparse deconvolution\n"
                                  "  set Noise level = 0.1\n end\nend");
  EXPECT_GT(noisy->objective().evaluate(*noisy->ground_truth()).risk, 1e-4);
  // the realizable teacher without regularization is a global minimizer
  const auto net = make_problem("subsection Problem\n set Type = two-layer network\nend");
  ASSERT_TRUE(net->optimal_value().has_value());
  EXPECT_EQ(*net->optimal_value(), 0.0);
}

TEST(SparseDeconvolution, SpikesAreSeparatedAndReproducible) {
  const std::string text =
      "subsection Problem\n subsection Sparse deconvolution\n"
      "  set Number of spikes = 8\n set Minimum separation = 0.11\n set Seed = 5\n"
      " end\nend";
  const auto a = make_problem(text), b = make_problem(text);
  const auto &p = dynamic_cast<const SparseDeconvolution &>(*a);
  const auto &q = dynamic_cast<const SparseDeconvolution &>(*b);
  ASSERT_EQ(p.spike_positions().size(), 8u);
  EXPECT_EQ(p.spike_positions(), q.spike_positions());
  EXPECT_EQ(p.objective().data().targets, q.objective().data().targets);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_GE(std::abs(p.spike_weights()[i]), 0.5);
    EXPECT_LE(std::abs(p.spike_weights()[i]), 1.5);
    for (std::size_t j = 0; j < i; ++j) {
      const double distance = std::abs(p.spike_positions()[i] - p.spike_positions()[j]);
      EXPECT_GE(std::min(distance, 1 - distance), 0.11);
    }
  }
  const auto explicit_spikes =
      make_problem("subsection Problem\n subsection Sparse deconvolution\n"
                   "  set Spike positions = 0.2, 0.7\n set Spike weights = 1, -0.5\n"
                   " end\nend");
  const auto &e = dynamic_cast<const SparseDeconvolution &>(*explicit_spikes);
  EXPECT_EQ(e.spike_positions(), (std::vector<double>{0.2, 0.7}));
  // y_k = Σ r*_j ψ(s_k − x*_j) with ψ(0) = 15: the sample at s = 0.2 sees 15 from the first spike
  const auto &data = e.objective().data();
  const auto &psi = dynamic_cast<const FourierFilterFeature &>(*e.objective().feature());
  EXPECT_NEAR(data.targets[20], 15.0 - 0.5 * psi.filter(0.2 - 0.7), 1e-12);
}

TEST(TwoLayerNetwork, DimensionsAndInputs) {
  const auto problem =
      make_problem("subsection Problem\n set Type = two-layer network\n"
                   " subsection Two-layer network\n set Input dimension = 1\n"
                   "  set Bias = true\n set Input distribution = sphere\n end\nend");
  EXPECT_EQ(problem->dimension(), 3u);
  EXPECT_EQ(problem->coordinate_names(), (std::vector<std::string>{"a", "w1", "b"}));
  const Dataset &data = problem->objective().data();
  for (std::size_t k = 0; k < data.size(); ++k) {
    EXPECT_NEAR(std::abs(data.input(k)[0]), 1.0, 1e-15); // the unit sphere of R^1 is {±1}
    EXPECT_EQ(data.input(k)[1], 1.0);                    // the bias input
  }
  const auto wide =
      make_problem("subsection Problem\n set Type = two-layer network\n"
                   " subsection Two-layer network\n set Input dimension = 100\n end\nend");
  EXPECT_EQ(wide->dimension(), 101u);
}
