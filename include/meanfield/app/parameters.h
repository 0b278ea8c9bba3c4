#pragma once

#include <deal.II/base/parameter_handler.h>

#include <string>
#include <vector>

namespace MeanField {
class Problem;

/// Run mode: what the run does; to_string() gives the parameter file's spelling.
enum class RunMode { evaluate, pde, particles, compare, study, paper };
std::string to_string(RunMode mode);

/**
 * The top-level entries and the subsections that are not owned by a module:
 * `Dimension`, `Run mode`, `Initial condition`, `Evaluation` and `Output`.
 */
struct RunParameters {
  unsigned int dimension;
  RunMode run_mode = RunMode::evaluate;
  std::string initial_density;
  std::string function_constants;
  unsigned int evaluation_points;
  std::string output_directory;
  bool overwrite; ///< Output/Overwrite: remove a previous run's files first
  double output_interval;
  unsigned int output_steps;
  bool write_vtk;
  unsigned int max_frames;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);

  /// Cross-section checks against the problem; the message shows the corrected .prm lines.
  void check_consistency(const Problem &problem) const;

  /// The output times up to @p end_time (and, with a Step interval, at most @p max_steps steps)
  /// are at most Output/Maximum number of frames; @p end_entry names the end time's entry.
  void check_output_schedule(double end_time, double max_steps, const std::string &end_entry) const;
};

/// Declare every parameter of MeanField in @p prm (what `meanfield --help` prints).
void declare_all_parameters(dealii::ParameterHandler &prm);

/**
 * Read @p file into @p prm, then apply each override "Section/Subsection/Key=value".
 * Every failure (missing file, unknown entry, value not matching its pattern) becomes
 * an InputError naming the file, line and entry.
 */
void read_parameters(dealii::ParameterHandler &prm, const std::string &file,
                     const std::vector<std::string> &overrides);
} // namespace MeanField
