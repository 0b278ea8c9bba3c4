#include <meanfield/base/exceptions.h>
#include <meanfield/io/checked_file.h>

#include <deal.II/base/mpi.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace MeanField {
namespace {
std::string system_reason() {
  return errno != 0 ? std::strerror(errno) : "write error";
}
} // namespace

std::string write_file(const std::string &path, const std::function<void(std::ostream &)> &write) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    return path + ": cannot open it for writing (" + system_reason() + ")";
  bool failed = false;
  try {
    write(out); // deal.II's writers throw ExcIO on a failed stream
    out.flush();
  } catch (const std::exception &) {
    failed = true;
  }
  const int reason = errno;
  out.close();
  if (failed || !out) {
    errno = reason != 0 ? reason : errno; // the write's reason, not the close's
    const std::string error = path + ": " + system_reason();
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return error;
  }
  return "";
}

std::string replace_file(const std::string &path,
                         const std::function<void(std::ostream &)> &write) {
  const std::string temporary = path + ".tmp";
  if (std::string error = write_file(temporary, write); !error.empty())
    return error;
  errno = 0;
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string error =
        "cannot move " + temporary + " to " + path + " (" + system_reason() + ")";
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    return error;
  }
  return "";
}

void throw_if_any_failed(const std::string &error, const std::string &what, MPI_Comm comm) {
  const unsigned int rank = dealii::Utilities::MPI::this_mpi_process(comm);
  const unsigned int n_ranks = dealii::Utilities::MPI::n_mpi_processes(comm);
  const unsigned int first = dealii::Utilities::MPI::min(error.empty() ? n_ranks : rank, comm);
  if (first == n_ranks)
    return;
  const std::string message = dealii::Utilities::MPI::broadcast(comm, error, first);
  throw RunError(what + message);
}
} // namespace MeanField
