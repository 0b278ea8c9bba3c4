#include <meanfield/base/exceptions.h>
#include <meanfield/io/output_directory.h>

#include <deal.II/base/mpi.h>

#include <filesystem>
#include <fstream>

namespace MeanField {
void prepare_output_directory(const std::string &path, MPI_Comm communicator) {
  std::string error;
  if (dealii::Utilities::MPI::this_mpi_process(communicator) == 0) {
    namespace fs = std::filesystem;
    std::error_code code;
    if (path.empty())
      error = "the output directory name is empty";
    else {
      fs::create_directories(path, code);
      if (code)
        error = "cannot create it (" + code.message() + ")";
      else if (!fs::is_directory(path))
        error = "it exists but is not a directory";
      else {
        const fs::path probe = fs::path(path) / ".meanfield-write-test";
        {
          std::ofstream out(probe);
          out << "probe\n";
          if (!out)
            error = "it is not writable";
        }
        fs::remove(probe, code);
      }
    }
  }
  error = dealii::Utilities::MPI::broadcast(communicator, error, 0);
  require(error.empty(),
          "Output/Directory = " + path + ": " + error + ". Choose a writable directory.");
}
} // namespace MeanField
