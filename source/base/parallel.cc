#include <meanfield/base/parallel.h>

#include <deal.II/base/multithread_info.h>

// OpenBLAS's control, resolved at run time: null when libblas is another implementation.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace MeanField {
void share_blas_threads() {
  if (openblas_set_num_threads != nullptr)
    openblas_set_num_threads(static_cast<int>(dealii::MultithreadInfo::n_threads()));
}

std::vector<double> gather_all(const std::vector<double> &local, MPI_Comm comm) {
  int n_ranks = 1;
  MPI_Comm_size(comm, &n_ranks);
  if (n_ranks == 1)
    return local;
  const int count = static_cast<int>(local.size());
  std::vector<int> counts(n_ranks), offsets(n_ranks, 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  for (int r = 1; r < n_ranks; ++r)
    offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<double> all(offsets.back() + counts.back());
  MPI_Allgatherv(local.data(), count, MPI_DOUBLE, all.data(), counts.data(), offsets.data(),
                 MPI_DOUBLE, comm);
  return all;
}
} // namespace MeanField
