#pragma once

#include <deal.II/base/parallel.h>

#include <mpi.h>

#include <cstddef>
#include <vector>

namespace MeanField {
/**
 * Split [0, n) into fixed blocks of @p block_size and run f(begin, end, block)
 * on each, in parallel (TBB through deal.II, bounded by the thread limit that
 * MPI_InitFinalize sets). The partition does not depend on the number of
 * threads, so reductions over blocks summed in block order are deterministic.
 */
template <typename Function>
void for_each_block(const std::size_t n, const std::size_t block_size, const Function &f) {
  if (n == 0)
    return;
  const std::size_t n_blocks = (n + block_size - 1) / block_size;
  if (n_blocks == 1) { // no task to spawn (small clouds: particle steps of microseconds)
    f(0, n, 0);
    return;
  }
  dealii::parallel::apply_to_subranges(
      std::size_t(0), n_blocks,
      [&](const std::size_t first_block, const std::size_t end_block) {
        for (std::size_t b = first_block; b < end_block; ++b)
          f(b * block_size, std::min(n, (b + 1) * block_size), b);
      },
      1);
}

/**
 * Deterministic parallel sum of per-block partial vectors: every block adds its
 * contribution into its own row of a (n_blocks x length) buffer, rows are then
 * summed in block order into @p result (which is added to, not overwritten).
 */
template <typename Function>
void reduce_over_blocks(const std::size_t n, const std::size_t block_size, const std::size_t length,
                        double *result, const Function &add_block) {
  if (n == 0)
    return;
  const std::size_t n_blocks = (n + block_size - 1) / block_size;
  if (n_blocks == 1) {
    add_block(0, n, result);
    return;
  }
  std::vector<double> partial(n_blocks * length, 0.0);
  for_each_block(n, block_size, [&](std::size_t begin, std::size_t end, std::size_t b) {
    add_block(begin, end, partial.data() + b * length);
  });
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const double *row = partial.data() + b * length;
    for (std::size_t i = 0; i < length; ++i)
      result[i] += row[i];
  }
}

/// Sets OpenBLAS's thread count to deal.II's threads per rank (the node's cores shared among its
/// MPI ranks); nothing when the BLAS is not OpenBLAS. Call after MPI_InitFinalize.
void share_blas_threads();

/// Every rank's values of @p local, concatenated in rank order on every rank (MPI_Allgatherv;
/// on one rank, a copy). Collective.
std::vector<double> gather_all(const std::vector<double> &local, MPI_Comm comm);
} // namespace MeanField
