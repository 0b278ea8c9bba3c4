#pragma once
// A finite-volume solver built from .prm text, exactly as `meanfield` builds it, for the PDE tests.

#include <meanfield/app/parameters.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/parameter_handler.h>

#include <gtest/gtest.h>
#include <petscmat.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <memory>
#include <string>

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
 * The matrix I/dt + A of an implicit step (M10; Scharfetter–Gummel: M13) is an M-matrix whose
 * columns conserve mass: diagonal ≥ 1/dt and off-diagonal ≤ 0 (with @p strict: > 1/dt and < 0,
 * every face carrying a flux), and 1ᵀ(I/dt + A) = 1ᵀ/dt (no outflow) to round-off: each column
 * sum adds ≤ 2d + 1 entries of size ≤ the largest, so a few ulps of it. Returns the largest
 * |entry|.
 */
inline double expect_mass_conserving_m_matrix(const dealii::PETScWrappers::MPI::SparseMatrix &M,
                                              const dealii::IndexSet &owned, const double dt,
                                              const bool strict) {
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
  M.Tvmult(sums, ones);
  sums.add(-1.0 / dt);
  EXPECT_LE(sums.linfty_norm(), 8 * std::numeric_limits<double>::epsilon() * largest);
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
} // namespace MeanField::testing
