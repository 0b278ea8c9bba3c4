// The particle method (M7): exact solutions E1/E2 followed by RK4, forward–backward reaching the
// known BLASSO optimum of a one-spike deconvolution, monotone F, conservation of a² − |w|² for
// ReLU without weight decay, SGD reproducible from its seed, initializations independent of the
// number of ranks and faithful to μ0.
#include "particle_test_helpers.h"
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/particles/driver.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/exact_solutions.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>

using namespace MeanField;
using MeanField::testing::ParticleSetup;
using MeanField::testing::relative_difference;

namespace {

std::vector<double> mean_of(const WeightedCloud &cloud) {
  std::vector<double> mean(cloud.dim(), 0.0);
  for (std::size_t j = 0; j < cloud.size(); ++j)
    for (unsigned int i = 0; i < cloud.dim(); ++i)
      mean[i] += cloud.weights[j] * cloud.position(j)[i];
  return mean;
}
} // namespace

// E2: the velocity is affine in θ and depends on μ through its mean only, so the particle mean
// solves the same linear ODE as the PDE's mean, for any m: RK4 follows θ̄(t) to 1e-10.
TEST(ParticlesExact, LinearFeaturesMeanFollowsClosedFormWithRk4) {
  for (const unsigned int m : {1u, 7u, 60u}) {
    ParticleSetup setup("set Dimension = 2\nsubsection Problem\n set Type = linear features\nend\n"
                        "subsection Particles\n set Number of particles = " +
                        std::to_string(m) + "\n set Integrator = rk4\n set Seed = 3\nend\n");
    const auto &problem = dynamic_cast<const LinearFeatures &>(*setup.problem);
    const std::vector<double> mean0 = mean_of(setup.system->cloud());
    setup.run_steps(400, 0.0025); // t = 1
    const std::vector<double> exact = problem.mean(1.0, mean0);
    EXPECT_LT(relative_difference(mean_of(setup.system->cloud()), exact), 1e-10) << "m = " << m;
    // and each particle follows the affine flow Φ_t of E2
    const AffineFlow flow = problem.flow(1.0, mean0);
    std::vector<double> expected(2);
    const auto initial = setup.positions(0, m);
    for (std::size_t j = 0; j < m; ++j) {
      flow.apply(initial[j], expected.data());
      for (unsigned int i = 0; i < 2; ++i)
        EXPECT_NEAR(setup.system->cloud().position(j)[i], expected[i], 1e-10);
    }
  }
}

// E1: exact characteristics θ(t) = c + e^{−Kt}(θ0 − c) for every particle (RK4, any m).
TEST(ParticlesExact, PotentialDriftCharacteristics) {
  ParticleSetup setup("set Dimension = 2\nsubsection Problem\n set Type = potential drift\nend\n"
                      "subsection Particles\n set Number of particles = 25\n"
                      " set Integrator = rk4\nend\n");
  const auto &problem = dynamic_cast<const PotentialDrift &>(*setup.problem);
  const PointSet initial = setup.positions(0, 25);
  setup.run_steps(100, 0.01);
  const AffineFlow flow = problem.flow(1.0);
  std::vector<double> expected(2);
  for (std::size_t j = 0; j < 25; ++j) {
    flow.apply(initial[j], expected.data());
    for (unsigned int i = 0; i < 2; ++i)
      EXPECT_NEAR(setup.system->cloud().position(j)[i], expected[i], 1e-9);
  }
}

// Explicit Euler on E1 is first order in η: halving η halves the error at t = 1.
TEST(ParticlesExact, EulerIsFirstOrder) {
  std::vector<double> errors;
  for (const double eta : {0.02, 0.01}) {
    ParticleSetup setup("set Dimension = 2\nsubsection Problem\n set Type = potential drift\n"
                        "end\nsubsection Particles\n set Number of particles = 5\n"
                        " set Integrator = euler\nend\n");
    const auto &problem = dynamic_cast<const PotentialDrift &>(*setup.problem);
    const PointSet initial = setup.positions(0, 5);
    setup.run_steps(static_cast<unsigned int>(std::lround(1.0 / eta)), eta);
    std::vector<double> expected(2);
    double error = 0.0;
    for (std::size_t j = 0; j < 5; ++j) {
      problem.flow(1.0).apply(initial[j], expected.data());
      for (unsigned int i = 0; i < 2; ++i)
        error = std::max(error, std::abs(setup.system->cloud().position(j)[i] - expected[i]));
    }
    errors.push_back(error);
  }
  EXPECT_NEAR(errors[0] / errors[1], 2.0, 0.1);
}

namespace {
// One spike at x* = 0.3 of weight r* = 0.5, noiseless samples on the grid s_k = k/n (n > 2 f_c):
// with S = (1/n) Σ_k ψ(s_k − x*)² = 2 f_c + 1, the BLASSO optimum is the single spike
// a = r* − λ/(κS) at x*, and F* = λ r* − λ²/(2κS) (the dual certificate is the normalised
// autocorrelation of ψ, which reaches 1 only at x*).
const std::string one_spike =
    "set Dimension = 2\nsubsection Problem\n set Type = sparse deconvolution\n"
    " subsection Sparse deconvolution\n  set Spike positions = 0.3\n  set Spike weights = 0.5\n"
    "  set Regularization = 0.5\n end\nend\n";
double one_spike_optimum() {
  const double lambda = 0.5, r = 0.5, S = 15.0, kappa = 1.0;
  return lambda * r - lambda * lambda / (2 * kappa * S);
}
} // namespace

// Forward–backward from the paper's start (r = 0, evenly spaced) reaches F* of one spike. The
// step is limited by the x-curvature r² κ w (1/n)Σψ'² ≈ 5·10³ once particles carry r ≈ 2 at x*:
// η = 1e-4 (2e-4 is measured to diverge).
TEST(ParticlesDeconvolution, ForwardBackwardReachesTheOneSpikeOptimum) {
  ParticleSetup setup(one_spike + "subsection Particles\n set Number of particles = 10\n"
                                  " set Initialization = evenly spaced\n"
                                  " set Integrator = forward-backward\nend\n");
  const double F_star = one_spike_optimum();
  const auto start = setup.system->prepare_step();
  EXPECT_GT(start.F - F_star, 0.1 * F_star);
  const auto end = setup.run_steps(50000, 1e-4); // t = 5
  EXPECT_LT(std::abs(end.F - F_star), 1e-8 * F_star) << "F = " << end.F << ", F* = " << F_star;
  // the mass sits at x* = 0.3: f_μ = a ψ(s − x*) with a = r* − λ/(κS)
  double a = 0.0, first_moment = 0.0;
  const WeightedCloud &cloud = setup.system->cloud();
  for (std::size_t j = 0; j < cloud.size(); ++j) {
    a += cloud.weights[j] * cloud.position(j)[1];
    first_moment += cloud.weights[j] * cloud.position(j)[1] * cloud.position(j)[0];
  }
  EXPECT_NEAR(a, 0.5 - 0.5 / 15.0, 1e-4);
  EXPECT_NEAR(first_moment / a, 0.3, 1e-3);
}

// Small steps: F is non-increasing (Euler, RK2 on deconvolution with Huber; Euler on ReLU).
// Deconvolution is stiff in x (ψ' is steep): η = 1e-4 there.
TEST(ParticlesInvariants, FNonIncreasingForSmallSteps) {
  const std::string huber = one_spike + "subsection Problem\n subsection Sparse deconvolution\n"
                                        "  set Huber width = 0.05\n end\nend\n";
  const std::vector<std::string> cases = {
      huber + "subsection Particles\n set Number of particles = 40\n set Integrator = euler\nend\n",
      huber + "subsection Particles\n set Number of particles = 40\n set Integrator = rk2\nend\n",
      "set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
      " subsection Two-layer network\n  set Number of samples = 200\n end\nend\n"
      "subsection Particles\n set Number of particles = 50\n set Integrator = euler\n"
      " set Initialization = sphere\n set Sphere radius = 0.5\nend\n"};
  for (const std::string &text : cases) {
    ParticleSetup setup(text);
    const double eta = text.find("two-layer") != std::string::npos ? 0.002 : 1e-4;
    auto previous = setup.system->prepare_step();
    for (unsigned int n = 0; n < 200; ++n) {
      setup.system->complete_step(eta);
      const auto d = setup.system->prepare_step();
      EXPECT_LE(d.F, previous.F + 1e-14 * std::abs(previous.F)) << "step " << n;
      previous = d;
    }
  }
}

// ReLU without weight decay: φ is 2-homogeneous in (a, w) with a·∂_a φ = w·∇_w φ, so a_i² − |w_i|²
// is conserved by the flow; explicit Euler keeps it to O(η) (halving η halves the drift).
TEST(ParticlesInvariants, ReluBalanceConservedToOrderEta) {
  std::vector<double> drift;
  for (const double eta : {0.02, 0.01}) {
    ParticleSetup setup("set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
                        " subsection Two-layer network\n  set Number of samples = 300\n end\nend\n"
                        "subsection Particles\n set Number of particles = 30\n"
                        " set Integrator = euler\n set Initialization = sphere\n"
                        " set Sphere radius = 1\nend\n");
    auto balance = [&]() {
      std::vector<double> b;
      const WeightedCloud &cloud = setup.system->cloud();
      for (std::size_t j = 0; j < cloud.size(); ++j) {
        const double *t = cloud.position(j);
        b.push_back(t[0] * t[0] - t[1] * t[1] - t[2] * t[2]);
      }
      return b;
    };
    const std::vector<double> before = balance();
    setup.run_steps(static_cast<unsigned int>(std::lround(2.0 / eta)), eta);
    const std::vector<double> after = balance();
    double worst = 0.0;
    for (std::size_t j = 0; j < before.size(); ++j)
      worst = std::max(worst, std::abs(after[j] - before[j]));
    drift.push_back(worst);
  }
  EXPECT_GT(drift[0], 0.0);
  EXPECT_NEAR(drift[0] / drift[1], 2.0, 0.3) << drift[0] << " " << drift[1];
  EXPECT_LT(drift[1], 1e-2);
}

// SGD: the same seed gives the same trajectory, another seed another one; fresh teacher
// samples for the two-layer network, subsets of the data for deconvolution.
TEST(ParticlesSgd, ReproducibleFromItsSeed) {
  for (const std::string &problem :
       {std::string("set Dimension = 3\nsubsection Problem\n set Type = two-layer network\nend\n"),
        one_spike}) {
    auto run = [&](const unsigned int seed) {
      ParticleSetup setup(problem +
                          "subsection Particles\n set Number of particles = 20\n"
                          " set Integrator = sgd\n set Batch size = 16\n set Seed = " +
                          std::to_string(seed) + "\nend\n");
      setup.run_steps(30, 0.01);
      return setup.system->cloud().points.coordinates;
    };
    const auto a = run(4), b = run(4), c = run(5);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
}

// The initial particles do not depend on how the index range is split (i.e. on the ranks).
TEST(ParticlesInitialization, IndependentOfTheSplit) {
  for (const std::string method : {"iid", "quasi-random", "pde density"}) {
    ParticleSetup setup("set Dimension = 2\nsubsection Particles\n set Number of particles = 50\n"
                        " set Initialization = " +
                        method + "\nend\nsubsection Mesh\n set Subdivisions = 8\nend\n");
    const PointSet all = setup.positions(0, 50);
    const PointSet head = setup.positions(0, 17), tail = setup.positions(17, 33);
    std::vector<double> joined = head.coordinates;
    joined.insert(joined.end(), tail.coordinates.begin(), tail.coordinates.end());
    EXPECT_EQ(joined, all.coordinates) << method;
  }
}

// Samples follow μ0: on the box [-1, 1] with μ0 ∝ 1 + θ (mean 1/3), the sample means of iid,
// quasi-random, quantile and pde-density particles approach 1/3 (quantiles and quasi-random
// much faster than iid); quantiles are exact inverse-CDF values.
TEST(ParticlesInitialization, SamplesFollowMu0) {
  const std::string base = "set Dimension = 1\nsubsection Problem\n set Type = potential drift\n"
                           " subsection Potential drift\n  set Stiffness = 1\n  set Center = 0\n"
                           "  set Box half-width = 1\n end\nend\n"
                           "subsection Initial condition\n set Density = 1 + x\nend\n"
                           "subsection Mesh\n set Subdivisions = 64\nend\n";
  std::map<std::string, double> error;
  for (const std::string method : {"iid", "quasi-random", "quantiles", "pde density"}) {
    ParticleSetup setup(base +
                        "subsection Particles\n set Number of particles = 4000\n"
                        " set Initialization = " +
                        method + "\nend\n");
    error[method] = std::abs(mean_of(setup.system->cloud())[0] - 1.0 / 3.0);
  }
  EXPECT_LT(error["iid"], 4 * std::sqrt(2.0 / 9 / 4000)); // 4 standard deviations
  EXPECT_LT(error["pde density"], 4 * std::sqrt(2.0 / 9 / 4000));
  EXPECT_LT(error["quantiles"], 1e-6);
  EXPECT_LT(error["quasi-random"], 2e-3);
  // the quantile of level u of μ0 ∝ 1 + θ on [-1, 1]: θ = 2√u − 1
  ParticleSetup q(base + "subsection Particles\n set Number of particles = 10\n"
                         " set Initialization = quantiles\nend\n");
  for (std::size_t j = 0; j < 10; ++j)
    EXPECT_NEAR(q.system->cloud().position(j)[0], 2 * std::sqrt((j + 0.5) / 10) - 1, 1e-7);
}

// Initializations that do not fit the problem, a batch larger than the data: InputError.
TEST(ParticlesInput, InconsistentChoicesAreRefused) {
  const std::string relu = "set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
                           "end\n";
  EXPECT_THROW(ParticleSetup(relu + "subsection Particles\n set Initialization = evenly spaced\n"
                                    "end\n"),
               InputError);
  EXPECT_THROW(ParticleSetup(relu + "subsection Particles\n set Initialization = quantiles\nend\n"),
               InputError);
  EXPECT_THROW(ParticleSetup(one_spike + "subsection Particles\n set Integrator = sgd\n"
                                         " set Batch size = 101\nend\n"),
               InputError);
  EXPECT_THROW(
      ParticleSetup(one_spike + "subsection Particles\n set Initialization = sphere\nend\n"),
      InputError);
  // the descent test of backtracking needs a smooth feature and a one-step integrator
  EXPECT_THROW(ParticleSetup(relu + "subsection Particles\n set Integrator = euler\n"
                                    " set Step control = backtracking\nend\n"),
               InputError);
  EXPECT_THROW(ParticleSetup(one_spike + "subsection Particles\n set Integrator = rk2\n"
                                         " set Step control = backtracking\nend\n"),
               InputError);
}

// Step control = backtracking on E1 (V = ½(θ − c)ᵀK(θ − c)): every accepted step decreases F by
// at least |Δθ|²_μ/(2η), the step grows from a tiny start to the stability scale 1/K_max, and the
// particles reach the minimizer c in far fewer steps than the starting η would need.
TEST(ParticlesBacktracking, DescentTestAndGrowingSteps) {
  ParticleSetup setup("set Dimension = 2\nsubsection Problem\n set Type = potential drift\n"
                      "end\nsubsection Particles\n set Number of particles = 7\n"
                      " set Integrator = euler\n set Step control = backtracking\n"
                      " set Step = 1e-4\nend\n");
  ParticleSystem &system = *setup.system;
  double eta = 1e-4, largest = 0.0;
  ParticleSystem::Diagnostics d = system.prepare_step();
  unsigned int steps = 0;
  for (; steps < 400 && d.F > 1e-24; ++steps) {
    const std::vector<double> before = system.cloud().points.coordinates;
    const double taken = system.advance(1e300, eta);
    const ParticleSystem::Diagnostics after = system.prepare_step();
    double moved = 0.0;
    for (std::size_t k = 0; k < before.size(); ++k)
      moved += (system.cloud().points.coordinates[k] - before[k]) *
               (system.cloud().points.coordinates[k] - before[k]) / 7.0;
    EXPECT_LE(after.F, d.F - 0.5 * moved / taken + 1e-15 * d.F) << steps;
    largest = std::max(largest, taken);
    d = after;
  }
  EXPECT_LE(d.F, 1e-24);   // V ≥ 0 vanishes only at c
  EXPECT_LT(steps, 400u);  // η = 1e-4 fixed: ~ 1e5 steps for F to fall by 1e-24
  EXPECT_GT(largest, 0.1); // grown by 10³ from the first step
}

// A rejected step leaves no trace: the accepted step of backtracking_step() from a far too large
// trial equals one complete_step() of the same length from the same start, bit for bit.
TEST(ParticlesBacktracking, RejectedStepsRestoreTheState) {
  const std::string text = one_spike + "subsection Particles\n set Number of particles = 10\n"
                                       " set Initialization = evenly spaced\n"
                                       " set Integrator = forward-backward\n"
                                       " set Step control = backtracking\nend\n";
  ParticleSetup a(text), b(text);
  a.run_steps(200, 1e-4); // away from the symmetric start
  b.run_steps(200, 1e-4);
  a.system->prepare_step();
  const double taken = a.system->backtracking_step(10.0);
  EXPECT_LT(taken, 10.0 / 8); // at least three rejections
  b.system->prepare_step();
  b.system->complete_step(taken);
  EXPECT_EQ(a.system->cloud().points.coordinates, b.system->cloud().points.coordinates);
  EXPECT_EQ(a.system->time(), b.system->time());
  EXPECT_EQ(a.system->iteration(), b.system->iteration());
  EXPECT_EQ(a.system->prepare_step().F, b.system->prepare_step().F);
}

// The VTK point data: velocity −∇F' padded to the 3 components of the points for d ≤ 3 (so that
// ParaView draws it as a vector), the coordinates by name.
TEST(ParticlesOutput, VelocityIsAVectorOfThePointSpace) {
  ParticleSetup setup(one_spike + "subsection Particles\n set Number of particles = 5\n"
                                  " set Initialization = evenly spaced\nend\n");
  setup.system->prepare_step();
  const std::vector<ParticleField> fields = particle_output_fields(*setup.system, *setup.problem);
  const auto velocity = std::find_if(fields.begin(), fields.end(),
                                     [](const ParticleField &f) { return f.name == "velocity"; });
  ASSERT_NE(velocity, fields.end());
  EXPECT_EQ(velocity->components, 3u);
  ASSERT_EQ(velocity->values.size(), 15u);
  for (std::size_t j = 0; j < 5; ++j) {
    for (unsigned int i = 0; i < 2; ++i)
      EXPECT_EQ(velocity->values[j * 3 + i], -setup.system->gradients()[j * 2 + i]);
    EXPECT_EQ(velocity->values[j * 3 + 2], 0.0);
  }
  EXPECT_TRUE(std::any_of(fields.begin(), fields.end(),
                          [](const ParticleField &f) { return f.name == "r"; }));
}
