// Parameter handling: every shipped .prm file is valid; bad entries are reported by name;
// --set overrides; cross-checks; the initial density μ0 and its midpoint discretization.
#include "test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/parameter_handler.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace MeanField;

namespace {
// A parameter file of its own for every call: ctest runs these tests as parallel processes.
std::string write_temporary(const std::string &name, const std::string &text) {
  static int counter = 0;
  const std::string path =
      (std::filesystem::temp_directory_path() /
       (std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name))
          .string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::string &text, const std::vector<std::string> &overrides = {}) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  try {
    const std::string file = write_temporary("meanfield_test.prm", text);
    const auto remove_file = [&] {
      std::filesystem::remove(file);
    };
    try {
      read_parameters(prm, file, overrides);
    } catch (...) {
      remove_file();
      throw;
    }
    remove_file();
    RunParameters run;
    run.parse_parameters(prm);
    const auto problem = create_problem(prm, MPI_COMM_SELF);
    run.check_consistency(*problem);
  } catch (const InputError &e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST(ParameterFiles, EveryShippedFileIsValid) {
  int count = 0;
  for (const auto &entry :
       std::filesystem::directory_iterator(MEANFIELD_SOURCE_DIR "/parameter_files")) {
    if (entry.path().extension() != ".prm")
      continue;
    ++count;
    dealii::ParameterHandler prm;
    declare_all_parameters(prm);
    ASSERT_NO_THROW(read_parameters(prm, entry.path().string(), {})) << entry.path();
    RunParameters run;
    run.parse_parameters(prm);
    const auto problem = create_problem(prm, MPI_COMM_SELF);
    EXPECT_NO_THROW(run.check_consistency(*problem)) << entry.path();
  }
  EXPECT_GE(count, 1);
}

TEST(ParameterFiles, ErrorsNameTheEntry) {
  EXPECT_NE(error_of("set Dimensoin = 2").find("No entry with name <Dimensoin>"),
            std::string::npos);
  EXPECT_NE(error_of("subsection Problem\n set Type = neural net\nend").find("Type"),
            std::string::npos);
  EXPECT_NE(error_of("subsection Problem\n subsection Sparse deconvolution\n"
                     "  set Regularization = -0.1\n end\nend")
                .find("Regularization"),
            std::string::npos);
  EXPECT_NE(error_of("subsection Problem\n subsection Sparse deconvolution\n"
                     "  set Spike positions = 0.1, 1.5\n set Spike weights = 1, 1\n end\nend")
                .find("Spike positions"),
            std::string::npos);
  // the mismatch message carries the corrected line
  EXPECT_NE(error_of("set Dimension = 2\nsubsection Problem\n set Type = two-layer network\nend")
                .find("set Dimension = 3"),
            std::string::npos);
  EXPECT_NE(
      error_of("subsection Problem\n set Type = potential drift\n subsection Potential drift\n"
               "  set Stiffness = 1, 2\n set Center = 0\n end\nend")
          .find("Center has 1 entries"),
      std::string::npos);
  EXPECT_EQ(error_of("set Run mode = evaluate"), ""); // the defaults are a valid problem
  // a file that sets nothing is refused (it would run the defaults without a word)
  EXPECT_NE(error_of("").find("sets no parameter"), std::string::npos);
  EXPECT_NE(error_of("# a comment\n\n").find("sets no parameter"), std::string::npos);
}

TEST(ParameterFiles, OverridesApplyAndAreChecked) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  read_parameters(prm, write_temporary("meanfield_override.prm", "set Dimension = 2\n"),
                  {"Problem/Sparse deconvolution/Number of samples=37", "Dimension=2"});
  const auto problem = create_problem(prm, MPI_COMM_SELF);
  EXPECT_EQ(problem->objective().data().size(), 37u);

  const std::string file = "set Dimension = 2\n";
  EXPECT_NE(
      error_of(file, {"Problem/Sparse deconvolution/Number of samples=many"}).find("In --set"),
      std::string::npos);
  EXPECT_NE(error_of(file, {"Problem/Nope/Key=1"}).find("In --set"), std::string::npos);
  EXPECT_NE(error_of(file, {"no equals sign"}).find("--set needs"), std::string::npos);
  EXPECT_NE(error_of(file, {"Dimension=2 # two"}).find("cannot contain '#'"), std::string::npos);
  EXPECT_EQ(error_of(file, {"Dimension=2"}), ""); // --set may replace a line of the file
}

TEST(InitialDensity, MidpointCloudIsNormalisedAndChecked) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  const auto problem = create_problem(prm, MPI_COMM_SELF); // sparse deconvolution, (x, r)
  const InitialDensity<2> mu0(*problem, "default", "");
  const WeightedCloud cloud = mu0.midpoint_cloud(32, MPI_COMM_SELF);
  EXPECT_EQ(cloud.size(), 32u * 32u);
  EXPECT_NEAR(cloud.local_mass(), 1.0, 1e-13);
  for (std::size_t j = 0; j < cloud.size(); ++j) {
    EXPECT_GE(cloud.weights[j], 0.0);
    EXPECT_GE(cloud.points[j][0], 0.0);
    EXPECT_LE(cloud.points[j][0], 1.0);
    EXPECT_LE(std::abs(cloud.points[j][1]), 2.0);
  }
  // constants and the problem's coordinate names are understood
  const InitialDensity<2> custom(*problem, "exp(-(r - c)^2 / s)", "c=0.5, s=0.02");
  EXPECT_NEAR(custom.value(dealii::Point<2>(0.3, 0.5)), 1.0, 1e-15);
  // a density that is negative somewhere, or has no mass, or does not parse, is refused
  EXPECT_THROW(InitialDensity<2>(*problem, "r", "").midpoint_cloud(8, MPI_COMM_SELF), InputError);
  EXPECT_THROW(InitialDensity<2>(*problem, "0", "").midpoint_cloud(8, MPI_COMM_SELF), InputError);
  EXPECT_THROW(InitialDensity<2>(*problem, "exp(-y^2)", ""), InputError); // y is not a coordinate
  EXPECT_THROW(InitialDensity<2>(*problem, "1", "c"), InputError);
}
