#include <meanfield/base/exceptions.h>
#include <meanfield/pde/newton_solver.h>
#include <meanfield/pde/transport_solver.h>

#include <sstream>

namespace MeanField {
NewtonSolver::NewtonSolver(const dealii::PETScWrappers::MPI::SparseMatrix &matrix,
                           const Vector &layout, Residual residual_, Preconditioner preconditioner_,
                           const std::string &options_, const std::string &command_line_)
    : x_work(layout)
    , f_work(layout)
    , f_vector(layout)
    , residual(std::move(residual_))
    , preconditioner(std::move(preconditioner_))
    , options(options_)
    , command_line(command_line_) {
  SNESCreate(layout.get_mpi_communicator(), &snes);
  SNESSetType(snes, SNESNEWTONLS);
  SNESSetFunction(snes, f_vector, &NewtonSolver::function, this);
  MatCreateSNESMF(snes, &jacobian);
  SNESSetJacobian(snes, jacobian, matrix, &NewtonSolver::jacobian_at, this);
  SNESSetTolerances(snes, 0.0, 1e-4, 0.0, 50, 10000);
  KSP ksp = nullptr;
  SNESGetKSP(snes, &ksp);
  KSPSetType(ksp, KSPGMRES);
  KSPSetTolerances(ksp, 1e-2, 1e-300, PETSC_DEFAULT, 200);
  PC pc = nullptr;
  KSPGetPC(ksp, &pc);
  PCSetType(pc, PCJACOBI); // (measured faster than block Jacobi / ILU(0): see the README)
  insert_petsc_options(options, "Time stepping/Linear solver options");
  SNESSetFromOptions(snes);
}

NewtonSolver::~NewtonSolver() {
  MatDestroy(&jacobian);
  SNESDestroy(&snes);
}

PetscErrorCode NewtonSolver::function(SNES, Vec x, Vec f, void *context) {
  auto &self = *static_cast<NewtonSolver *>(context);
  VecCopy(x, self.x_work);
  self.residual(self.x_work, self.f_work);
  VecCopy(self.f_work, f);
  return 0;
}

PetscErrorCode NewtonSolver::jacobian_at(SNES, Vec x, Mat J, Mat, void *context) {
  auto &self = *static_cast<NewtonSolver *>(context);
  VecCopy(x, self.x_work);
  self.preconditioner(self.x_work);
  // (the matrix-free Jacobian takes its base point, x and G(x), from the SNES here)
  MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY);
  MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY);
  return 0;
}

void NewtonSolver::check_options(Vector &x) {
  SNESSetSolution(snes, x);
  const PetscErrorCode error = SNESSetUp(snes);
  require(error == 0, "Time stepping/Linear solver options = " + options +
                          ": PETSc could not set up the Newton solver (error " +
                          std::to_string(error) + ").");
  KSP ksp = nullptr;
  SNESGetKSP(snes, &ksp);
  KSPSetUp(ksp);
  require_petsc_options_used(options, "Time stepping/Linear solver options", command_line,
                             description());
}

NewtonSolver::Outcome NewtonSolver::solve(Vector &x, const double absolute_tolerance) {
  PetscReal atol = 0, rtol = 0, stol = 0;
  PetscInt max_it = 0, max_f = 0;
  SNESGetTolerances(snes, &atol, &rtol, &stol, &max_it, &max_f);
  SNESSetTolerances(snes, absolute_tolerance, rtol, stol, max_it, max_f);
  Outcome outcome;
  const PetscErrorCode error = SNESSolve(snes, nullptr, x);
  SNESConvergedReason reason = SNES_CONVERGED_ITERATING;
  SNESGetConvergedReason(snes, &reason);
  PetscInt newton = 0, linear = 0;
  SNESGetIterationNumber(snes, &newton);
  SNESGetLinearSolveIterations(snes, &linear);
  outcome.converged = error == 0 && reason > 0;
  outcome.newton_iterations = static_cast<unsigned int>(newton);
  outcome.linear_iterations = static_cast<unsigned int>(linear);
  PetscReal norm = 0;
  SNESGetFunctionNorm(snes, &norm);
  outcome.residual_norm = norm;
  const char *why = "an error in PETSc";
  if (error == 0)
    SNESGetConvergedReasonString(snes, &why);
  outcome.reason = why;
  return outcome;
}

std::string NewtonSolver::description() const {
  SNESType snes_type = nullptr;
  SNESGetType(snes, &snes_type);
  KSP ksp = nullptr;
  SNESGetKSP(snes, &ksp);
  PetscReal atol = 0, rtol = 0, stol = 0;
  PetscInt max_it = 0, max_f = 0;
  SNESGetTolerances(snes, &atol, &rtol, &stol, &max_it, &max_f);
  std::ostringstream text;
  text << (snes_type ? snes_type : "?") << " with rtol " << rtol << "; Krylov "
       << describe_krylov_solver(ksp);
  return text.str();
}
} // namespace MeanField
