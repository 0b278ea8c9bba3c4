#include <meanfield/base/exceptions.h>
#include <meanfield/io/output_directory.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

namespace MeanField {
namespace fs = std::filesystem;

bool is_run_file(const std::string &name) {
  static const std::regex run_file(
      "(parameters\\.prm|(statistics|comparison|study|study_slopes|study_pde_error|"
      "study_decomposition|paper|"
      "paper_summary|trajectories|ground_truth)(\\.tmp)?|(solution|particles)\\.pvd(\\.tmp)?|"
      "solution/solution_[0-9]{5}(\\.[0-9]+)?\\.(vtu|pvtu)|"
      "particles/particles_[0-9]{5}(\\.[0-9]+)?\\.(vtu|pvtu)|"
      "(comparison|convergence|paper|trajectories)\\.png|"
      "(density|first_variation|velocity|mpi_rank)_t[0-9.e+-]+\\.png)");
  return std::regex_match(name, run_file);
}

std::vector<std::string> previous_run_files(const std::string &path) {
  std::vector<std::string> files;
  std::error_code code;
  if (!fs::is_directory(path, code))
    return files;
  for (const std::string sub : {"", "solution", "particles"}) {
    const fs::path directory = sub.empty() ? fs::path(path) : fs::path(path) / sub;
    if (!fs::is_directory(directory, code))
      continue;
    for (const auto &entry : fs::directory_iterator(directory, code)) {
      const std::string name = (sub.empty() ? "" : sub + "/") + entry.path().filename().string();
      if (!entry.is_directory(code) && is_run_file(name))
        files.push_back(name);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {
// Rank 0 does @p work (which returns an error message, empty for success); every rank throws it.
template <typename Work>
void on_root_then_all(MPI_Comm comm, const std::string &prefix, const Work &work) {
  std::string error;
  if (dealii::Utilities::MPI::this_mpi_process(comm) == 0)
    error = work();
  error = dealii::Utilities::MPI::broadcast(comm, error, 0);
  require(error.empty(), prefix + error);
}

std::string list_of(const std::vector<std::string> &files) {
  std::string text;
  for (std::size_t i = 0; i < std::min<std::size_t>(files.size(), 6); ++i)
    text += (i ? ", " : "") + files[i];
  if (files.size() > 6)
    text += ", ... (" + std::to_string(files.size()) + " files)";
  return text;
}
} // namespace

void check_output_directory(const std::string &path, const bool overwrite, MPI_Comm comm) {
  on_root_then_all(comm, "Output/Directory = " + path + ": ", [&]() -> std::string {
    std::error_code code;
    if (path.empty())
      return "the output directory name is empty.";
    if (fs::exists(path, code) && !fs::is_directory(path, code))
      return "it exists but is not a directory. Choose another Output/Directory.";
    for (const std::string name :
         {"parameters.prm", "statistics", "comparison", "study", "study_slopes", "study_pde_error",
          "study_decomposition", "paper", "paper_summary", "trajectories", "ground_truth",
          "solution.pvd", "particles.pvd"})
      for (const std::string &file : {name, name + ".tmp"})
        if (fs::is_directory(fs::path(path) / file, code))
          return "it holds a directory named " + file +
                 ", in the way of the run's file of that "
                 "name. Remove or rename it, or choose another Output/Directory.";
    const std::vector<std::string> old = previous_run_files(path);
    if (!old.empty() && !overwrite)
      return "it holds the files of a previous run (" + list_of(old) +
             "), which would be mixed with this run's. Choose another directory, or\n"
             "    set Overwrite = true\nin subsection Output to remove them first (only the "
             "files MeanField writes are removed).";
    return "";
  });
}

void prepare_output_directory(const std::string &path, const bool overwrite, MPI_Comm comm) {
  check_output_directory(path, overwrite, comm);
  on_root_then_all(comm, "Output/Directory = " + path + ": ", [&]() -> std::string {
    std::error_code code;
    fs::create_directories(path, code);
    if (code)
      return "cannot create it (" + code.message() + "). Choose a writable directory.";
    for (const std::string &file : previous_run_files(path))
      if (!fs::remove(fs::path(path) / file, code) || code)
        return "cannot remove " + file + " of the previous run (" + code.message() + ").";
    for (const std::string sub : {"solution", "particles"})
      if (fs::is_directory(fs::path(path) / sub, code) && fs::is_empty(fs::path(path) / sub, code))
        fs::remove(fs::path(path) / sub, code);
    const fs::path probe = fs::path(path) / ".meanfield-write-test";
    bool writable;
    {
      std::ofstream out(probe);
      out << "probe\n";
      out.close();
      writable = static_cast<bool>(out);
    }
    fs::remove(probe, code);
    return writable ? "" : "it is not writable. Choose a writable directory.";
  });
}
} // namespace MeanField
