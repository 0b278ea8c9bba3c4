// meanfield: the single executable of MeanField. See README.md and `meanfield --help`.
#include <meanfield/app/application.h>

#include <deal.II/base/mpi.h>

int main(int argc, char **argv) {
  // Threads: all cores of the node are shared among the MPI ranks on it.
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  return MeanField::run_application(argc, argv, MPI_COMM_WORLD);
}
