#include <meanfield/base/exceptions.h>
#include <meanfield/io/checked_file.h>
#include <meanfield/io/statistics_table.h>

#include <deal.II/base/mpi.h>

#include <cstdio>
#include <fstream>
#include <iomanip>

namespace MeanField {
void StatisticsTable::add_column(const std::string &name, const std::string &description) {
  names.push_back(name);
  descriptions.push_back(description);
}

void StatisticsTable::add_row(const std::vector<Value> &values) {
  if (values.size() != names.size())
    throw std::logic_error("StatisticsTable: row has " + std::to_string(values.size()) +
                           " values for " + std::to_string(names.size()) + " columns");
  rows.push_back(values);
}

void StatisticsTable::write(std::ostream &stream) const {
  for (std::size_t c = 0; c < names.size(); ++c)
    stream << "# " << c + 1 << ": " << names[c] << " -- " << descriptions[c] << '\n';
  // long runs write the table many times: format only the rows added since the last write
  std::ostringstream out;
  out << std::setprecision(16);
  for (; n_formatted < rows.size(); ++n_formatted) {
    const auto &row = rows[n_formatted];
    for (std::size_t c = 0; c < row.size(); ++c) {
      out << (c ? " " : "");
      std::visit(
          [&](const auto &v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
              out << '"' << v << '"';
            else
              out << v;
          },
          row[c]);
    }
    out << '\n';
  }
  formatted += out.str();
  stream << formatted;
}

void StatisticsTable::write(const std::string &file_name, MPI_Comm comm) const {
  std::string error;
  if (dealii::Utilities::MPI::this_mpi_process(comm) == 0)
    error = replace_file(file_name, [&](std::ostream &out) { write(out); });
  throw_if_any_failed(error, "Could not write a table: ", comm);
}
} // namespace MeanField
