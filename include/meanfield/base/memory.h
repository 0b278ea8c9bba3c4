#pragma once

#include <mpi.h>

#include <string>
#include <vector>

namespace MeanField {
/// Bytes one MPI rank may use: MemAvailable of its node (/proc/meminfo) shared among the ranks on
/// the node, the smallest such share over all ranks. Collective.
double memory_budget_per_rank(MPI_Comm comm);

/// "1.5 GiB", "730 MiB", "3.2e+05 TiB".
std::string format_bytes(double bytes);

/**
 * What a run will allocate, per rank, item by item, estimated from its parameters before any
 * allocation, so that a run too large for the machine is refused with the estimate and the
 * entries to change instead of ending in std::bad_alloc (or the kernel's OOM killer).
 */
class MemoryEstimate {
public:
  /// An item: what it is, its bytes on one rank, and the entries that set its size.
  void add(const std::string &what, double bytes_per_rank, const std::string &entries);
  double total() const;
  /// "1.2 GiB (data 0.1 GiB, mesh 1.1 GiB)".
  std::string summary() const;
  /// Throws InputError, listing the items and the budget, if the total exceeds 90% of
  /// memory_budget_per_rank(). Collective (every rank throws the same message).
  void check(MPI_Comm comm) const;

private:
  struct Item {
    std::string what;
    double bytes;
    std::string entries;
  };
  std::vector<Item> items;
};
} // namespace MeanField
