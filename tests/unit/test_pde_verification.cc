// Verification of the finite-volume solver of (M5) against the exact solutions E1 and E2
// (doc/theory.md §3.3): L¹ errors on refined meshes and observed orders (first order ≥ 0.8, minmod
// ≥ 1.5); the energy identity E3 (M6); mass conservation to round-off, positivity and
// monotone F on the sparse-deconvolution and ReLU problems.
#include "pde_test_helpers.h"
#include "test_helpers.h"

#include <meanfield/base/exceptions.h>
#include <meanfield/problems/exact_solutions.h>

#include <deal.II/base/mpi.h>

#include <cmath>

using namespace MeanField;
using namespace MeanField::testing;

TEST(ExactSolutionE1, FirstOrder1D) {
  expect_order<1>(false, "first order", 40, 4, 0.8);
}
TEST(ExactSolutionE1, Minmod1D) {
  expect_order<1>(false, "minmod", 40, 4, 1.5);
}
TEST(ExactSolutionE1, FirstOrder2D) {
  expect_order<2>(false, "first order", 32, 3, 0.8);
}
TEST(ExactSolutionE1, Minmod2D) {
  expect_order<2>(false, "minmod", 32, 4, 1.5);
}
TEST(ExactSolutionE1, FirstOrder3D) {
  expect_order<3>(false, "first order", 16, 3, 0.8);
}
// On the same 3D meshes the second-order reconstruction is the more accurate one.
TEST(ExactSolutionE1, MinmodBeatsFirstOrder3D) {
  EXPECT_LT(l1_error<3>(e1_text(3, "minmod", 16, 1), false),
            0.6 * l1_error<3>(e1_text(3, "first order", 16, 1), false));
}
TEST(ExactSolutionE2, FirstOrder1D) {
  expect_order<1>(true, "first order", 40, 4, 0.8);
}
TEST(ExactSolutionE2, Minmod1D) {
  expect_order<1>(true, "minmod", 40, 4, 1.5);
}
TEST(ExactSolutionE2, FirstOrder2D) {
  expect_order<2>(true, "first order", 32, 3, 0.8);
}
TEST(ExactSolutionE2, Minmod2D) {
  expect_order<2>(true, "minmod", 32, 4, 1.5);
}

namespace {
const std::string deconvolution_text =
    "set Dimension = 2\n"
    "subsection Problem\n set Type = sparse deconvolution\nend\n"
    "subsection Mesh\n set Subdivisions = 16\n set Global refinements = 1\nend\n";

const std::string relu_text =
    "set Dimension = 3\n"
    "subsection Problem\n set Type = two-layer network\n"
    " subsection Two-layer network\n  set Number of samples = 200\n end\nend\n"
    "subsection Mesh\n set Subdivisions = 8\n set Global refinements = 1\nend\n";
} // namespace

// Sparse deconvolution: periodic in x, no-flux in r, velocity discontinuous at r = 0 (ℓ1).
TEST(FiniteVolumeInvariants, SparseDeconvolution) {
  for (const std::string velocity : {"exact", "discrete gradient"})
    for (const std::string reconstruction : {"first order", "minmod"}) {
      PdeSetup<2> setup(deconvolution_text + "subsection Discretization\n set Face velocity = " +
                        velocity + "\n set Reconstruction = " + reconstruction + "\nend\n");
      check_invariants(setup, 40, true);
    }
}

// Two-layer ReLU network in d = 3 (a, w1, w2): no-flux box.
TEST(FiniteVolumeInvariants, ReluNetwork) {
  PdeSetup<3> setup(relu_text);
  check_invariants(setup, 20, true);
}

// Outflow: what leaves is counted, and mass + outflow stays 1 to round-off.
TEST(FiniteVolumeInvariants, OutflowIsCounted) {
  // sparse deconvolution with a box r ∈ [-0.3, 0.3] far smaller than the spikes' weights
  PdeSetup<2> setup(
      deconvolution_text +
      "subsection Problem\n subsection Sparse deconvolution\n  set Weight bound = 0.3\n"
      " end\nend\nsubsection Mesh\n set Boundary conditions = periodic, outflow\nend\n");
  check_invariants(setup, 60, false);
  EXPECT_GT(setup.solver->prepare_step().outflow, 1e-3); // mass leaves through r = ±0.3
}

// A step far beyond the CFL limit drives a density negative: complete_step() refuses it with a
// RunError naming the step, the time and the CFL number, and keeps the state of its start.
TEST(FiniteVolumeInvariants, UnstableStepIsRefusedAndStateKept) {
  PdeSetup<2> setup(deconvolution_text);
  for (unsigned int n = 0; n < 5; ++n)
    setup.solver->step(1.0);
  const double t = setup.solver->time();
  const dealii::PETScWrappers::MPI::Vector before = setup.solver->density();
  const auto d = setup.solver->prepare_step();
  try {
    setup.solver->complete_step(50 * d.stable_dt);
    FAIL() << "a step of 50 times the stable one was accepted";
  } catch (const RunError &error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("negative density"), std::string::npos) << message;
    EXPECT_NE(message.find("CFL number"), std::string::npos) << message;
    EXPECT_NE(message.find("step 6"), std::string::npos) << message;
  }
  EXPECT_EQ(setup.solver->time(), t);
  EXPECT_EQ(setup.solver->step_number(), 5u);
  dealii::PETScWrappers::MPI::Vector difference = setup.solver->density();
  difference -= before;
  EXPECT_EQ(difference.linfty_norm(), 0.0);
  // and it can go on with a stable step
  EXPECT_NO_THROW(setup.solver->step(1.0));
}

// E3 (M6, M6h): the change of F over a step matches −D_h up to the discretization error, which
// shrinks under refinement.
TEST(EnergyIdentityE3, DissipationMatchesDecayOfF) {
  std::vector<double> mismatch;
  for (unsigned int r = 0; r < 3; ++r) {
    PdeSetup<2> setup("set Dimension = 2\nsubsection Problem\n set Type = linear features\nend\n"
                      "subsection Mesh\n set Subdivisions = 16\n set Global refinements = " +
                      std::to_string(r) + "\nend\n");
    const double worst = energy_identity_mismatch(*setup.solver, 30);
    mismatch.push_back(worst);
  }
  if (dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << "E3 relative mismatch of dF/dt and -dissipation: " << mismatch[0] << ", "
              << mismatch[1] << ", " << mismatch[2] << std::endl;
  // D_h is the dissipation of the fluxes (M6h): with the exact face velocity it differs from −dF/dt
  // of the semi-discrete scheme only by u_f against the discrete gradient, O(h²) (measured 1.9e-3,
  // 4.5e-4, 9.2e-5; the cell-centre ∫|∇F'|² dμ_h gave 0.12, 0.028, 0.007)
  EXPECT_LT(mismatch[2], 1e-3);
  EXPECT_LT(mismatch[2], 0.1 * mismatch[0]);
}
