#pragma once
// A finite-volume solver built from .prm text, exactly as `meanfield` builds it, for the PDE tests.

#include <meanfield/app/parameters.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/exact_solutions.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/parameter_handler.h>

#include "test_helpers.h"

#include <gtest/gtest.h>
#include <petscmat.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace MeanField::testing {
template <int dim>
struct PdeSetup {
  std::unique_ptr<Problem> problem;
  PdeParameters pde;
  std::unique_ptr<InitialDensity<dim>> mu0;
  std::unique_ptr<FiniteVolumeSolver<dim>> solver;

  explicit PdeSetup(const std::string &text, MPI_Comm comm = MPI_COMM_WORLD) {
    dealii::ParameterHandler prm;
    declare_all_parameters(prm);
    prm.parse_input_from_string(text);
    RunParameters run;
    run.parse_parameters(prm);
    problem = create_problem(prm, comm);
    pde.parse_parameters(prm);
    mu0 = std::make_unique<InitialDensity<dim>>(*problem, run.initial_density,
                                                run.function_constants);
    solver = std::make_unique<FiniteVolumeSolver<dim>>(*problem, pde, comm);
    solver->set_initial_density([this](const dealii::Point<dim> &p) { return mu0->value(p); });
  }

  /// Run to the end time; returns the diagnostics of the final state.
  typename FiniteVolumeSolver<dim>::Diagnostics run_to_end() {
    while (solver->time() < pde.end_time - 1e-13)
      solver->step(pde.end_time - solver->time());
    return solver->prepare_step();
  }
};

/**
 * E3 / (M16): over @p steps explicit steps of the stable length, the largest relative mismatch of
 * the change of F, (F_{n+1} − F_n)/dt, against −(D + D_FR) trapezoidal in time (D the fluxes'
 * dissipation M6h, D_FR the Fisher–Rao reaction's, M16, when the flow has one).
 */
template <int dim>
double energy_identity_mismatch(FiniteVolumeSolver<dim> &solver, const unsigned int steps) {
  const auto rate = [](const typename FiniteVolumeSolver<dim>::Diagnostics &d) {
    return d.dissipation + (std::isnan(d.reaction_dissipation) ? 0.0 : d.reaction_dissipation);
  };
  double worst = 0.0;
  auto before = solver.prepare_step();
  for (unsigned int n = 0; n < steps; ++n) {
    const double dt = before.stable_dt;
    solver.complete_step(dt);
    const auto after = solver.prepare_step();
    const double expected = -0.5 * (rate(before) + rate(after));
    worst = std::max(worst, std::abs((after.F - before.F) / dt - expected) / std::abs(expected));
    before = after;
  }
  return worst;
}

/**
 * The matrix I/dt + A of an implicit step (M10; Scharfetter–Gummel: M13) is an M-matrix whose
 * columns conserve mass: diagonal ≥ 1/dt and off-diagonal ≤ 0 (with @p strict: > 1/dt and < 0,
 * every face carrying a flux), and |K|ᵀ(I/dt + A) = |K|ᵀ/dt (no outflow) to round-off, |K| the
 * cell volumes (@p volumes; null: a uniform mesh, |K| = 1): each column sum adds ≤ 2d + 1 (on a
 * refined mesh ≤ 2^(d-1) 2d + 1) entries of size ≤ the largest, so a few ulps of it. Returns the
 * largest |entry|.
 */
inline double
expect_mass_conserving_m_matrix(const dealii::PETScWrappers::MPI::SparseMatrix &M,
                                const dealii::IndexSet &owned, const double dt, const bool strict,
                                const dealii::PETScWrappers::MPI::Vector *volumes = nullptr) {
  double largest = 0.0;
  const auto range = M.local_range();
  for (auto row = range.first; row < range.second; ++row) {
    PetscInt n = 0;
    const PetscInt *columns = nullptr;
    const PetscScalar *values = nullptr;
    MatGetRow(M, row, &n, &columns, &values);
    for (PetscInt k = 0; k < n; ++k) {
      const bool diagonal = static_cast<dealii::types::global_dof_index>(columns[k]) == row;
      if (diagonal && strict)
        EXPECT_GT(values[k], 1.0 / dt) << "row " << row;
      else if (diagonal)
        EXPECT_GE(values[k], 1.0 / dt) << "row " << row;
      else if (strict)
        EXPECT_LT(values[k], 0.0) << "row " << row << ", column " << columns[k];
      else
        EXPECT_LE(values[k], 0.0) << "row " << row << ", column " << columns[k];
      largest = std::max(largest, std::abs(values[k]));
    }
    MatRestoreRow(M, row, &n, &columns, &values);
  }
  dealii::PETScWrappers::MPI::Vector ones(owned, M.get_mpi_communicator()), sums(ones);
  ones = 1.0;
  if (volumes)
    ones = *volumes;
  M.Tvmult(sums, ones);
  sums.add(-1.0 / dt, ones);
  const double scale = volumes ? volumes->linfty_norm() : 1.0;
  EXPECT_LE(sums.linfty_norm(), 16 * std::numeric_limits<double>::epsilon() * largest * scale);
  return largest;
}

/// ∫ over the box of the (unnormalised) μ0 expression, by a fine tensor midpoint rule.
template <int dim>
double integral_over_box(const InitialDensity<dim> &mu0, const std::vector<double> &lower,
                         const std::vector<double> &upper, const unsigned int n) {
  double sum = 0.0, cell = 1.0;
  for (unsigned int i = 0; i < dim; ++i)
    cell *= (upper[i] - lower[i]) / n;
  std::size_t total = 1;
  for (unsigned int i = 0; i < dim; ++i)
    total *= n;
  for (std::size_t c = 0; c < total; ++c) {
    dealii::Point<dim> p;
    std::size_t index = c;
    for (unsigned int i = 0; i < dim; ++i, index /= n)
      p[i] = lower[i] + (index % n + 0.5) * (upper[i] - lower[i]) / n;
    sum += mu0.value(p);
  }
  return sum * cell;
}
// The exact-solution problems E1 (potential drift) and E2 (linear features), doc/theory.md §3.3.
inline std::string e1_text(const unsigned int dim, const std::string &reconstruction,
                           const unsigned int subdivisions, const unsigned int refinement,
                           const std::string &extra = "") {
  // 3D meshes are coarse: there a wider Gaussian (σ = 0.25) in a larger box, slower drift
  const std::string stiffness = dim == 1 ? "1.5" : dim == 2 ? "1, 2" : "0.5, 1, 0.75";
  const std::string sigma = dim == 3 ? "0.25" : "0.12", centre = dim == 3 ? "0.2" : "0.3";
  const std::string half_width = dim == 3 ? "1.5" : "1";
  const std::string center = dim == 1 ? "0" : dim == 2 ? "0, 0" : "0, 0, 0";
  return "set Dimension = " + std::to_string(dim) +
         "\nsubsection Problem\n set Type = potential drift\n subsection Potential drift\n"
         "  set Stiffness = " +
         stiffness + "\n  set Center = " + center + "\n  set Box half-width = " + half_width +
         "\n end\nend\nsubsection Initial condition\n set Density = exp(-((x - c)^2" +
         std::string(dim > 1 ? " + (y - c)^2" : "") + (dim > 2 ? " + (z - c)^2" : "") +
         ") / (2 * s^2))\n set Function constants = c=" + centre + ", s=" + sigma +
         "\nend\nsubsection Mesh\n set Subdivisions = " + std::to_string(subdivisions) +
         "\n set Global refinements = " + std::to_string(refinement) +
         "\nend\nsubsection Discretization\n set Reconstruction = " + reconstruction +
         "\nend\nsubsection Time stepping\n set End time = 0.25\n set CFL number = 0.4\n"
         " set Integrator = ssp-rk3\nend\n" +
         extra;
}

inline std::string e2_text(const unsigned int dim, const std::string &reconstruction,
                           const unsigned int subdivisions, const unsigned int refinement) {
  const std::string target = dim == 1 ? "0.7" : "0.5, -0.5";
  return "set Dimension = " + std::to_string(dim) +
         "\nsubsection Problem\n set Type = linear features\n subsection Linear features\n"
         "  set Target = " +
         target +
         "\n  set Weight decay = 0.5\n  set Box half-width = 1.5\n end\nend\n"
         "subsection Initial condition\n set Density = exp(-((x + 0.5)^2" +
         std::string(dim > 1 ? " + (y - 0.5)^2" : "") +
         ") / (2 * 0.15^2))\nend\nsubsection Mesh\n set Subdivisions = " +
         std::to_string(subdivisions) +
         "\n set Global refinements = " + std::to_string(refinement) +
         "\nend\nsubsection Discretization\n set Reconstruction = " + reconstruction +
         "\nend\nsubsection Time stepping\n set End time = 0.25\n set CFL number = 0.4\n"
         " set Integrator = ssp-rk3\nend\n";
}

// L¹ error at the end time against ρ_t = ρ0(Φ_t⁻¹θ)/det Φ_t / Z for the affine flow of E1/E2.
template <int dim>
double l1_error(const std::string &text, const bool linear_features) {
  PdeSetup<dim> setup(text);
  const dealii::Point<dim> mean0 = setup.solver->mean();
  const Domain box = setup.problem->domain();
  const double Z = integral_over_box<dim>(*setup.mu0, box.lower, box.upper,
                                          dim == 1   ? 20000
                                          : dim == 2 ? 1000
                                                     : 150);
  setup.run_to_end();
  const double t = setup.solver->time();
  AffineFlow flow;
  if (linear_features) {
    std::vector<double> m(dim);
    for (unsigned int i = 0; i < dim; ++i)
      m[i] = mean0[i];
    flow = dynamic_cast<const LinearFeatures &>(*setup.problem).flow(t, m);
  } else
    flow = dynamic_cast<const PotentialDrift &>(*setup.problem).flow(t);
  auto rho0 = [&](const double *theta) { // μ0 is the expression restricted to the box
    dealii::Point<dim> p;
    for (unsigned int i = 0; i < dim; ++i) {
      if (theta[i] < box.lower[i] || theta[i] > box.upper[i])
        return 0.0;
      p[i] = theta[i];
    }
    return setup.mu0->value(p) / Z;
  };
  return setup.solver->l1_error(
      [&](const dealii::Point<dim> &p) { return flow.density(rho0, &p[0]); });
}

// Errors on successive refinements and the observed orders log2(e_k / e_{k+1}).
template <int dim>
void expect_order(const bool linear_features, const std::string &reconstruction,
                  const unsigned int subdivisions, const unsigned int n_meshes,
                  const double min_order, const std::string &extra = "") {
  std::vector<double> errors;
  for (unsigned int r = 0; r < n_meshes; ++r)
    errors.push_back(l1_error<dim>(linear_features
                                       ? e2_text(dim, reconstruction, subdivisions, r)
                                       : e1_text(dim, reconstruction, subdivisions, r, extra),
                                   linear_features));
  std::ostringstream table;
  for (unsigned int r = 0; r < n_meshes; ++r)
    table << "  h/" << (1u << r) << ": L1 error " << errors[r]
          << (r > 0 ? "  order " + std::to_string(std::log2(errors[r - 1] / errors[r])) : "")
          << "\n";
  if (dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) == 0)
    std::cout << (linear_features ? "E2 " : "E1 ") << dim << "D " << reconstruction << ":\n"
              << table.str();
  const double last_order = std::log2(errors[n_meshes - 2] / errors[n_meshes - 1]);
  EXPECT_GE(last_order, min_order) << table.str();
  EXPECT_LT(errors.back(), errors.front());
}

// Step a solver and check, at every step: mass + outflow conserved to round-off (relative
// 1e-12 per step), density ≥ 0, F non-increasing. Returns the number of steps taken.
template <int dim>
unsigned int check_invariants(PdeSetup<dim> &setup, const unsigned int n_steps,
                              const bool monotone_F) {
  auto previous = setup.solver->prepare_step();
  EXPECT_NEAR(previous.mass, 1.0, 1e-12);
  for (unsigned int n = 0; n < n_steps; ++n) {
    setup.solver->complete_step(previous.stable_dt);
    const auto d = setup.solver->prepare_step();
    EXPECT_NEAR(d.mass + d.outflow, previous.mass + previous.outflow, 1e-12) << "step " << n;
    EXPECT_GE(d.min_density, 0.0) << "step " << n;
    if (monotone_F) {
      EXPECT_LE(d.F, previous.F + 1e-12 * std::abs(previous.F)) << "step " << n;
    }
    previous = d;
  }
  return n_steps;
}

} // namespace MeanField::testing
