#pragma once

#include <deal.II/lac/petsc_sparse_matrix.h>
#include <deal.II/lac/petsc_vector.h>

#include <petscksp.h>

#include <string>
#include <utility>
#include <vector>

namespace MeanField {
/// "-name value" pairs of a PETSc option string; InputError naming @p entry if malformed.
std::vector<std::pair<std::string, std::string>> parse_petsc_options(const std::string &options,
                                                                     const std::string &entry);

/// The options of @p options into PETSc's database, unless the command line set them already.
void insert_petsc_options(const std::string &options, const std::string &entry);

/// InputError naming the first option of @p options (the parameter file's @p entry) or of
/// @p command_line that PETSc did not use once @p solver was set up (a misspelt option).
void require_petsc_options_used(const std::string &options, const std::string &entry,
                                const std::string &command_line, const std::string &solver);

/// "gmres + bjacobi, rtol 1e-12": a KSP's type, preconditioner and relative tolerance.
std::string describe_krylov_solver(KSP ksp);

/// PETSc lists options it did not use at exit; the command line holds ours too (--set ...), so
/// that list would mislead: TransportSolver::check_options() names unused options instead.
void silence_petsc_option_warnings();

/**
 * The Krylov solver of the linearly implicit step (M10): a PETSc KSP on the non-symmetric
 * transport matrix I/Δt + A. Defaults (chosen by measurement, doc/theory.md §4.2): GMRES with
 * block Jacobi / ILU(0) (ILU(0) on one rank), relative tolerance 1e-12, the previous density as
 * the initial guess. The options of Time stepping/Linear solver options come next and the command
 * line last: `meanfield file.prm -ksp_type bcgs -pc_type hypre -ksp_monitor` wins over both.
 */
class TransportSolver {
public:
  /// @p options: the parameter file's option string, @p command_line: the command line's (in
  /// PETSc's database already); both checked by parse_petsc_options().
  TransportSolver(MPI_Comm comm, const std::string &options, const std::string &command_line);
  ~TransportSolver();
  TransportSolver(const TransportSolver &) = delete;
  TransportSolver &operator=(const TransportSolver &) = delete;

  /**
   * Set the solver up on @p matrix and check that PETSc used every option of the parameter
   * file's string (a misspelt one is an InputError before the run starts). Collective.
   */
  void check_options(const dealii::PETScWrappers::MPI::SparseMatrix &matrix);

  /// x ← M⁻¹ b from the initial guess in x; returns the iterations. RunError naming the KSP's
  /// converged reason when it fails. Collective.
  unsigned int solve(const dealii::PETScWrappers::MPI::SparseMatrix &matrix,
                     dealii::PETScWrappers::MPI::Vector &x,
                     const dealii::PETScWrappers::MPI::Vector &b);

  /// "gmres + bjacobi, rtol 1e-12" (after check_options() or a solve).
  std::string description() const;

private:
  KSP ksp = nullptr;
  std::string options, command_line, entry;
};
} // namespace MeanField
