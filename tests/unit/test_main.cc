// GoogleTest main for MeanField: starts MPI (and deal.II's thread pool) once for all tests.
// Under mpirun, only rank 0 prints; every rank returns its own result, so any failure fails the
// run.
#include <deal.II/base/mpi.h>

#include <gtest/gtest.h>

int main(int argc, char **argv) {
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  if (dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD) != 0) {
    auto &listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  return RUN_ALL_TESTS();
}
