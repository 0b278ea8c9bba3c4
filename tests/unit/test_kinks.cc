// Kinks of V on cell centres (doc/theory.md §4, (M9a)): the mesh box puts the kink r = 0 of the
// l1 penalty of sparse deconvolution on a row of cell centres at every refinement level, explicit
// bounds that do not are refused with corrected bounds, the minimal-norm subgradient at the kink,
// and the stationary states this buys: the one-spike BLASSO and the default problem reach the
// certified F* within a few percent on 64 cells per direction.
#include "pde_test_helpers.h"

#include <meanfield/base/exceptions.h>
#include <meanfield/objective/regularizer.h>
#include <meanfield/problems/sparse_deconvolution.h>

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>

namespace MeanField {
namespace {
using testing::PdeSetup;

// The problem of parameter_files/default.prm (five spikes whose ground truth fits r in [-3, 3]),
// or the one of @p problem.
std::string deconvolution_prm(const std::string &mesh,
                              const std::string &problem = "    set Minimum weight = 0.2\n"
                                                           "    set Maximum weight = 0.4\n"
                                                           "    set Weight bound = 3\n") {
  return "set Dimension = 2\nset Run mode = pde\nsubsection Problem\n  set Type = sparse "
         "deconvolution\n  subsection Sparse deconvolution\n" +
         problem + "  end\nend\nsubsection Mesh\n" + mesh + "end\n";
}

std::unique_ptr<Problem> make_problem(dealii::ParameterHandler &prm, const std::string &text) {
  declare_all_parameters(prm);
  prm.parse_input_from_string(text);
  return create_problem(prm, MPI_COMM_SELF);
}

// Offset of r = 0 from the nearest cell centre, in cells, for n cells on [lo, hi].
double kink_offset(const double lo, const double hi, const double n) {
  const double u = (0.0 - lo) / (hi - lo) * n - 0.5;
  return u - std::round(u);
}

TEST(KinkOnCellCentres, ProblemDeclaresTheKinkOfTheL1Penalty) {
  dealii::ParameterHandler prm;
  const auto problem = make_problem(prm, deconvolution_prm(""));
  ASSERT_EQ(problem->kinks().size(), 1u);
  EXPECT_EQ(problem->kinks()[0].coordinate, 1u);
  EXPECT_EQ(problem->kinks()[0].value, 0.0);
  // the Huber smoothing has a continuous gradient: no kink
  dealii::ParameterHandler smooth;
  EXPECT_TRUE(
      make_problem(smooth, deconvolution_prm("", "    set Huber width = 0.05\n"))->kinks().empty());
}

// Every uniform refinement level of every coarse mesh: r = 0 on a cell centre (to round-off), the
// box shifted by at most half a cell and of unchanged width, x untouched (periodic).
TEST(KinkOnCellCentres, MeshBoxPutsTheKinkOnCentresAtEveryLevel) {
  for (const unsigned int subdivisions : {1u, 7u, 16u, 64u})
    for (unsigned int level = 0; level <= 4; ++level) {
      dealii::ParameterHandler prm;
      const auto problem = make_problem(
          prm, deconvolution_prm("  set Subdivisions = " + std::to_string(subdivisions) +
                                 "\n  set Global refinements = " + std::to_string(level) + "\n"));
      PdeParameters pde;
      pde.parse_parameters(prm);
      pde.check_consistency(*problem);
      const Domain box = pde.mesh_box(*problem), natural = problem->domain();
      const double n = double(subdivisions << level), h = (natural.upper[1] - natural.lower[1]) / n;
      SCOPED_TRACE("subdivisions " + std::to_string(subdivisions) + ", level " +
                   std::to_string(level));
      // a few operations on numbers of size R: round-off of a few ulp of R, in cells
      EXPECT_LE(std::abs(kink_offset(box.lower[1], box.upper[1], n)), 1e-12);
      EXPECT_LE(std::abs(box.lower[1] - natural.lower[1]), 0.5 * h * (1 + 1e-12));
      EXPECT_NEAR(box.upper[1] - box.lower[1], natural.upper[1] - natural.lower[1], 1e-12);
      EXPECT_EQ(box.lower[0], natural.lower[0]);
      EXPECT_EQ(box.upper[0], natural.upper[0]);
    }
}

// The solver's cloud (what the kernel sees) has a row of centres exactly on r = 0.
TEST(KinkOnCellCentres, SolverHasARowOfCentresOnTheKink) {
  PdeSetup<2> setup(deconvolution_prm("  set Subdivisions = 16\n  set Global refinements = 2\n"));
  const WeightedCloud &cloud = setup.solver->cloud();
  std::size_t on_kink = 0;
  for (std::size_t j = 0; j < cloud.size(); ++j)
    on_kink += cloud.position(j)[1] == 0.0;
  EXPECT_EQ(dealii::Utilities::MPI::sum(on_kink, MPI_COMM_WORLD), 64u);
}

// Explicit bounds with a face on the kink are refused; the message holds bounds that are accepted.
TEST(KinkOnCellCentres, ExplicitBoundsWithAFaceOnTheKinkAreRefusedWithTheFix) {
  dealii::ParameterHandler prm;
  const auto problem = make_problem(
      prm, deconvolution_prm("  set Subdivisions = 64\n  set Global refinements = 0\n"
                             "  set Lower bounds = 0, -3\n  set Upper bounds = 1, 3\n"));
  PdeParameters pde;
  pde.parse_parameters(prm);
  std::string message;
  try {
    pde.check_consistency(*problem);
  } catch (const InputError &e) {
    message = e.what();
  }
  ASSERT_NE(message.find("puts it on a cell face"), std::string::npos) << message;
  const std::size_t lower = message.find("set Lower bounds = "),
                    upper = message.find("set Upper bounds = ");
  ASSERT_NE(lower, std::string::npos) << message;
  ASSERT_NE(upper, std::string::npos) << message;
  auto line = [&](const std::size_t at) {
    const std::size_t begin = message.find('=', at) + 1;
    return message.substr(begin, message.find('\n', begin) - begin);
  };
  pde.lower = parse_double_list(line(lower));
  pde.upper = parse_double_list(line(upper));
  EXPECT_NO_THROW(pde.check_consistency(*problem));
  EXPECT_LE(std::abs(kink_offset(pde.lower[1], pde.upper[1], 64)), 1e-12);
  EXPECT_NEAR(pde.upper[1] - pde.lower[1], 6.0, 1e-12); // the same cells, shifted

  // an odd number of cells on the symmetric box has the kink on a centre already
  pde.subdivisions = {64, 65};
  pde.lower = {0, -3};
  pde.upper = {1, 3};
  EXPECT_NO_THROW(pde.check_consistency(*problem));
}

// At r = 0 the kernel returns the minimal-norm element of ∂_r F' = G + λ[−1, 1]: soft-thresholding
// of the data part G (so mass on the kink has zero velocity while |G| ≤ λ); elsewhere G + λ sign r.
TEST(KinkOnCellCentres, MinimalNormSubgradientOnTheKink) {
  const double lambda = 0.2;
  const L1Coordinate V(1, lambda);
  PointSet points(2, 3);
  const double r[3] = {0.0, 0.0, 0.5};
  for (unsigned int q = 0; q < 3; ++q) {
    points[q][0] = 0.25;
    points[q][1] = r[q];
  }
  std::vector<double> values(3, 0.0), gradients = {7.0, 0.15, 7.0, -0.5, 7.0, -0.5};
  V.add_to(points, values.data(), gradients.data());
  EXPECT_EQ(gradients[1], 0.0);                  // |G| = 0.15 ≤ λ: trapped
  EXPECT_DOUBLE_EQ(gradients[3], -0.5 + lambda); // |G| > λ: leaves the kink at speed |G| − λ
  EXPECT_DOUBLE_EQ(gradients[5], -0.5 + lambda); // off the kink: G + λ sign(r)
  EXPECT_EQ(gradients[0], 7.0);                  // other coordinates untouched
  // the same on a tensor grid, through add_to and add_partial
  const GridPointSet grid = GridPointSet::tensor_product({{0.25, 0.5}, {-0.5, 0.0, 0.5}});
  std::vector<double> grid_values(6, 0.0), grid_gradients(12, 0.0), partial(6, 0.0);
  for (std::size_t q = 0; q < 6; ++q)
    grid_gradients[2 * q + 1] = partial[q] = q % 2 ? 0.3 : -0.1;
  V.add_to(grid, grid_values.data(), grid_gradients.data());
  V.add_partial(grid, 1, partial.data());
  for (std::size_t q = 0; q < 6; ++q) {
    const double rq = grid.coordinate(q, 1), g = q % 2 ? 0.3 : -0.1;
    const double expected =
        rq == 0.0 ? (g > lambda ? g - lambda : 0.0) : g + lambda * (rq > 0 ? 1.0 : -1.0);
    EXPECT_DOUBLE_EQ(grid_gradients[2 * q + 1], expected) << "point " << q;
    EXPECT_DOUBLE_EQ(partial[q], expected) << "point " << q;
  }
}

// One spike (x* = 0.3, r* = 0.3) from the default μ0 on 64 × 64 cells: the PDE's stationary F is
// the closed-form BLASSO optimum F* = λ r* − λ²/(2κ(2 f_c + 1)) = 0.058667 within 3% (2.2% is
// measured: the discretization error; with a face on the kink it stalled 17% above).
TEST(KinkOnCellCentres, OneSpikePdeReachesTheBlassoOptimum) {
  PdeSetup<2> setup(deconvolution_prm("  set Subdivisions = 64\n  set Global refinements = 0\n",
                                      "    set Spike positions = 0.3\n    set Spike weights = 0.3\n"
                                      "    set Weight bound = 3\n") +
                    "subsection Time stepping\n  set End time = 8\nend\n");
  const double lambda = 0.2, F_star = lambda * 0.3 - lambda * lambda / (2 * 15);
  EXPECT_NEAR(setup.problem->optimal_value().value(), F_star, 1e-10);
  const double F = setup.run_to_end().F;
  EXPECT_GE(F, F_star * (1 - 1e-3)); // the cell-centre measure cannot beat the optimum by much
  EXPECT_LE(F, 1.03 * F_star) << "F = " << F << ", F* = " << F_star;
}

// The default problem (parameter_files/default.prm: 5 spikes, r in [-3, 3], 64 × 64 cells) becomes
// stationary within 2% of its certified F* (sliding Frank–Wolfe): 1.3% is measured at t = 8,
// changing by < 0.1% from t = 5 on. With the face on the kink it stalled 61% above F*.
TEST(KinkOnCellCentres, DefaultProblemBecomesStationaryNearTheCertifiedOptimum) {
  PdeSetup<2> setup(deconvolution_prm("  set Subdivisions = 16\n  set Global refinements = 2\n") +
                    "subsection Time stepping\n  set End time = 8\nend\n");
  const double F_star = setup.problem->optimal_value().value();
  const double D_0 = setup.solver->prepare_step().dissipation;
  double F_at_5 = 0.0;
  while (setup.solver->time() < 8 - 1e-12) {
    const double t = setup.solver->time();
    const double limit = t < 5 ? 5 - t : 8 - t;
    setup.solver->step(limit);
    if (std::abs(setup.solver->time() - 5) < 1e-12)
      F_at_5 = setup.solver->prepare_step().F;
  }
  const auto end = setup.solver->prepare_step();
  const double F = end.F;
  EXPECT_LE(F, 1.02 * F_star) << "F = " << F << ", F* = " << F_star;
  EXPECT_GE(F, F_star * (1 - 1e-3));
  EXPECT_LE(F_at_5 - F, 1e-3 * F) << "not stationary: F(5) = " << F_at_5 << ", F(8) = " << F;
  // the fluxes' dissipation (M6h) says so too: ~1e-6 of its initial value (measured 5e-7); the
  // cell-centre ∫|∇F'|² dμ_h stayed at 0.1 of it, the spikes' mass sitting off the centres
  EXPECT_LT(end.dissipation, 1e-4 * D_0) << "D(0) = " << D_0 << ", D(8) = " << end.dissipation;
}

// The energy identity (M6h) on the l1 problem, where the flow traps mass on the kink row and
// concentrates it at the spikes: with the discrete-gradient face velocity dF/dt = −D_h holds for
// the semi-discrete scheme exactly, so over a step ΔF/Δt and −(D_n + D_{n+1})/2 differ by the
// time error only (SSP-RK3: measured 3e-8 relative at t = 2, where the centre-based
// ∫|∇F'|² dμ_h reads 45 against D_h = 0.016 on this mesh).
TEST(KinkOnCellCentres, FluxDissipationIsTheDecayOfFOnTheL1Problem) {
  PdeSetup<2> setup(deconvolution_prm("  set Subdivisions = 32\n  set Global refinements = 0\n") +
                    "subsection Discretization\n  set Face velocity = discrete gradient\nend\n"
                    "subsection Time stepping\n  set End time = 2\n  set Integrator = ssp-rk3\n"
                    "end\n");
  setup.run_to_end();
  auto before = setup.solver->prepare_step();
  double worst = 0.0;
  for (int n = 0; n < 50; ++n) {
    const double dt = before.stable_dt;
    setup.solver->complete_step(dt);
    const auto after = setup.solver->prepare_step();
    const double rate = 0.5 * (before.dissipation + after.dissipation);
    ASSERT_GT(rate, 0.0);
    worst = std::max(worst, std::abs((after.F - before.F) / dt + rate) / rate);
    before = after;
  }
  std::cout << "l1 problem, t = 2: relative mismatch of dF/dt and -D_h over a step " << worst
            << " (D_h = " << before.dissipation << ")" << std::endl;
  EXPECT_LT(worst, 1e-5);
}
} // namespace
} // namespace MeanField
