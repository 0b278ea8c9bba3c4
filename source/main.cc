// meanfield: the single executable of MeanField. See README.md and `meanfield --help`.
#include <meanfield/app/application.h>
#include <meanfield/base/parallel.h>

#include <deal.II/base/mpi.h>

int main(int argc, char **argv) {
  // Threads: all cores of the node are shared among the MPI ranks on it (TBB by deal.II, and
  // OpenBLAS to match, so that 2 ranks on 2 cores do not run 4 BLAS threads).
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  MeanField::share_blas_threads();
  return MeanField::run_application(argc, argv, MPI_COMM_WORLD);
}
