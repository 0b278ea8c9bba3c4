#include <meanfield/app/parameter_file.h>
#include <meanfield/app/parameters.h>
#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/compare/study.h>
#include <meanfield/paper/experiment.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/utilities.h>

#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

namespace MeanField {
using namespace dealii;

namespace {
const EnumName<RunMode> run_mode_names[] = {
    {RunMode::evaluate, "evaluate"}, {RunMode::pde, "pde"},     {RunMode::particles, "particles"},
    {RunMode::compare, "compare"},   {RunMode::study, "study"}, {RunMode::paper, "paper"}};
} // namespace

std::string to_string(const RunMode mode) {
  return enum_name(run_mode_names, mode);
}

void RunParameters::declare_parameters(ParameterHandler &prm) {
  prm.declare_entry(
      "Dimension", "2", Patterns::Integer(1, 1000000),
      "d, the dimension of parameter space: must equal the problem's (sparse "
      "deconvolution: 2; two-layer network: 1 + Input dimension [+1 with Bias]; linear "
      "features and potential drift: the length of Target / Stiffness). Mesh-based "
      "computations are compiled for d = 1, 2, 3.");
  prm.declare_entry(
      "Run mode", "evaluate", Patterns::Selection(enum_selection(run_mode_names)),
      "What the run does. evaluate: build the problem, evaluate F, its R- and V-parts "
      "and the dissipation integral |grad F'|^2 d mu on the initial law mu0 "
      "(discretized on a grid, d <= 3) and on the ground-truth measure, and write "
      "them to <Output/Directory>/statistics. pde: solve the mean-field PDE (M5) by "
      "finite volumes from mu0 (subsections Mesh, Discretization, Time stepping). "
      "particles: the particle method (M7) from mu0 (subsection Particles), with statistics "
      "and particle VTK output on the same output times as the PDE. compare: both from the "
      "same mu0 (d <= 3), stepped to the same output times up to Time stepping/End time, with "
      "the distances between them (subsection Comparison) in <Output/Directory>/comparison. "
      "study: one PDE run against particle runs for every m, seed and initialization of the "
      "subsection Study, with log-log slopes of every distance against m. paper: Chizat & "
      "Bach's excess loss at convergence against m, particle flow against random features "
      "(subsection Paper).");

  prm.enter_subsection("Initial condition");
  prm.declare_entry(
      "Density", "default", Patterns::Anything(),
      "mu0 as a function-parser expression in the problem's coordinate names (sparse "
      "deconvolution: x, r; two-layer network: a, w1, w2 or a, w1, b; linear features "
      "and potential drift: x, y, z). Non-negative, any normalisation: it is "
      "normalised to mass 1 on the problem's box. 'default': the problem's own mu0.");
  prm.declare_entry("Function constants", "", Patterns::Anything(),
                    "Constants usable in the Density expression, as 'name=value, name=value' "
                    "(pi is always defined).");
  prm.leave_subsection();

  prm.enter_subsection("Evaluation");
  prm.declare_entry(
      "Points per direction", "64", Patterns::Integer(1, 100000),
      "N: Run mode = evaluate discretizes mu0 by its values at the N^d midpoints of a "
      "uniform grid of the problem's box (cell masses normalised to 1).");
  prm.leave_subsection();

  prm.enter_subsection("Output");
  prm.declare_entry("Directory", "output", Patterns::DirectoryName(),
                    "Where everything the run produces is written (created if needed): statistics, "
                    "parameters.prm (the parameters actually used). It belongs to one run: a "
                    "directory holding a previous run's files is refused (see Overwrite).");
  prm.declare_entry(
      "Overwrite", "false", Patterns::Bool(),
      "true: a previous run's files in Output/Directory (its tables, parameters.prm, pvd records, "
      "solution/ and particles/ frames, plots) are removed before this run starts; nothing else "
      "there is touched. false: such a directory is refused, so that two runs never mix.");
  prm.declare_entry(
      "Time interval", "0.1", Patterns::Double(0),
      "Write the fields (VTK) at t = 0, this interval, 2x this interval, ... and at "
      "the end; time steps are shortened to land on these times. 0: only at the start "
      "and the end.");
  prm.declare_entry("Step interval", "0", Patterns::Integer(0),
                    "Also write the fields every this many steps (0: never).");
  prm.declare_entry(
      "Maximum number of frames", "10000", Patterns::Integer(1),
      "The largest number of output times (End time / Time interval + 2, plus the frames of Step "
      "interval) a run may have: each is a VTK frame, a pvd record and a statistics row, and a "
      "schedule of millions of them is a typo. Raise it to write more.");
  prm.declare_entry("Write VTK", "true", Patterns::Bool(),
                    "Write solution.pvd and solution/*.vtu (+ .pvtu): density, F', velocity "
                    "-grad F', MPI rank. The statistics file is always written.");
  prm.leave_subsection();
}

void RunParameters::parse_parameters(ParameterHandler &prm) {
  dimension = prm.get_integer("Dimension");
  run_mode = parse_enum("Run mode", prm.get("Run mode"), run_mode_names);
  prm.enter_subsection("Initial condition");
  initial_density = Utilities::trim(prm.get("Density"));
  function_constants = prm.get("Function constants");
  prm.leave_subsection();
  prm.enter_subsection("Evaluation");
  evaluation_points = prm.get_integer("Points per direction");
  prm.leave_subsection();
  prm.enter_subsection("Output");
  output_directory = prm.get("Directory");
  overwrite = prm.get_bool("Overwrite");
  output_interval = prm.get_double("Time interval");
  output_steps = prm.get_integer("Step interval");
  write_vtk = prm.get_bool("Write VTK");
  max_frames = prm.get_integer("Maximum number of frames");
  prm.leave_subsection();
}

void RunParameters::check_consistency(const Problem &problem) const {
  const unsigned int d = problem.dimension();
  require(dimension == d,
          "Dimension = " + std::to_string(dimension) + ", but the " + problem.name() +
              " problem as configured has parameter-space dimension d = " + std::to_string(d) +
              ". Correct the file:\n    set Dimension = " + std::to_string(d));
  require(d <= 3 || initial_density == "default",
          "Initial condition/Density is set, but a density expression needs d <= 3 (here d = " +
              std::to_string(d) + "). Remove the line or use\n    set Density = default");
  const std::size_t points =
      static_cast<std::size_t>(std::pow(double(evaluation_points), double(std::min(d, 3u))));
  require(d > 3 || points <= 100000000,
          "Evaluation/Points per direction = " + std::to_string(evaluation_points) + " gives " +
              std::to_string(points) + " grid points in d = " + std::to_string(d) +
              " (more than 1e8). Lower it.");
}

void RunParameters::check_output_schedule(const double end_time, const double max_steps,
                                          const std::string &end_entry) const {
  const double by_time = output_interval > 0 ? std::floor(end_time / output_interval) + 2 : 2;
  const double by_steps = output_steps > 0 ? std::floor(max_steps / output_steps) : 0;
  std::ostringstream out;
  out << std::setprecision(6) << "Output: " << end_entry << " = " << end_time
      << " with Output/Time interval = " << output_interval;
  if (output_steps > 0)
    out << " and Output/Step interval = " << output_steps << " (up to " << max_steps << " steps)";
  out << " asks for up to " << by_time + by_steps
      << " output frames, more than Output/Maximum number of frames = " << max_frames
      << ". Use a larger Time interval (e.g. " << end_time / 100
      << " for 100 frames), or raise the maximum if so many frames are wanted.";
  require(by_time + by_steps <= max_frames, out.str());
}

void declare_all_parameters(ParameterHandler &prm) {
  RunParameters::declare_parameters(prm);
  ProblemParameters::declare_parameters(prm);
  Dynamics::declare_parameters(prm);
  PdeParameters::declare_parameters(prm);
  ParticleParameters::declare_parameters(prm);
  ComparisonParameters::declare_parameters(prm);
  StudyParameters::declare_parameters(prm);
  PaperParameters::declare_parameters(prm);
}

namespace {
std::string message_of(const ExceptionBase &e) {
  std::ostringstream out;
  e.print_info(out);
  return Utilities::trim(out.str());
}
} // namespace

void read_parameters(ParameterHandler &prm, const std::string &file,
                     const std::vector<std::string> &overrides) {
  check_parameter_file(file); // what deal.II does not check: cycles, duplicates, no entries
  try {
    prm.parse_input(file, "", false);
  } catch (const ExceptionBase &e) {
    throw InputError("In parameter file <" + file + ">: " + message_of(e));
  }

  for (const std::string &assignment : overrides) {
    // "A/B/Key=value" → "subsection A / subsection B / set Key = value / end / end"
    const std::size_t equal = assignment.find('=');
    require(equal != std::string::npos && equal > 0,
            "--set needs 'Section/Key=value', got <" + assignment + ">.");
    std::vector<std::string> path = Utilities::split_string_list(assignment.substr(0, equal), '/');
    const std::string value = assignment.substr(equal + 1);
    require(value.find('#') == std::string::npos,
            "--set \"" + assignment +
                "\": a value cannot contain '#' (it starts a comment in a parameter file, "
                "so the value would be cut there).");
    std::string text;
    for (std::size_t i = 0; i + 1 < path.size(); ++i)
      text += "subsection " + path[i] + "\n";
    text += "set " + path.back() + " = " + value + "\n";
    for (std::size_t i = 0; i + 1 < path.size(); ++i)
      text += "end\n";
    try {
      prm.parse_input_from_string(text, "", false);
    } catch (const ExceptionBase &e) {
      throw InputError("In --set \"" + assignment + "\": " + message_of(e));
    }
  }
}
} // namespace MeanField
