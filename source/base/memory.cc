#include <meanfield/base/exceptions.h>
#include <meanfield/base/memory.h>

#include <deal.II/base/mpi.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <limits>
#include <sstream>

namespace MeanField {
namespace {
// MemAvailable of this node in bytes (infinite where /proc/meminfo does not tell).
double node_available_memory() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  double kib = 0;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:")
      return kib * 1024.0;
  return std::numeric_limits<double>::infinity();
}
} // namespace

double memory_budget_per_rank(MPI_Comm comm) {
  MPI_Comm node;
  MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int ranks_on_node = 1;
  MPI_Comm_size(node, &ranks_on_node);
  MPI_Comm_free(&node);
  return dealii::Utilities::MPI::min(node_available_memory() / ranks_on_node, comm);
}

std::string format_bytes(const double bytes) {
  const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = bytes;
  unsigned int u = 0;
  while (value >= 1024 && u < 4) {
    value /= 1024;
    ++u;
  }
  std::ostringstream out;
  out << std::setprecision(value < 1e5 ? 3 : 2) << value << ' ' << units[u];
  return out.str();
}

void MemoryEstimate::add(const std::string &what, const double bytes_per_rank,
                         const std::string &entries) {
  items.push_back({what, bytes_per_rank, entries});
}

double MemoryEstimate::total() const {
  double sum = 0;
  for (const Item &item : items)
    sum += item.bytes;
  return sum;
}

std::string MemoryEstimate::summary() const {
  std::string text = format_bytes(total()) + " (";
  for (std::size_t i = 0; i < items.size(); ++i)
    text += (i ? ", " : "") + items[i].what + " " + format_bytes(items[i].bytes);
  return text + ")";
}

void MemoryEstimate::check(MPI_Comm comm) const {
  const double budget = 0.9 * memory_budget_per_rank(comm);
  if (total() <= budget)
    return;
  std::ostringstream out;
  out << "The run needs about " << format_bytes(total())
      << " of memory per MPI rank, more than the " << format_bytes(budget)
      << " this machine can give it (90% of the available memory, shared among the ranks on a "
         "node). The estimate, per rank:";
  for (const Item &item : items)
    out << "\n    " << std::left << std::setw(28) << item.what << std::right << std::setw(12)
        << format_bytes(item.bytes) << "   set by " << item.entries;
  out << "\nLower the largest of them (or run on more ranks where the item is distributed).";
  throw InputError(out.str());
}
} // namespace MeanField
