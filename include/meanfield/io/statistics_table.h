#pragma once

#include <mpi.h>

#include <ostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

namespace MeanField {
/**
 * A table of run statistics in the ASPECT style: a header of "# N: name — description"
 * lines, then one whitespace-separated row per record (numbers in full precision), so
 * that `numpy.loadtxt(..., comments="#")` and gnuplot read it directly.
 */
class StatisticsTable {
public:
  using Value = std::variant<double, long long, std::string>;

  /// Declare a column; columns appear in declaration order.
  void add_column(const std::string &name, const std::string &description);

  /// Append a row: one value per declared column, in order.
  void add_row(const std::vector<Value> &values);

  void write(std::ostream &out) const;
  /**
   * Rank 0 writes the table to @p file_name atomically (a temporary file renamed into place: the
   * previous version stays complete until then). Collective: on failure (a full disk, a
   * directory of that name) every rank throws RunError naming the file and the reason.
   */
  void write(const std::string &file_name, MPI_Comm comm) const;

private:
  std::vector<std::string> names;
  std::vector<std::string> descriptions;
  std::vector<std::vector<Value>> rows;
  mutable std::string formatted; ///< the rows formatted so far (each row is formatted once)
  mutable std::size_t n_formatted = 0;
};
} // namespace MeanField
