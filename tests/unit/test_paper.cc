// The paper's optimum and baselines (issue 6): the convex solver on fixed positions with its
// duality-gap certificate, the BLASSO optimum F* against the closed form of one spike, and particle
// forward–backward against random features.
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/paper/blasso.h>
#include <meanfield/paper/convex.h>
#include <meanfield/paper/experiment.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/parameter_handler.h>

#include <cmath>
#include <iostream>
#include <limits>

using namespace MeanField;

namespace {
std::unique_ptr<Problem> deconvolution(const std::string &spikes) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string("set Dimension = 2\nsubsection Problem\n set Type = sparse "
                              "deconvolution\n subsection Sparse deconvolution\n" +
                              spikes + "  set Regularization = 0.5\n end\nend\n");
  return create_problem(prm, MPI_COMM_SELF);
}
} // namespace

// One spike of weight r* at x*: F* = λ r* − λ²/(2κS), S = 2 f_c + 1 (the certificate is the
// normalised autocorrelation of ψ). On grids through x* the LASSO finds F* to its duality gap;
// off the grid, the grid optima decrease to F* like h² (a grid restricts the measure: F_M ≥ F*).
TEST(Blasso, OneSpikeOptimum) {
  const double lambda = 0.5, r = 0.5, F_star = lambda * r - lambda * lambda / (2 * 15.0);
  unsigned int M = 0;
  const auto on_grid = deconvolution("  set Spike positions = 0.3\n  set Spike weights = 0.5\n");
  EXPECT_NEAR(blasso_grid_optimum(on_grid->objective(), lambda, 1e-9, 10, M), F_star,
              1e-9 * F_star);

  const auto off_grid =
      deconvolution("  set Spike positions = 0.3137\n  set Spike weights = 0.5\n");
  std::vector<double> excess;
  for (const unsigned int n : {40u, 160u, 640u}) {
    PointSet grid(2, n);
    for (unsigned int j = 0; j < n; ++j) {
      grid[j][0] = static_cast<double>(j) / n;
      grid[j][1] = 1.0;
    }
    const ConvexResult result = solve_weights(off_grid->objective(), grid, lambda, 1e-9, 1000000);
    excess.push_back(result.value - F_star);
    EXPECT_GE(excess.back(), -1e-12);
  }
  EXPECT_GT(excess[0] / excess[1], 10.0); // h² would give 16 per 4× refinement
  EXPECT_GT(excess[1] / excess[2], 10.0);
  EXPECT_LT(excess[2], 2e-4 * F_star);
  // the refinement loop stops when F_M changes by less than 3e-4 relative
  const double F = blasso_grid_optimum(off_grid->objective(), lambda, 3e-4, 40, M);
  EXPECT_NEAR(F, F_star, 1e-4 * F_star) << "grid of " << M;
}

// Sliding Frank–Wolfe finds the one-spike optimum off any grid to round-off, with a certified gap.
TEST(Blasso, SlidingFrankWolfeOneSpike) {
  const double lambda = 0.5, r = 0.5, F_star = lambda * r - lambda * lambda / (2 * 15.0);
  const auto problem = deconvolution("  set Spike positions = 0.3137\n  set Spike weights = 0.5\n");
  const BlassoSolution s = blasso_optimum(problem->objective(), lambda, 1e-10);
  EXPECT_NEAR(s.value, F_star, 1e-12);
  EXPECT_LE(s.lower_bound, F_star + 1e-14);
  EXPECT_LE(s.gap(), 1e-10 * s.value);
  ASSERT_EQ(s.positions.size(), 1u);
  EXPECT_NEAR(s.positions[0], 0.3137, 1e-10);
  EXPECT_NEAR(s.weights[0], r - lambda / 15.0, 1e-10); // a = r* − λ/(κS)
}

// On the paper's five-spike problem the continuous optimum lies below every grid optimum and within
// the grid error of the finest one; its certificate is tight (sup|G| = λ to the tolerance).
TEST(Blasso, SlidingFrankWolfeBelowTheGridOptima) {
  const auto problem = deconvolution("  set Number of spikes = 5\n");
  const double lambda = 0.5;
  const BlassoSolution s = blasso_optimum(problem->objective(), lambda, 1e-10);
  EXPECT_LE(s.gap(), 1e-10 * s.value);
  EXPECT_GE(s.gap(), 0.0);
  EXPECT_NEAR(s.certificate, 1.0, 1e-9);
  std::cout << "F* = " << s.value << " (gap " << s.gap() << ", " << s.positions.size()
            << " spikes, " << s.iterations << " Frank-Wolfe steps, " << s.grid_size
            << " certificate nodes)\n";
  for (const unsigned int M : {100u, 400u}) {
    PointSet grid(2, M);
    for (unsigned int j = 0; j < M; ++j) {
      grid[j][0] = static_cast<double>(j) / M;
      grid[j][1] = 1.0;
    }
    const ConvexResult on_grid = solve_weights(problem->objective(), grid, lambda, 1e-11, 1000000);
    EXPECT_GE(on_grid.value - s.lower_bound, -1e-12) << M;
    if (M == 400u) {
      EXPECT_LT(on_grid.value - s.value, 1e-3 * s.value);
    }
  }
}

// Robustness: on noisy instances (σ = 0.1, spikes as close as 0.05) sliding Frank–Wolfe still
// certifies its value to 1e-10, and the certified lower bound lies below the LASSO on a grid.
TEST(Blasso, SlidingFrankWolfeCertifiesNoisyInstances) {
  for (const unsigned int seed : {3u, 4u, 5u, 6u}) {
    const auto problem = deconvolution("  set Number of spikes = 4\n  set Noise level = 0.1\n"
                                       "  set Minimum separation = 0.05\n  set Seed = " +
                                       std::to_string(seed) + "\n");
    const BlassoSolution s = blasso_optimum(problem->objective(), 0.5, 1e-10);
    EXPECT_LE(s.gap(), 1e-10 * s.value) << seed;
    EXPECT_GE(s.gap(), 0.0) << seed;
    PointSet grid(2, 256);
    for (unsigned int j = 0; j < 256; ++j) {
      grid[j][0] = j / 256.0;
      grid[j][1] = 1.0;
    }
    const ConvexResult on_grid = solve_weights(problem->objective(), grid, 0.5, 1e-9, 1000000);
    EXPECT_GE(on_grid.value, s.lower_bound - 1e-12) << seed;
  }
}

// The certificate: the duality gap bounds value − optimum, and FISTA drives it to the tolerance.
TEST(Blasso, DualityGapCertifiesTheSolution) {
  const auto problem = deconvolution("  set Number of spikes = 3\n");
  PointSet grid(2, 200);
  for (unsigned int j = 0; j < 200; ++j) {
    grid[j][0] = j / 200.0;
    grid[j][1] = 1.0;
  }
  const ConvexResult coarse = solve_weights(problem->objective(), grid, 0.5, 1e-3, 1000000);
  const ConvexResult fine = solve_weights(problem->objective(), grid, 0.5, 1e-10, 1000000);
  EXPECT_LE(fine.gap, 1e-10 * fine.value);
  EXPECT_GE(coarse.gap, 0.0);
  EXPECT_LE(coarse.value - fine.value, coarse.gap + 1e-12); // the gap is an upper bound
  EXPECT_GE(coarse.value - fine.value, -1e-12);
}

// The paper's ReLU claim on a small case: a teacher of m0 = 5 neurons (d_in = 2, V = 0, F* = 0) is
// fitted to F < 1e-4 by m = 4 m0 particles from a small sphere (measured: 5.0e-6 at t = 600).
// (In d_in = 2, 20 random features on the circle fit it too, to 2.0e-6: the advantage of
// particles over random features is a high-dimensional one, the d = 100 study of issue 6.)
TEST(Paper, ReluTeacherFittedByFourTimesAsManyParticles) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(
      "set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
      " subsection Two-layer network\n  set Number of teacher neurons = 5\n"
      "  set Number of samples = 1000\n end\nend\n"
      "subsection Particles\n set Number of particles = 20\n set Initialization = sphere\n"
      " set Sphere radius = 0.1\n set Integrator = rk2\nend\n");
  const std::unique_ptr<Problem> problem = create_problem(prm, MPI_COMM_SELF);
  ParticleParameters parameters;
  parameters.parse_parameters(prm);
  ParticleSystem particles(*problem, parameters, MPI_COMM_SELF);
  particles.set_positions(initial_particles(*problem, parameters, 0, 20), 0);
  ParticleSystem::Diagnostics d = particles.prepare_step();
  for (unsigned int n = 0; n < 300; ++n) { // t = 600
    particles.complete_step(2.0);
    d = particles.prepare_step();
  }
  EXPECT_LT(d.F, 1e-4);
}

namespace {
// The problem and Particles/Paper subsections of a .prm given as text.
struct Case {
  dealii::ParameterHandler prm;
  std::unique_ptr<Problem> problem;
  ParticleParameters particles;
  PaperParameters paper;

  explicit Case(const std::string &text) {
    declare_all_parameters(prm);
    prm.parse_input_from_string(text);
    problem = create_problem(prm, MPI_COMM_SELF);
    particles.parse_parameters(prm);
    paper.parse_parameters(prm);
  }
};

const std::string deconvolution_m0_3 =
    "set Dimension = 2\nsubsection Problem\n set Type = sparse deconvolution\n"
    " subsection Sparse deconvolution\n  set Number of spikes = 3\n  set Regularization = 0.2\n"
    "  set Seed = 2\n end\nend\n"
    "subsection Particles\n set Number of particles = 6\n set Initialization = evenly spaced\n"
    " set Integrator = forward-backward\n set Step control = backtracking\n set Step = 5e-6\n"
    " set End time = 20\n set Maximum number of iterations = 2000000\nend\n";
} // namespace

// The paper's claim on a small case: with m0 = 3 spikes, m = 2 m0 particles started at r = 0 on
// an even grid reach F* (sliding Frank–Wolfe, certified to 1e-10) within 1e-4 relative — here to
// the 1e-10 stopping floor, measured at t = 6.0 — while the convex problem over the weights of 6
// random positions stays above F* by orders of magnitude (measured: excess 12.6 = 26 F*).
TEST(Paper, DeconvolutionParticlesReachTheOptimumRandomFeaturesDoNot) {
  Case s(deconvolution_m0_3);
  const double F_star = *s.problem->optimal_value();
  ParticleSystem system(*s.problem, s.particles, MPI_COMM_SELF);
  system.set_positions(initial_particles(*s.problem, s.particles, 0, 6), 0);
  const ParticleOutcome flow = run_to_convergence(system, s.particles, s.paper, F_star);
  EXPECT_EQ(flow.reason, "optimum");
  EXPECT_LT((flow.F - F_star) / F_star, 1e-4);
  EXPECT_GE(flow.F - F_star, -1e-12 * F_star); // F* is the infimum: no particle set goes below

  const BaselineOutcome rf = random_features_baseline(*s.problem, 6, 1001, 1e-9);
  EXPECT_LE(rf.certificate, 1e-9 * rf.F);
  EXPECT_GT((rf.F - F_star) / F_star, 1.0);
  EXPECT_GT(rf.F - F_star, 1e6 * std::max(flow.F - F_star, 1e-300));
  std::cout << "F* = " << F_star << ", particles F - F* = " << flow.F - F_star
            << " at t = " << flow.time << " (" << flow.iterations
            << " steps), random features F - F* = " << rf.F - F_star << "\n";
}

// Random features drawn per index from one seed are nested (the first m of 2m are the m), so the
// optimum over their weights cannot increase with m; least squares is certified by its
// optimality residual, the LASSO by its duality gap; m ≥ n random ReLU features interpolate.
TEST(Paper, RandomFeatureOptimaAreCertifiedAndNested) {
  Case net("set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
           " subsection Two-layer network\n  set Number of samples = 40\n end\nend\n");
  double previous = std::numeric_limits<double>::max();
  for (const unsigned int m : {5u, 10u, 20u}) {
    const BaselineOutcome b = random_features_baseline(*net.problem, m, 7, 1e-10);
    EXPECT_LE(b.certificate, 1e-10) << m;
    EXPECT_LE(b.F, previous * (1 + 1e-12)) << m;
    EXPECT_GT(b.F, 0.0);
    previous = b.F;
  }
  const BaselineOutcome interpolating = random_features_baseline(*net.problem, 80, 7, 1e-10);
  EXPECT_LT(interpolating.F, 1e-20);

  Case deconv(deconvolution_m0_3);
  previous = std::numeric_limits<double>::max();
  for (const unsigned int m : {4u, 8u, 16u}) {
    const BaselineOutcome b = random_features_baseline(*deconv.problem, m, 7, 1e-10);
    EXPECT_LE(b.certificate, 1e-10 * b.F) << m;
    EXPECT_LE(b.F, previous + 1e-9 * previous) << m;
    EXPECT_GE(b.F, *deconv.problem->optimal_value()) << m;
    previous = b.F;
  }
}

// Only problems with a convex baseline and a known optimum can run the study.
TEST(Paper, BaselineNeedsAProblemItKnows) {
  Case drift("set Dimension = 2\nsubsection Problem\n set Type = potential drift\nend\n");
  EXPECT_THROW(random_features_baseline(*drift.problem, 4, 1, 1e-9), InputError);
  Case decay("set Dimension = 3\nsubsection Problem\n set Type = two-layer network\n"
             " subsection Two-layer network\n  set Weight decay = 0.1\n end\nend\n");
  EXPECT_THROW(random_features_baseline(*decay.problem, 4, 1, 1e-9), InputError);
  EXPECT_FALSE(decay.problem->optimal_value().has_value());
}
