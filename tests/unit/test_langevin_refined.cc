// Mean-field Langevin dynamics on locally refined meshes (M13 on the face table, doc/theory.md
// §4.1 and §7): the face path reproduces the lattice's Scharfetter–Gummel operator on a uniform
// mesh, the discrete Gibbs state stays exactly stationary across hanging faces, the
// Ornstein–Uhlenbeck flow keeps its order on a refined band, the free energy decreases along
// explicit and implicit steps, the matrix is a mass-conserving M-matrix, adaptation conserves
// mass, and two ranks give the serial answer.
#include "langevin_test_helpers.h"
#include "pde_test_helpers.h"

#include <meanfield/pde/pde_stepper.h>

#include <deal.II/base/mpi.h>

#include <cmath>
#include <string>

using namespace MeanField;
using namespace MeanField::testing;

namespace {
std::string refinement(const std::string &lines) {
  return "subsection Mesh\n subsection Refinement\n" + lines + " end\nend\n";
}

// Two extra levels around r = 0 of the deconvolution box (hanging faces at its edges).
const std::string deconvolution_band =
    refinement("  set Box lower = 0, -0.4\n  set Box upper = 1, 0.4\n  set Box levels = 2\n");

double relative(const double a, const double b) {
  return std::abs(a - b) / std::max(std::abs(b), 1e-300);
}
} // namespace

// On a uniform mesh the face table's Scharfetter–Gummel operator is the lattice's: the same
// coefficients per face, the diagnostics to the round-off of other summation orders.
TEST(LangevinFacePath, ReproducesLatticeOnUniformMesh) {
  for (const std::string velocity : {"exact", "discrete gradient"}) {
    SCOPED_TRACE(velocity);
    const std::string text = langevin_deconvolution("explicit", 0.02) +
                             "subsection Discretization\n set Face velocity = " + velocity +
                             "\nend\n";
    PdeSetup<2> lattice(text), faces(text + refinement("  set Operator = faces\n"));
    ASSERT_FALSE(lattice.solver->face_path());
    ASSERT_TRUE(faces.solver->face_path());
    for (unsigned int n = 0; n <= 10; ++n) {
      const auto a = lattice.solver->prepare_step(), b = faces.solver->prepare_step();
      const std::string step = "step " + std::to_string(n);
      EXPECT_LE(relative(b.free_energy, a.free_energy), 1e-13) << step;
      EXPECT_LE(relative(b.entropy, a.entropy), 1e-13) << step;
      EXPECT_LE(relative(b.gibbs_residual, a.gibbs_residual), 1e-12) << step;
      EXPECT_LE(relative(b.dissipation, a.dissipation), 1e-12) << step;
      EXPECT_LE(relative(b.residual, a.residual), 1e-12) << step;
      EXPECT_LE(relative(b.stable_dt, a.stable_dt), 1e-13) << step;
      EXPECT_LE(std::abs(b.wall_flux - a.wall_flux), 1e-13 * std::max(1.0, a.wall_flux)) << step;
      EXPECT_LE(relative(b.max_density, a.max_density), 1e-13) << step;
      if (n < 10) {
        lattice.solver->complete_step(a.stable_dt);
        faces.solver->complete_step(a.stable_dt);
      }
    }
  }
}

// e^{−V/τ} at the cell centres (one quadrature point per cell) on a mesh with two extra levels
// over the bump: each face's flux has x = the jump of V/τ between its two centres, so it vanishes
// to round-off across the hanging faces too; a state away from it has an O(1) residual.
TEST(LangevinRefined, DiscreteGibbsStateIsStationary) {
  const OrnsteinUhlenbeck gibbs{{1.0, 2.0}, {0.0, 0.0}, 0.0, 0.05, 1.2};
  const std::string box = refinement("  set Box lower = -0.3, -0.2\n  set Box upper = 0.4, 0.3\n"
                                     "  set Box levels = 2\n");
  const std::string settings = "subsection Discretization\n set Quadrature points = 1\n"
                               " set Face velocity = discrete gradient\nend\n";
  PdeSetup<2> setup(gibbs.text(20, 0, 1.0) + box + settings +
                    "subsection Initial condition\n"
                    " set Density = exp(-(x^2 + 2 * y^2) / (2 * 0.05))\nend\n");
  const auto d = setup.solver->prepare_step();
  ASSERT_EQ(d.finest_level, 2u);
  EXPECT_LT(d.residual, 1e-12) << "the flux on the discrete Gibbs state";
  EXPECT_LT(d.gibbs_residual, 1e-13);
  EXPECT_LT(std::abs(d.dissipation), 1e-12);
  // ten explicit steps leave it where it is
  for (int n = 0; n < 10; ++n) {
    setup.solver->complete_step(setup.solver->prepare_step().stable_dt);
  }
  EXPECT_LT(setup.solver->prepare_step().gibbs_residual, 1e-12);

  PdeSetup<2> away(gibbs.text(20, 0, 1.0) + box + settings +
                   "subsection Initial condition\n set Density = exp(-((x-0.3)^2 + y^2) / 0.02)\n"
                   "end\n");
  const auto a = away.solver->prepare_step();
  EXPECT_GT(a.residual, 0.1);
  EXPECT_GT(a.gibbs_residual, 0.5);
}

// The OU flow (exact Gaussian) on meshes with a band one level finer across the bump's path,
// its hanging faces crossing the bump: L1 errors at t = 0.25 keep a second-order-like decay.
TEST(LangevinRefined, OrnsteinUhlenbeckOrderOnRefinedBand) {
  const std::string band =
      refinement("  set Box lower = 0, -0.3\n  set Box upper = 0.5, 0.1\n  set Box levels = 1\n");
  expect_ou_order<2>(ou_2d, 16, 3, 1.4, [&](unsigned int) { return band; });
}

// Explicit steps on the refined deconvolution mesh: F_τ non-increasing, ρ > 0, mass to
// round-off, and −dF_τ/dt ≈ the Scharfetter–Gummel dissipation on the faces.
TEST(LangevinRefined, FreeEnergyNonIncreasingAlongExplicitSteps) {
  PdeSetup<2> setup(langevin_deconvolution("explicit", 0.02) + deconvolution_band);
  auto previous = setup.solver->prepare_step();
  ASSERT_EQ(previous.finest_level, 2u);
  for (unsigned int n = 0; n < 60; ++n) {
    const double dt = previous.stable_dt;
    setup.solver->complete_step(dt);
    const auto d = setup.solver->prepare_step();
    EXPECT_LE(d.free_energy, previous.free_energy + 1e-13 * std::abs(previous.free_energy))
        << "step " << n;
    EXPECT_NEAR(d.mass, 1.0, 1e-12) << "step " << n;
    EXPECT_GT(d.min_density, 0.0) << "step " << n;
    const double rate = (previous.free_energy - d.free_energy) / dt,
                 mean = 0.5 * (previous.dissipation + d.dissipation);
    EXPECT_NEAR(rate, mean, 0.05 * mean) << "step " << n;
    previous = d;
  }
}

// The implicit schemes with steps far beyond the explicit limit on the refined mesh.
TEST(LangevinRefined, FreeEnergyNonIncreasingAlongImplicitSteps) {
  for (const std::string scheme : {"linearly implicit", "implicit"}) {
    PdeSetup<2> setup(langevin_deconvolution(scheme, 0.02) + deconvolution_band);
    auto previous = setup.solver->prepare_step();
    const double dt = 100 * previous.stable_dt;
    for (unsigned int n = 0; n < 20; ++n) {
      if (scheme == "implicit")
        ASSERT_TRUE(setup.solver->nonlinear_step(dt)) << scheme << ", step " << n;
      else
        setup.solver->implicit_step(dt);
      const auto d = setup.solver->prepare_step();
      EXPECT_LE(d.free_energy, previous.free_energy + 1e-10 * std::abs(previous.free_energy))
          << scheme << ", step " << n;
      EXPECT_NEAR(d.mass, 1.0, 1e-10) << scheme << ", step " << n;
      EXPECT_GE(d.min_density, 0.0) << scheme << ", step " << n;
      previous = d;
    }
  }
}

// I/dt + A with the Scharfetter–Gummel coefficients on the faces: a strict M-matrix whose
// columns, weighted by the cell volumes, sum to |K|/dt.
TEST(LangevinRefined, TransportMatrixIsAnMMatrixWhoseColumnsConserveMass) {
  PdeSetup<2> setup(langevin_deconvolution("linearly implicit", 0.05) + deconvolution_band);
  setup.solver->prepare_step();
  const double dt = 0.05;
  dealii::PETScWrappers::MPI::Vector volumes(setup.solver->locally_owned_cells(), MPI_COMM_WORLD);
  setup.solver->cell_volumes(volumes);
  EXPECT_LT(volumes.mean_value(), 0.99 * volumes.linfty_norm()); // cells of different sizes
  expect_mass_conserving_m_matrix(setup.solver->assemble_transport_matrix(dt),
                                  setup.solver->locally_owned_cells(), dt, true, &volumes);
}

// Adaptive refinement under the Langevin flux: mass to round-off and ρ > 0 through every
// refine/coarsen cycle, the free energy non-increasing across the steps between them.
TEST(LangevinRefined, AdaptationConservesMass) {
  PdeSetup<2> setup(langevin_deconvolution("explicit", 0.02) +
                    refinement("  set Adaptive = true\n  set Maximum level = 2\n"
                               "  set Adaptation interval = 5\n  set Buffer cells = 3\n"));
  auto previous = setup.solver->prepare_step();
  for (unsigned int n = 0; n < 30; ++n) {
    if (n % 5 == 4) {
      setup.solver->adapt_mesh();
      const auto d = setup.solver->prepare_step();
      EXPECT_NEAR(d.mass, 1.0, 1e-13) << "after adaptation at step " << n;
      EXPECT_GT(d.min_density, 0.0);
      previous = d;
    }
    setup.solver->complete_step(previous.stable_dt);
    const auto d = setup.solver->prepare_step();
    EXPECT_NEAR(d.mass, 1.0, 1e-12) << "step " << n;
    EXPECT_GT(d.min_density, 0.0) << "step " << n;
    EXPECT_LE(d.free_energy, previous.free_energy + 1e-13 * std::abs(previous.free_energy))
        << "step " << n;
    previous = d;
  }
  EXPECT_GE(previous.finest_level, 1u);
}

// Two ranks (the band split between them) give the serial state; the kernel's all-reduce sums
// the cells in another order, and the implicit step carries the KSP's relative tolerance.
TEST(LangevinRefined, SerialEqualsParallel) {
  for (const std::string scheme : {"explicit", "linearly implicit"}) {
    const std::string text = langevin_deconvolution(scheme, 0.02) + deconvolution_band;
    PdeSetup<2> serial(text, MPI_COMM_SELF), parallel(text, MPI_COMM_WORLD);
    const double dt = (scheme == "explicit" ? 0.5 : 20.0) * serial.solver->prepare_step().stable_dt;
    for (unsigned int n = 0; n < 10; ++n)
      for (auto *s : {serial.solver.get(), parallel.solver.get()}) {
        s->prepare_step();
        if (scheme == "explicit")
          s->complete_step(dt);
        else
          s->implicit_step(dt);
      }
    const auto ds = serial.solver->prepare_step(), dp = parallel.solver->prepare_step();
    const double tolerance = scheme == "explicit" ? 1e-11 : 1e-9;
    EXPECT_NEAR(dp.free_energy, ds.free_energy, tolerance * std::abs(ds.free_energy)) << scheme;
    EXPECT_NEAR(dp.gibbs_residual, ds.gibbs_residual, tolerance * ds.gibbs_residual) << scheme;
    EXPECT_NEAR(dp.dissipation, ds.dissipation, tolerance * ds.dissipation) << scheme;
    EXPECT_NEAR(dp.mass, ds.mass, 1e-12) << scheme;
  }
}
