// Mean-field Langevin dynamics (M12–M13, doc/theory.md §7) on the mesh and on particles: the
// Bernoulli function, the Scharfetter–Gummel flux on a discrete Gibbs state, the τ → 0 limit,
// the Ornstein–Uhlenbeck flow (exact Gaussian at every t) with observed orders, the free energy
// along the flow, and the noisy particles' mean and covariance.
#include "langevin_test_helpers.h"
#include "particle_test_helpers.h"
#include "pde_test_helpers.h"
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/pde/bernoulli.h>
#include <meanfield/pde/pde_stepper.h>
#include <meanfield/pde/vector_access.h>

#include <deal.II/base/mpi.h>

#include <petscmat.h>

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <sstream>

using namespace MeanField;
using namespace MeanField::testing;

// B(x) e^{x} = B(−x) to round-off for all x (so the flux vanishes on e^{−ξ}), B(0) = 1, and the
// Taylor series 1 − x/2 + x²/12 near 0.
TEST(Bernoulli, IdentitiesAndLimits) {
  double b0 = 0.0, b0m = 0.0;
  bernoulli_pair(0.0, b0, b0m);
  EXPECT_EQ(b0, 1.0);
  EXPECT_EQ(b0m, 1.0);
  for (const double x : {-700.0, -40.0, -3.0, -1e-3, -1e-9, 1e-12, 1e-6, 0.5, 2.0, 30.0, 600.0}) {
    double bp = 0.0, bm = 0.0;
    bernoulli_pair(x, bp, bm);
    EXPECT_GT(bp, 0.0);
    EXPECT_GT(bm, 0.0);
    // B(−x) − B(x) = x exactly in real arithmetic
    EXPECT_NEAR(bm - bp, x, 4 * unit_roundoff * std::max(bm, bp)) << x;
    if (std::abs(x) < 40) { // B(x) e^{x} = B(−x): the rounding of exp and of the quotient
      EXPECT_NEAR(bp * std::exp(x), bm, 8 * unit_roundoff * bm) << x;
    }
    if (std::abs(x) < 1e-3) {
      EXPECT_NEAR(bp, 1.0 - x / 2 + x * x / 12, 1e-13) << x;
    }
  }
}

// A discrete Gibbs state ρ_K ∝ e^{−V(θ_K)/τ} (the midpoint rule puts the point values in the
// cells) is stationary for the flux with the jumps of V between the centres: ‖L(ρ)‖_L1 to
// round-off, against O(1) for a state away from it.
TEST(ScharfetterGummel, VanishesOnDiscreteGibbsState) {
  const OrnsteinUhlenbeck gibbs{{1.0, 2.0}, {0.0, 0.0}, 0.0, 0.05, 1.2};
  // ρ0 = exp(−V/τ) = exp(−(x² + 2y²)/(2τ))
  const std::string density =
      "subsection Initial condition\n set Density = exp(-(x^2 + 2 * y^2) / (2 * 0.05))\nend\n"
      "subsection Discretization\n set Quadrature points = 1\n set Face velocity = ";
  std::string text = gibbs.text(40, 0, 1.0);
  PdeSetup<2> discrete(text + density + "discrete gradient\nend\n");
  const auto d = discrete.solver->prepare_step();
  EXPECT_LT(d.residual, 1e-12) << "the flux on the discrete Gibbs state";
  EXPECT_LT(d.gibbs_residual, 1e-13);
  EXPECT_LT(d.dissipation, 1e-12);
  // for a quadratic V the exact face derivative is the jump between the centres: also stationary
  PdeSetup<2> exact(text + density + "exact\nend\n");
  EXPECT_LT(exact.solver->prepare_step().residual, 1e-12);
  // a state away from the Gibbs state has an O(1) residual
  PdeSetup<2> away(gibbs.text(40, 0, 1.0) +
                   "subsection Initial condition\n set Density = exp(-((x-0.3)^2 + y^2) / 0.02)\n"
                   "end\n");
  const auto a = away.solver->prepare_step();
  EXPECT_GT(a.residual, 0.1);
  EXPECT_GT(a.gibbs_residual, 0.5);
}

// τ → 0: the Scharfetter–Gummel scheme tends to the first-order upwind scheme of the Wasserstein
// flow (their fluxes differ by O(τ/h) where u_f ≈ 0), on E2 with a data term.
TEST(ScharfetterGummel, ZeroTemperatureLimitIsUpwind) {
  const std::string base =
      "set Dimension = 2\nsubsection Problem\n set Type = linear features\n"
      " subsection Linear features\n  set Target = 0.5, -0.5\n  set Weight decay = 0.5\n"
      "  set Box half-width = 1.5\n end\nend\nsubsection Initial condition\n"
      " set Density = exp(-((x + 0.5)^2 + (y - 0.5)^2) / (2 * 0.15^2))\nend\n"
      "subsection Mesh\n set Subdivisions = 32\nend\n"
      "subsection Discretization\n set Reconstruction = first order\nend\n"
      "subsection Time stepping\n set End time = 0.25\n set Integrator = ssp-rk2\n"
      " set CFL number = 0.5\nend\n";
  PdeSetup<2> upwind(base);
  PdeSetup<2> sg(base +
                 "subsection Dynamics\n set Type = langevin\n set Temperature = 1e-12\nend\n");
  const auto du = upwind.run_to_end(), ds = sg.run_to_end();
  EXPECT_EQ(upwind.solver->step_number(), sg.solver->step_number());
  EXPECT_NEAR(ds.F, du.F, 1e-9 * std::abs(du.F));
  EXPECT_NEAR(ds.dissipation, du.dissipation, 1e-6 * du.dissipation);
  dealii::PETScWrappers::MPI::Vector difference = sg.solver->density();
  difference -= upwind.solver->density();
  EXPECT_LT(difference.linfty_norm(), 1e-9 * upwind.solver->density().linfty_norm());
}

// The Ornstein–Uhlenbeck flow: L1 errors against the exact Gaussian at t = 0.25.
TEST(OrnsteinUhlenbeckPde, Order1D) {
  expect_ou_order<1>(ou_1d, 32, 4, 1.5);
}
TEST(OrnsteinUhlenbeckPde, Order2D) {
  expect_ou_order<2>(ou_2d, 16, 3, 1.5);
}
// Linearly implicit steps (backward Euler here: the OU velocity does not depend on ρ), first
// order in time: with Δt = 2h² the time error keeps the space error's order.
TEST(OrnsteinUhlenbeckPde, LinearlyImplicitOrder1D) {
  expect_ou_order<1>(ou_1d, 32, 4, 1.5, [](const unsigned int r) {
    const double h = 3.0 / (32 << r), dt = 2 * h * h;
    return "subsection Time stepping\n set Scheme = linearly implicit\n set Step tolerance = 0\n"
           " set Initial time step = " +
           std::to_string(dt) + "\nend\n";
  });
}

// Explicit steps under the step limit (CFL and h²/(2dτ) in one): F_τ non-increasing, ρ ≥ 0,
// mass to round-off, and −dF_τ/dt ≈ the dissipation of the Scharfetter–Gummel fluxes (the
// semi-discrete identity, up to the O(dt) of the step).
TEST(FreeEnergy, NonIncreasingAlongExplicitSteps) {
  PdeSetup<2> setup(langevin_deconvolution("explicit", 0.02));
  auto previous = setup.solver->prepare_step();
  ASSERT_TRUE(std::isfinite(previous.free_energy));
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

// The implicit schemes with steps far beyond the explicit limit: F_τ non-increasing at every
// accepted step, ρ > 0, mass to the solver's tolerance.
TEST(FreeEnergy, NonIncreasingAlongImplicitSteps) {
  for (const std::string scheme : {"linearly implicit", "implicit"}) {
    PdeSetup<2> setup(langevin_deconvolution(scheme, 0.02));
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
      EXPECT_NEAR(d.mass, 1.0, 1e-11) << scheme << ", step " << n;
      EXPECT_GE(d.min_density, 0.0) << scheme << ", step " << n;
      previous = d;
    }
  }
}

// The Scharfetter–Gummel matrix I/dt + A is an M-matrix whose columns sum to 1/dt.
TEST(ScharfetterGummel, TransportMatrixIsAnMMatrixWhoseColumnsConserveMass) {
  PdeSetup<2> setup(langevin_deconvolution("linearly implicit", 0.05));
  setup.solver->prepare_step();
  const double dt = 0.05;
  // strict: the diffusion moves mass across every face
  expect_mass_conserving_m_matrix(setup.solver->assemble_transport_matrix(dt),
                                  setup.solver->locally_owned_cells(), dt, true);
}

// Two ranks give the serial state: the kernel's all-reduce sums the cells' f in another order
// (relative ~ n u with n the 512 cells), every other operation is the same per cell.
TEST(ScharfetterGummel, SerialEqualsParallel) {
  for (const std::string scheme : {"explicit", "linearly implicit"}) {
    const std::string text = langevin_deconvolution(scheme, 0.02);
    PdeSetup<2> serial(text, MPI_COMM_SELF), parallel(text, MPI_COMM_WORLD);
    const double dt = (scheme == "explicit" ? 0.5 : 20.0) * serial.solver->prepare_step().stable_dt;
    parallel.solver->prepare_step();
    for (unsigned int n = 0; n < 10; ++n)
      for (auto *s : {serial.solver.get(), parallel.solver.get()}) {
        s->prepare_step();
        if (scheme == "explicit")
          s->complete_step(dt);
        else
          s->implicit_step(dt);
      }
    const auto ds = serial.solver->prepare_step(), dp = parallel.solver->prepare_step();
    // the KSP's relative tolerance 1e-12 (another block structure on two ranks) for the implicit
    const double tolerance = scheme == "explicit" ? 1e-11 : 1e-9;
    EXPECT_NEAR(dp.free_energy, ds.free_energy, tolerance * std::abs(ds.free_energy)) << scheme;
    EXPECT_NEAR(dp.gibbs_residual, ds.gibbs_residual, tolerance * ds.gibbs_residual) << scheme;
    EXPECT_NEAR(dp.dissipation, ds.dissipation, tolerance * ds.dissipation) << scheme;
  }
}

namespace {

std::string ou_particles(const std::string &integrator, const unsigned int m) {
  return ou_2d.text(16, 0, 1.0) +
         "subsection Particles\n set Number of particles = " + std::to_string(m) +
         "\n set Integrator = " + integrator + "\n set Step = 0.004\n set Seed = 7\nend\n";
}
} // namespace

// The OU flow on particles: mean and variance per direction within 4σ of the exact Gaussian
// (σ the sampling error of m particles, 4σ = 2.5% of the variance; Euler–Maruyama's bias in the
// variance, about K dt/2 = 0.4%, is far below), for Euler–Maruyama, stochastic Heun and the noisy
// forward–backward step θ ← prox_{ηV}(θ + √(2τη)ζ) = (θ + √(2τη)ζ)/(1 + ηK) (bias −ηK/2 likewise).
TEST(OrnsteinUhlenbeckParticles, MeanAndCovariance) {
  const unsigned int m = 50000;
  const double t = 1.0;
  for (const std::string integrator : {"euler", "rk2", "forward-backward"}) {
    ParticleSetup particles(ou_particles(integrator, m), MPI_COMM_WORLD);
    particles.run_to(t);
    const WeightedCloud &cloud = particles.system->cloud();
    double sums[5] = {0, 0, 0, 0, 0}; // Σθ_0, Σθ_1, Σθ_0², Σθ_1², Σθ_0θ_1
    for (std::size_t j = 0; j < cloud.size(); ++j) {
      const double *p = cloud.points[j];
      sums[0] += p[0], sums[1] += p[1], sums[2] += p[0] * p[0], sums[3] += p[1] * p[1];
      sums[4] += p[0] * p[1];
    }
    dealii::Utilities::MPI::sum(dealii::ArrayView<const double>(sums, 5), MPI_COMM_WORLD,
                                dealii::ArrayView<double>(sums, 5));
    for (unsigned int i = 0; i < 2; ++i) {
      const double mean = sums[i] / m, variance = sums[2 + i] / m - mean * mean;
      const double exact_mean = ou_2d.mean(i, t), exact_variance = ou_2d.variance(i, t);
      EXPECT_NEAR(mean, exact_mean, 4 * std::sqrt(exact_variance / m)) << integrator << " " << i;
      EXPECT_NEAR(variance, exact_variance, 4 * exact_variance * std::sqrt(2.0 / m))
          << integrator << " " << i;
    }
    const double covariance = sums[4] / m - sums[0] / m * sums[1] / m;
    EXPECT_NEAR(covariance, 0.0, 4 * std::sqrt(ou_2d.variance(0, t) * ou_2d.variance(1, t) / m))
        << integrator;
  }
}

// One counter-based normal stream per particle: two ranks move every particle exactly as one
// rank does (E1 has no data term, so no reduction enters the update).
TEST(OrnsteinUhlenbeckParticles, SerialEqualsParallel) {
  ParticleSetup serial(ou_particles("euler", 1000), MPI_COMM_SELF),
      parallel(ou_particles("euler", 1000), MPI_COMM_WORLD);
  serial.run_to(0.1);
  parallel.run_to(0.1);
  const WeightedCloud &a = serial.system->cloud(), &b = parallel.system->cloud();
  const std::size_t first = parallel.system->first_index();
  for (std::size_t j = 0; j < b.size(); ++j)
    for (unsigned int i = 0; i < 2; ++i)
      ASSERT_EQ(b.points[j][i], a.points[first + j][i]) << "particle " << first + j;
}

// The noise reflects at the walls: with a box far narrower than the Gaussian every particle stays
// inside, and the no-flux box of the PDE holds them as it holds the mass.
TEST(OrnsteinUhlenbeckParticles, ReflectedAtTheWalls) {
  OrnsteinUhlenbeck narrow = ou_2d;
  narrow.tau = 0.5;
  narrow.half_width = 0.4;
  narrow.m0 = {0.0, 0.0};
  for (const std::string integrator : {"euler", "rk2", "forward-backward"}) {
    ParticleSetup particles(narrow.text(16, 0, 0.2) +
                                "subsection Particles\n set Number of particles = 2000\n"
                                " set Integrator = " +
                                integrator + "\n set Step = 0.01\nend\n",
                            MPI_COMM_WORLD);
    particles.run_to(0.2);
    const WeightedCloud &cloud = particles.system->cloud();
    for (std::size_t j = 0; j < cloud.size(); ++j)
      for (unsigned int i = 0; i < 2; ++i) {
        ASSERT_GE(cloud.points[j][i], -0.4) << integrator;
        ASSERT_LE(cloud.points[j][i], 0.4) << integrator;
      }
  }
}

namespace {
// The deconvolution problem at τ = 0.05 with a smooth (Huber, width 0.1) penalty, so that no
// kink shifts the box and the meshes are nested, run with backward Euler steps to
// ‖L(ρ_h)‖_L1 < 1e-6.
std::unique_ptr<PdeSetup<2>> stationary_langevin(const unsigned int refinement) {
  std::string text = langevin_deconvolution("implicit", 0.05, 16,
                                            "  set Step tolerance = 5\n  set End time = 200\n");
  text.replace(text.find("Global refinements = 1"), 22,
               "Global refinements = " + std::to_string(refinement));
  text.replace(text.find("set Weight bound = 3"), 20,
               "set Weight bound = 3\n set Huber width = 0.1");
  auto setup = std::make_unique<PdeSetup<2>>(text);
  PdeStepper<2> stepper(*setup->solver, setup->pde);
  for (stepper.prepare(); stepper.stationarity_residual() > 1e-6 && stepper.time() < 200 &&
                          stepper.step_number() < 3000;
       stepper.prepare())
    stepper.advance(200 - stepper.time());
  EXPECT_LE(stepper.stationarity_residual(), 1e-6) << "not stationary at t = " << stepper.time();
  return setup;
}

// Σ_K |m_K − Σ_{k ⊂ K} m_k|: the coarse cell masses against the fine ones summed over each coarse
// cell (uniform meshes of the same box, the fine one refined once; serial).
double restricted_l1_distance(const PdeSetup<2> &coarse, const PdeSetup<2> &fine) {
  const Domain box = coarse.pde.mesh_box(*coarse.problem);
  const std::vector<double> n = coarse.pde.cells_per_direction(2);
  auto cell_of = [&](const double *p) {
    std::array<long, 2> index;
    for (unsigned int i = 0; i < 2; ++i)
      index[i] =
          std::lround(std::floor((p[i] - box.lower[i]) / (box.upper[i] - box.lower[i]) * n[i]));
    return index;
  };
  const WeightedCloud &c = coarse.solver->cloud(), &f = fine.solver->cloud();
  std::map<std::array<long, 2>, double> fine_mass;
  for (std::size_t k = 0; k < f.size(); ++k)
    fine_mass[cell_of(f.points[k])] += f.weights[k];
  double distance = 0.0;
  for (std::size_t k = 0; k < c.size(); ++k)
    distance += std::abs(c.weights[k] - fine_mass[cell_of(c.points[k])]);
  return distance;
}
} // namespace

// Stationary self-consistency on a nonlinear problem (the data term makes F' depend on ρ): at the
// stationary state of 16², 32², 64² cells the Gibbs residual ‖ρ_h −
// e^{−F'(ρ_h)/τ}/Z‖_L1 (nonzero only because the exact face derivatives are not the jumps of F')
// falls at order ≈ 2 and stays below the state's own discretization error (its distance to the next
// finer mesh's state).
TEST(LangevinStationaryState, GibbsResidualFallsUnderRefinement) {
  std::vector<std::unique_ptr<PdeSetup<2>>> meshes;
  for (unsigned int r = 0; r < 3; ++r)
    meshes.push_back(stationary_langevin(r));
  std::vector<double> gibbs, distance;
  for (unsigned int r = 0; r < 3; ++r)
    gibbs.push_back(meshes[r]->solver->prepare_step().gibbs_residual);
  for (unsigned int r = 0; r < 2; ++r)
    distance.push_back(restricted_l1_distance(*meshes[r], *meshes[r + 1]));
  std::ostringstream table;
  for (unsigned int r = 0; r < 3; ++r)
    table << "  " << (16u << r) << "^2: Gibbs residual " << gibbs[r]
          << (r > 0 ? "  order " + std::to_string(std::log2(gibbs[r - 1] / gibbs[r])) : "")
          << (r < 2 ? "  L1 distance to the finer state " + std::to_string(distance[r]) : "")
          << "\n";
  if (root())
    std::cout << "Langevin deconvolution (tau = 0.05) at stationarity:\n" << table.str();
  for (unsigned int r = 1; r < 3; ++r)
    EXPECT_GE(std::log2(gibbs[r - 1] / gibbs[r]), 1.5) << table.str();
  for (unsigned int r = 0; r < 2; ++r)
    EXPECT_LT(gibbs[r], distance[r]) << table.str();
}
