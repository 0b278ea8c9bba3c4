#pragma once

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <petscsnes.h>

#include <functional>
#include <string>

namespace MeanField {
/**
 * The nonlinear solver of the backward Euler step (M10b, doc/theory.md §4.2): Jacobian-free
 * Newton–Krylov with PETSc's SNES. The Jacobian of G is applied by finite differences of G
 * (MatCreateSNESMF: one F' evaluation per Krylov iteration); the preconditioner is the
 * linearly implicit matrix I/Δt + A(u(x)) at the Newton iterate x (M10), with Jacobi (block
 * Jacobi / ILU(0) saves Krylov iterations but its factorization per Newton iteration costs more
 * than they do: 25% more wall time to stationarity on the 128² deconvolution run).
 * Defaults: newtonls, GMRES with relative tolerance 1e-2 per Newton iteration (inexact Newton:
 * linear convergence at about that rate), ‖G‖ reduced by 1e-4 (the solution is then within
 * ~1e-4 of the step's change of the exact root, far below the O(Δt) error of the step; on the
 * 128² deconvolution run 2.7× fewer F' evaluations to stationarity than 1e-8 with GMRES to 1e-4)
 * or below its round-off floor (the caller's absolute tolerance). Options from Time stepping/Linear
 * solver options and the command line (-snes_*, -ksp_*, -pc_*) come after these defaults.
 */
class NewtonSolver {
public:
  using Vector = dealii::PETScWrappers::MPI::Vector;
  /// f ← G(x).
  using Residual = std::function<void(const Vector &x, Vector &f)>;
  /// Assemble the preconditioning matrix (the one given to the constructor) at x.
  using Preconditioner = std::function<void(const Vector &x)>;

  NewtonSolver(const dealii::PETScWrappers::MPI::SparseMatrix &preconditioner_matrix,
               const Vector &layout, Residual residual, Preconditioner preconditioner,
               const std::string &options, const std::string &command_line);
  ~NewtonSolver();
  NewtonSolver(const NewtonSolver &) = delete;
  NewtonSolver &operator=(const NewtonSolver &) = delete;

  /// SNES set up once on x (the options then used or an InputError). Collective.
  void check_options(Vector &x);

  struct Outcome {
    bool converged = false;
    unsigned int newton_iterations = 0, linear_iterations = 0;
    double residual_norm = 0; ///< ‖G(x)‖₂ at the returned x
    std::string reason;       ///< SNES's converged or diverged reason
  };
  /// x ← the root of G, from the initial guess in x, with ‖G‖ below @p absolute_tolerance or
  /// reduced by the relative tolerance. Collective.
  Outcome solve(Vector &x, double absolute_tolerance);

  /// e.g. "newtonls, gmres + jacobi, Newton rtol 0.0001".
  std::string description() const;

private:
  SNES snes = nullptr;
  Mat jacobian = nullptr;
  Vector x_work, f_work, f_vector;
  Residual residual;
  Preconditioner preconditioner;
  std::string options, command_line;

  static PetscErrorCode function(SNES, Vec x, Vec f, void *self);
  static PetscErrorCode jacobian_at(SNES, Vec x, Mat J, Mat P, void *self);
};
} // namespace MeanField
