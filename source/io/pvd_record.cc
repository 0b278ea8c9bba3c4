#include <meanfield/io/checked_file.h>
#include <meanfield/io/pvd_record.h>

#include <deal.II/base/data_out_base.h>
#include <deal.II/base/mpi.h>

namespace MeanField {
PvdRecord::PvdRecord(const std::string &directory, const std::string &name)
    : path(directory + "/" + name + ".pvd") {}

void PvdRecord::add(const double t, const std::string &file, MPI_Comm comm) {
  records.emplace_back(t, file);
  std::string error;
  if (dealii::Utilities::MPI::this_mpi_process(comm) == 0)
    error = replace_file(
        path, [&](std::ostream &out) { dealii::DataOutBase::write_pvd_record(out, records); });
  throw_if_any_failed(error, "Could not write the frame record: ", comm);
}
} // namespace MeanField
