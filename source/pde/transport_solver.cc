#include <meanfield/base/exceptions.h>
#include <meanfield/pde/transport_solver.h>

#include <petscoptions.h>

#include <sstream>

namespace MeanField {
std::vector<std::pair<std::string, std::string>> parse_petsc_options(const std::string &options,
                                                                     const std::string &entry) {
  // "-a 1 -b -c x": a name starts with one '-' and a letter; a value is any other word
  std::vector<std::pair<std::string, std::string>> pairs;
  std::istringstream words(options);
  std::string word;
  auto is_name = [](const std::string &w) {
    return w.size() >= 2 && w[0] == '-' && std::isalpha(static_cast<unsigned char>(w[1]));
  };
  while (words >> word) {
    if (is_name(word))
      pairs.emplace_back(word, "");
    else if (!pairs.empty() && pairs.back().second.empty())
      pairs.back().second = word;
    else
      throw InputError(entry + " = " + options + ": <" + word +
                       "> is neither a PETSc option (-name) nor the value of one. Example:\n"
                       "    set " +
                       entry.substr(entry.rfind('/') + 1) +
                       " = -ksp_type bcgs -pc_type ilu -ksp_rtol 1e-10");
  }
  return pairs;
}

void insert_petsc_options(const std::string &options, const std::string &entry) {
  for (const auto &[name, value] : parse_petsc_options(options, entry)) {
    PetscBool set = PETSC_FALSE;
    PetscOptionsHasName(nullptr, nullptr, name.c_str(), &set);
    if (!set)
      PetscOptionsSetValue(nullptr, name.c_str(), value.empty() ? nullptr : value.c_str());
  }
}

void require_petsc_options_used(const std::string &options, const std::string &entry,
                                const std::string &command_line, const std::string &solver) {
  for (const auto &[source, text] : {std::pair{entry, options}, {"the command line", command_line}})
    for (const auto &[name, value] : parse_petsc_options(text, source)) {
      PetscBool used = PETSC_FALSE;
      PetscOptionsUsed(nullptr, name.c_str() + 1, &used);
      require(used, source + ": " + name + " is not an option of this linear solver (" + solver +
                        "): misspelt, or it belongs to another -snes_type, -ksp_type or "
                        "-pc_type. See the PETSc manual pages of SNES, KSP and PC.");
    }
}

void silence_petsc_option_warnings() {
  PetscOptionsSetValue(nullptr, "-options_left", "0");
}

TransportSolver::TransportSolver(MPI_Comm comm, const std::string &options_,
                                 const std::string &command_line_)
    : options(options_)
    , command_line(command_line_)
    , entry("Time stepping/Linear solver options") {
  // our defaults first, then the parameter file's options unless the command line set them
  // (PETSc read the command line at PetscInitialize), then the options database
  KSPCreate(comm, &ksp);
  KSPSetType(ksp, KSPGMRES);
  KSPSetTolerances(ksp, 1e-12, 1e-300, PETSC_DEFAULT, PETSC_DEFAULT);
  KSPSetInitialGuessNonzero(ksp, PETSC_TRUE);
  PC pc = nullptr;
  KSPGetPC(ksp, &pc);
  PCSetType(pc, PCBJACOBI); // (PETSc's serial default, ILU, has no MPIAIJ implementation)
  insert_petsc_options(options, entry);
  KSPSetFromOptions(ksp);
}

TransportSolver::~TransportSolver() {
  KSPDestroy(&ksp);
}

void TransportSolver::check_options(const dealii::PETScWrappers::MPI::SparseMatrix &matrix) {
  KSPSetOperators(ksp, matrix, matrix);
  const PetscErrorCode error = KSPSetUp(ksp); // the preconditioner reads its options here
  require(error == 0, entry + " = " + options +
                          ": PETSc could not set up the linear solver "
                          "(error " +
                          std::to_string(error) + ").");
  require_petsc_options_used(options, entry, command_line, description());
}

unsigned int TransportSolver::solve(const dealii::PETScWrappers::MPI::SparseMatrix &matrix,
                                    dealii::PETScWrappers::MPI::Vector &x,
                                    const dealii::PETScWrappers::MPI::Vector &b) {
  KSPSetOperators(ksp, matrix, matrix);
  const PetscErrorCode error = KSPSolve(ksp, b, x);
  KSPConvergedReason reason = KSP_CONVERGED_ITERATING;
  KSPGetConvergedReason(ksp, &reason);
  PetscInt iterations = 0;
  KSPGetIterationNumber(ksp, &iterations);
  if (error == 0 && reason > 0)
    return static_cast<unsigned int>(iterations);
  const char *why = "an error in PETSc";
  if (error == 0)
    KSPGetConvergedReasonString(ksp, &why);
  PetscReal rtol = 0, atol = 0, dtol = 0;
  PetscInt max_it = 0;
  KSPGetTolerances(ksp, &rtol, &atol, &dtol, &max_it);
  std::ostringstream message;
  message << "the linear solver of the implicit step (" << description() << ") failed after "
          << iterations << " iterations: " << why << " (at most " << max_it
          << " iterations, -ksp_max_it). Give it more iterations or a stronger preconditioner "
             "(e.g. -ksp_max_it 2000, -pc_type hypre, -pc_type lu) in "
          << entry << " or on the command line, or lower Time stepping/Maximum time step";
  throw RunError(message.str());
}

std::string describe_krylov_solver(KSP ksp) {
  KSPType ksp_type = nullptr;
  KSPGetType(ksp, &ksp_type);
  PC pc = nullptr;
  KSPGetPC(ksp, &pc);
  PCType pc_type = nullptr;
  PCGetType(pc, &pc_type);
  PetscReal rtol = 0, atol = 0, dtol = 0;
  PetscInt max_it = 0;
  KSPGetTolerances(ksp, &rtol, &atol, &dtol, &max_it);
  std::ostringstream text;
  text << (ksp_type ? ksp_type : "?") << " + " << (pc_type ? pc_type : "default preconditioner")
       << ", rtol " << rtol;
  return text.str();
}

std::string TransportSolver::description() const {
  return describe_krylov_solver(ksp);
}
} // namespace MeanField
