#include <meanfield/app/application.h>
#include <meanfield/app/configuration.h>
#include <meanfield/app/parameters.h>
#include <meanfield/app/run_memory.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/base/interrupt.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/compare/study.h>
#include <meanfield/io/checked_file.h>
#include <meanfield/io/output_directory.h>
#include <meanfield/io/statistics_table.h>
#include <meanfield/paper/experiment.h>
#include <meanfield/particles/driver.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/pde/driver.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/transport_solver.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/conditional_ostream.h>
#include <deal.II/base/mpi.h>
#include <deal.II/base/timer.h>

#include <boost/program_options.hpp>

#include <cctype>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <type_traits>

namespace MeanField {
namespace {
namespace po = boost::program_options;

unsigned int n_ranks(MPI_Comm comm) {
  return dealii::Utilities::MPI::n_mpi_processes(comm);
}

struct CommandLine {
  std::string parameter_file;
  std::vector<std::string> overrides;
  bool help = false;
  bool help_values = false;
  bool check_only = false;
  std::string petsc_options; ///< "-ksp_type bcgs -ksp_monitor": PETSc's, after the file
};

po::options_description visible_options() {
  po::options_description options("Options");
  options.add_options()("help,h", "print this message and every parameter with its default and "
                                  "documentation (a valid .prm file)")(
      "help-values", "print every parameter with its allowed values (type and range)")(
      "set,s", po::value<std::vector<std::string>>()->composing(),
      "override one entry: --set \"Section/Subsection/Key=value\" (repeatable)")(
      "check", "read and check the parameter file (and the initial density), then stop: no output");
  return options;
}

const char *usage = "Usage: meanfield [options] <file.prm>\n"
                    "Solves the mean-field gradient flow d_t mu = div(mu grad F'(mu)) described by "
                    "a parameter file.\n";

// PETSc's options (-name [value], one dash and at least two letters) are PETSc's: it read them
// at start-up. They follow the parameter file: a word after one of them is its value.
std::pair<std::vector<std::string>, std::string> split_petsc_options(int argc, char **argv) {
  std::vector<std::string> ours{argv[0]};
  std::string petsc;
  bool after_petsc_name = false;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    const bool petsc_name =
        arg.size() > 2 && arg[0] == '-' && std::isalpha(arg[1]) && std::isalpha(arg[2]);
    if (petsc_name || (after_petsc_name && !arg.empty() && arg[0] != '-')) {
      petsc += (petsc.empty() ? "" : " ") + arg;
      after_petsc_name = petsc_name;
      continue;
    }
    after_petsc_name = false;
    ours.push_back(arg);
  }
  return {ours, petsc};
}

CommandLine parse_command_line(int argc_all, char **argv_all) {
  const auto [arguments, petsc_options] = split_petsc_options(argc_all, argv_all);
  std::vector<const char *> argv;
  for (const std::string &a : arguments)
    argv.push_back(a.c_str());
  const int argc = static_cast<int>(argv.size());
  po::options_description all = visible_options();
  all.add_options()("parameter-file", po::value<std::string>(), "");
  po::positional_options_description positional;
  positional.add("parameter-file", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv.data()).options(all).positional(positional).run(),
              vm);
    po::notify(vm);
  } catch (const po::error &e) {
    throw InputError(std::string("command line: ") + e.what() + "\n" + usage);
  }
  CommandLine cl;
  cl.help = vm.count("help") > 0;
  cl.help_values = vm.count("help-values") > 0;
  cl.check_only = vm.count("check") > 0;
  if (vm.count("parameter-file"))
    cl.parameter_file = vm["parameter-file"].as<std::string>();
  if (vm.count("set"))
    cl.overrides = vm["set"].as<std::vector<std::string>>();
  cl.petsc_options = petsc_options;
  return cl;
}

// The one dispatch on the dimension: μ0 on the midpoint grid of the problem's box (d ≤ 3).
std::optional<WeightedCloud> initial_cloud(const RunParameters &run, const Problem &problem,
                                           MPI_Comm comm) {
  switch (problem.dimension()) {
  case 1:
    return InitialDensity<1>(problem, run.initial_density, run.function_constants)
        .midpoint_cloud(run.evaluation_points, comm);
  case 2:
    return InitialDensity<2>(problem, run.initial_density, run.function_constants)
        .midpoint_cloud(run.evaluation_points, comm);
  case 3:
    return InitialDensity<3>(problem, run.initial_density, run.function_constants)
        .midpoint_cloud(run.evaluation_points, comm);
  default:
    return std::nullopt;
  }
}

void write_used_parameters(dealii::ParameterHandler &prm, const CommandLine &cl,
                           const std::string &directory, MPI_Comm comm) {
  std::string error;
  if (dealii::Utilities::MPI::this_mpi_process(comm) == 0)
    error = write_file(directory + "/parameters.prm", [&](std::ostream &out) {
      out << "# The parameters used by this run of meanfield: " << cl.parameter_file;
      for (const std::string &o : cl.overrides)
        out << " --set \"" << o << '"';
      out << "\n# (every parameter, defaults included; feed this file back to meanfield to repeat "
             "the run)\n";
      prm.print_parameters(out, dealii::ParameterHandler::PRM);
    });
  throw_if_any_failed(error, "Could not write the run's parameters: ", comm);
}

// Every run's start, once its input is checked: the output directory, parameters.prm and the
// banner (problem, d, ranks, threads). The caller ends the banner's last line.
void begin_output(dealii::ParameterHandler &prm, const CommandLine &cl, const RunParameters &run,
                  const Problem &problem, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  prepare_output_directory(run.output_directory, run.overwrite, comm);
  write_used_parameters(prm, cl, run.output_directory, comm);
  pcout << "MeanField: " << problem.summary() << "\n  d = " << problem.dimension()
        << ", MPI ranks: " << dealii::Utilities::MPI::n_mpi_processes(comm)
        << ", threads per rank: " << dealii::MultithreadInfo::n_threads();
}

// Run mode = evaluate: F and its parts on μ0 and on the ground truth.
void run_evaluate(const Problem &problem, const std::optional<WeightedCloud> &mu0,
                  const RunParameters &run, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  const Objective &objective = problem.objective();
  const unsigned int d = problem.dimension();
  const std::optional<double> F_star = problem.optimal_value();

  StatisticsTable table;
  table.add_column("measure", "0: mu0 at the grid midpoints, 1: the ground-truth measure");
  table.add_column("points", "number of points of the weighted cloud");
  table.add_column("mass", "total weight of the cloud");
  table.add_column("F", "F(mu) = R(f_mu) + int V dmu (M2)");
  table.add_column("R-part", "R(f_mu), the data term");
  table.add_column("V-part", "int V dmu, the regularizer term");
  table.add_column("dissipation", "int |grad F'(mu)|^2 dmu = -dF/dt along the flow (M6)");
  table.add_column("max speed", "max over the cloud of |grad F'(mu)| (M4)");
  table.add_column("F - F*", "excess value, when F* is known (nan otherwise)");
  table.add_column("kernel seconds", "wall time of f_mu, F and F', grad F' at the cloud");

  pcout << "\n  measure        points        F              R-part         V-part         "
           "dissipation    max speed\n";
  auto evaluate = [&](const int id, const char *label, const WeightedCloud &local) {
    dealii::Timer timer(comm, true);
    const Objective::State state = objective.evaluate(local);
    std::vector<double> values(local.size()), gradients(local.size() * d);
    objective.first_variation(state, local.points, values.data(), gradients.data());
    timer.stop();
    const double dissipation = objective.dissipation(state, local);
    double speed = 0.0;
    for (std::size_t j = 0; j < local.size(); ++j) {
      double norm2 = 0.0;
      for (unsigned int i = 0; i < d; ++i)
        norm2 += gradients[j * d + i] * gradients[j * d + i];
      speed = std::max(speed, std::sqrt(norm2));
    }
    speed = dealii::Utilities::MPI::max(speed, comm);
    const long long points = static_cast<long long>(
        dealii::Utilities::MPI::sum(static_cast<double>(local.size()), comm));
    const double excess =
        F_star ? state.value() - *F_star : std::numeric_limits<double>::quiet_NaN();
    table.add_row({double(id), points, state.mass, state.value(), state.risk, state.potential,
                   dissipation, speed, excess, timer.wall_time()});
    pcout << "  " << std::left << std::setw(13) << label << std::right << std::setw(8) << points
          << std::scientific << std::setprecision(6) << "  " << std::setw(13) << state.value()
          << "  " << std::setw(13) << state.risk << "  " << std::setw(13) << state.potential << "  "
          << std::setw(13) << dissipation << "  " << std::setw(13) << speed << std::defaultfloat
          << '\n';
  };
  if (mu0)
    evaluate(0, "mu0 (grid)", *mu0);
  if (const auto truth = problem.ground_truth()) {
    // the ground truth lives on rank 0 only: the kernel's all-reduce assembles it
    const bool root = dealii::Utilities::MPI::this_mpi_process(comm) == 0;
    evaluate(1, "ground truth", root ? *truth : WeightedCloud(d));
  }
  if (F_star)
    pcout << "  F* = " << *F_star << " (known exactly)\n";

  table.write(run.output_directory + "/statistics", comm);
}

// The checks every mesh-based mode makes: the mesh entries against the problem (dimension,
// boundaries, the kinks of V on cell centres) and the ground truth inside the box.
void check_mesh_run(const PdeParameters &pde, const Problem &problem) {
  pde.check_consistency(problem);
  pde.check_solution_fits(problem);
}

// Run mode = pde in dimension dim: mesh, μ0 and every check first, output only after.
template <int dim>
int run_pde_mode(dealii::ParameterHandler &prm, const CommandLine &cl, const Configuration &config,
                 const Problem &problem, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const PdeParameters &pde = config.pde;
  check_mesh_run(pde, problem);
  run.check_output_schedule(pde.end_time, pde.max_steps, "Time stepping/End time");
  MemoryEstimate memory;
  RunMemory::add_data(memory, problem);
  RunMemory::add_mesh(memory, pde, dim, n_ranks(comm));
  memory.check(comm);
  const InitialDensity<dim> mu0(problem, run.initial_density, run.function_constants);
  FiniteVolumeSolver<dim> solver(problem, pde, comm);
  solver.set_initial_density([&](const dealii::Point<dim> &p) { return mu0.value(p); });
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << dim << ", run mode pde, " << solver.n_cells()
          << " cells; memory per rank about " << memory.summary() << ")\n";
    return 0;
  }
  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << "\n  mu0 = " << mu0.expression() << "\n  " << pde.box_summary(problem) << "\n";
  run_pde(solver, run, pde, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  statistics      one row per time step (column descriptions in its header)"
        << (run.write_vtk ? "\n  solution.pvd    the density, F' and -grad F' over time (ParaView)"
                          : "")
        << "\n  parameters.prm  the parameters this run used\n";
  return 0;
}
// The initial particles of this rank in dimension dim ≤ 3, sampling μ0 on the Mesh box.
template <int dim>
PointSet initial_particles_on_box(const Configuration &config, const Problem &problem,
                                  const std::size_t first, const std::size_t count) {
  config.pde.check_box(problem);
  const InitialDensity<dim> mu0(problem, config.run.initial_density, config.run.function_constants);
  return initial_particles<dim>(problem, config.particles, mu0, config.pde, first, count);
}

// Run mode = particles: the particle method (M7) from μ0; every check before any output.
int run_particles_mode(dealii::ParameterHandler &prm, const CommandLine &cl,
                       const Configuration &config, const Problem &problem, MPI_Comm comm,
                       dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const ParticleParameters &parameters = config.particles;
  parameters.check_consistency(problem);
  run.check_output_schedule(parameters.end_time, parameters.max_iterations, "Particles/End time");
  const unsigned int d = problem.dimension();
  MemoryEstimate memory;
  RunMemory::add_data(memory, problem);
  RunMemory::add_particles(memory, parameters.n_particles, d, n_ranks(comm),
                           "Particles/Number of particles");
  memory.check(comm);
  const auto [first, end] = ParticleSystem::local_range(
      parameters.n_particles, dealii::Utilities::MPI::this_mpi_process(comm),
      dealii::Utilities::MPI::n_mpi_processes(comm));
  const ParticleInitialization method = parameters.initialization;
  const bool on_box = d <= 3 && method != ParticleInitialization::evenly_spaced &&
                      method != ParticleInitialization::sphere;
  PointSet positions = !on_box  ? initial_particles(problem, parameters, first, end - first)
                       : d == 1 ? initial_particles_on_box<1>(config, problem, first, end - first)
                       : d == 2 ? initial_particles_on_box<2>(config, problem, first, end - first)
                                : initial_particles_on_box<3>(config, problem, first, end - first);
  ParticleSystem system(problem, parameters, comm);
  if (parameters.dynamics.noisy() && d <= 3)
    system.set_walls(config.pde.walls(problem)); // the PDE's no-flux walls reflect the noise
  system.set_positions(positions, first);
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << d << ", run mode particles, m = " << parameters.n_particles
          << "; memory per rank about " << memory.summary() << ")\n";
    return 0;
  }
  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << "\n";
  run_particles(system, problem, run, parameters, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  statistics      one row per iteration (column descriptions in its header)"
        << (run.write_vtk ? "\n  particles.pvd   the particles with weight, F', velocity, id over "
                            "time (ParaView)"
                          : "")
        << "\n  parameters.prm  the parameters this run used\n";
  return 0;
}
// Run mode = compare in dimension dim: the PDE and the particles from the same μ0.
template <int dim>
int run_compare_mode(dealii::ParameterHandler &prm, const CommandLine &cl,
                     const Configuration &config, const Problem &problem, MPI_Comm comm,
                     dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const PdeParameters &pde = config.pde;
  const ParticleParameters &particle_parameters = config.particles;
  const ComparisonParameters &comparison = config.comparison;
  check_mesh_run(pde, problem);
  particle_parameters.check_consistency(problem);
  run.check_output_schedule(pde.end_time, pde.max_steps, "Time stepping/End time");
  MemoryEstimate memory;
  RunMemory::add_data(memory, problem);
  RunMemory::add_mesh(memory, pde, dim, n_ranks(comm));
  RunMemory::add_particles(memory, particle_parameters.n_particles, dim, n_ranks(comm),
                           "Particles/Number of particles");
  memory.check(comm);
  const InitialDensity<dim> mu0(problem, run.initial_density, run.function_constants);
  FiniteVolumeSolver<dim> solver(problem, pde, comm);
  solver.set_initial_density([&](const dealii::Point<dim> &p) { return mu0.value(p); });
  const auto [first, end] = ParticleSystem::local_range(
      particle_parameters.n_particles, dealii::Utilities::MPI::this_mpi_process(comm),
      dealii::Utilities::MPI::n_mpi_processes(comm));
  ParticleSystem particles(problem, particle_parameters, comm);
  if (particle_parameters.dynamics.noisy())
    particles.set_walls(pde.walls(problem));
  particles.set_positions(
      initial_particles<dim>(problem, particle_parameters, mu0, pde, first, end - first), first);
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << dim << ", run mode compare, " << solver.n_cells()
          << " cells, m = " << particle_parameters.n_particles << "; memory per rank about "
          << memory.summary() << ")\n";
    return 0;
  }
  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << "\n  mu0 = " << mu0.expression() << "\n  " << pde.box_summary(problem) << "\n";
  run_compare(solver, particles, problem, run, pde, particle_parameters, comparison, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  comparison      the distances particles - PDE at the output times"
        << (run.write_vtk ? "\n  solution.pvd    the PDE density over time (ParaView)"
                            "\n  particles.pvd   the particles on the same timeline (open both)"
                          : "")
        << "\n  parameters.prm  the parameters this run used\n";
  return 0;
}
// Run mode = study in dimension dim: one PDE run against particle runs for every m and seed.
template <int dim>
int run_study_mode(dealii::ParameterHandler &prm, const CommandLine &cl,
                   const Configuration &config, const Problem &problem, MPI_Comm comm,
                   dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const PdeParameters &pde = config.pde;
  const ParticleParameters &particles = config.particles;
  const ComparisonParameters &comparison = config.comparison;
  const StudyParameters &study = config.study;
  check_mesh_run(pde, problem);
  study.check_consistency(problem, pde, particles);
  MemoryEstimate memory;
  RunMemory::add_data(memory, problem);
  RunMemory::add_mesh(memory, pde, dim, n_ranks(comm));
  RunMemory::add_mesh(memory, pde, dim, n_ranks(comm), study.reference_refinements,
                      "reference mesh");
  RunMemory::add_particles(memory, study.particle_numbers.back(), dim, n_ranks(comm),
                           "Study/Particle numbers");
  memory.check(comm);
  const InitialDensity<dim> mu0(problem, run.initial_density, run.function_constants);
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << dim << ", run mode study, " << study.particle_numbers.size()
          << " values of m x " << study.n_seeds << " seeds x " << study.initializations.size()
          << " initializations; memory per rank about " << memory.summary() << ")\n";
    return 0;
  }
  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << "\n  mu0 = " << mu0.expression() << "\n  " << pde.box_summary(problem) << "\n";
  run_study(problem, mu0, run, pde, particles, comparison, study, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  study            every run's distances to the PDE at the recorded times"
        << "\n  study_slopes     log-log slopes against m and their spread over seeds"
        << "\n  study_pde_error  the PDE against a finer mesh: the floor of the particle errors"
        << "\n  study_decomposition  MMD^2 = C/m + E_h^2 fitted (M11): the particle constant, "
           "the PDE's error E_h and its refinement estimate"
        << "\n  plot:            /usr/bin/python3 postprocess/plot_convergence.py "
        << run.output_directory << "\n";
  return 0;
}

// The mesh-based run modes are compiled for d = 1, 2, 3: f(std::integral_constant<int, d>) for
// the problem's d, an InputError naming the mode for larger d.
template <typename Function>
int dispatch_dimension(const std::string &mode, const unsigned int d, const Function &f) {
  require(d <= 3, "The PDE is solved for d <= 3 (Run mode = " + mode +
                      " needs it), but the problem has d = " + std::to_string(d) +
                      ". Use fewer input dimensions, or Run mode = particles for large d.");
  switch (d) {
  case 1:
    return f(std::integral_constant<int, 1>());
  case 2:
    return f(std::integral_constant<int, 2>());
  default:
    return f(std::integral_constant<int, 3>());
  }
}

// Run mode = paper: the excess loss at convergence against m (paper/experiment.h). Problem
// instance s is the problem of the .prm with its Seed raised by s.
int run_paper_mode(dealii::ParameterHandler &prm, const CommandLine &cl,
                   const Configuration &config, const Problem &problem, MPI_Comm comm,
                   dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const ProblemType type = problem.type();
  require(type == ProblemType::sparse_deconvolution || type == ProblemType::two_layer_network,
          "Run mode = paper is defined for Problem/Type = sparse deconvolution or two-layer "
          "network (the paper's experiments), not " +
              to_string(type) + ".");
  const std::string section = subsection_name(type);
  require(problem.optimal_value().has_value(),
          "Run mode = paper needs a known optimum F*: sparse deconvolution with Huber width = 0 "
          "and Regularization > 0, or a two-layer network with the square loss and Weight decay "
          "= 0.");
  const ParticleParameters &particles = config.particles;
  const PaperParameters &paper = config.paper;
  require(!particles.dynamics.noisy(),
          "Run mode = paper compares F at convergence with the certified optimum F*; the Langevin "
          "flow (Dynamics/Type = langevin) converges to the Gibbs measure of F + tau int rho log "
          "rho instead. Use Dynamics/Type = wasserstein, or Run mode = study.");
  for (const DynamicsType dynamics : paper.particle_dynamics)
    require(dynamics == DynamicsType::wasserstein ||
                (dynamics == DynamicsType::wasserstein_fisher_rao &&
                 particles.dynamics.type == DynamicsType::wasserstein_fisher_rao),
            "Paper/Particle dynamics = " + to_string(dynamics) +
                ": run mode paper runs the Wasserstein flow and the Wasserstein-Fisher-Rao flow, "
                "whose rate and mass come from the Dynamics subsection (set Dynamics/Type = "
                "wasserstein-fisher-rao there).");
  particles.check_consistency(problem);
  MemoryEstimate memory; // the largest run, on one rank (or all, Distribute runs = false)
  RunMemory::add_data(memory, problem);
  RunMemory::add_particles(memory, paper.particle_numbers.back(), problem.dimension(),
                           paper.distribute_runs ? 1 : n_ranks(comm), "Paper/Particle numbers");
  memory.add("random features",
             8.0 * 2 * paper.particle_numbers.back() * problem.objective().data().size(),
             "Paper/Particle numbers, Problem/.../Number of samples");
  memory.check(comm);
  auto seed_entry = [&](const long long value) {
    prm.enter_subsection("Problem");
    prm.enter_subsection(section);
    const long long base = prm.get_integer("Seed");
    if (value >= 0)
      prm.set("Seed", static_cast<long int>(value));
    prm.leave_subsection();
    prm.leave_subsection();
    return base;
  };
  const long long base_seed = seed_entry(-1);
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << problem.dimension() << ", run mode paper, "
          << paper.particle_numbers.size() << " values of m x " << paper.n_seeds
          << " instances; memory per rank about " << memory.summary() << ")\n";
    return 0;
  }
  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << "\n  particles: " << to_string(particles.initialization) << ", "
        << to_string(particles.integrator) << ", step " << particles.step << " ("
        << to_string(particles.step_control) << "), until t = " << particles.end_time << ", "
        << particles.max_iterations << " steps, F - F* <= " << paper.excess_floor
        << " F* (F0 if F* = 0) or a stall\n";
  const auto make_problem = [&](const unsigned int s) {
    seed_entry(base_seed + s);
    auto instance = create_problem(prm, comm);
    seed_entry(base_seed);
    return instance;
  };
  run_paper(make_problem, run, particles, paper, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  paper          one row per run: F, F*, the excess, its certificate, the stop"
        << "\n  paper_summary  per m: median and range over the instances of F - F*"
        << "\n  plot:          /usr/bin/python3 postprocess/plot_paper.py " << run.output_directory
        << "\n";
  return 0;
}
// Run mode = evaluate: F, its parts and the dissipation on μ0 and the ground truth.
int run_evaluate_mode(dealii::ParameterHandler &prm, const CommandLine &cl,
                      const Configuration &config, const Problem &problem, MPI_Comm comm,
                      dealii::ConditionalOStream &pcout) {
  const RunParameters &run = config.run;
  const unsigned int d = problem.dimension();
  MemoryEstimate memory;
  RunMemory::add_data(memory, problem);
  RunMemory::add_evaluation_grid(memory, run.evaluation_points, d, n_ranks(comm));
  memory.check(comm);
  const std::optional<WeightedCloud> mu0 = initial_cloud(run, problem, comm);
  if (cl.check_only) {
    pcout << "meanfield: " << cl.parameter_file << ": parameters are valid (" << problem.name()
          << ", d = " << problem.dimension() << ", run mode " << to_string(run.run_mode) << ")\n";
    return 0;
  }

  begin_output(prm, cl, run, problem, comm, pcout);
  pcout << '\n';
  if (mu0)
    pcout << "  mu0 = "
          << (run.initial_density == "default" ? problem.default_initial_density()
                                               : run.initial_density)
          << " on " << run.evaluation_points << "^" << problem.dimension() << " grid midpoints\n";

  run_evaluate(problem, mu0, run, comm, pcout);
  pcout << "\nOutput directory: " << std::filesystem::absolute(run.output_directory).string()
        << "\n  statistics      F and its parts per measure (column descriptions in its header)"
        << "\n  parameters.prm  the parameters this run used\n";
  return 0;
}

// The mesh-based modes for the problem's d (1, 2, 3).
int run_pde_any(dealii::ParameterHandler &prm, const CommandLine &cl, const Configuration &config,
                const Problem &problem, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  return dispatch_dimension("pde", problem.dimension(), [&](auto dim) {
    return run_pde_mode<decltype(dim)::value>(prm, cl, config, problem, comm, pcout);
  });
}
int run_compare_any(dealii::ParameterHandler &prm, const CommandLine &cl,
                    const Configuration &config, const Problem &problem, MPI_Comm comm,
                    dealii::ConditionalOStream &pcout) {
  return dispatch_dimension("compare", problem.dimension(), [&](auto dim) {
    return run_compare_mode<decltype(dim)::value>(prm, cl, config, problem, comm, pcout);
  });
}
int run_study_any(dealii::ParameterHandler &prm, const CommandLine &cl, const Configuration &config,
                  const Problem &problem, MPI_Comm comm, dealii::ConditionalOStream &pcout) {
  return dispatch_dimension("study", problem.dimension(), [&](auto dim) {
    return run_study_mode<decltype(dim)::value>(prm, cl, config, problem, comm, pcout);
  });
}

// The run modes: `Run mode` → what runs it.
struct RunModeEntry {
  RunMode mode;
  int (*run)(dealii::ParameterHandler &, const CommandLine &, const Configuration &,
             const Problem &, MPI_Comm, dealii::ConditionalOStream &);
};
constexpr RunModeEntry run_modes[] = {
    {RunMode::evaluate, run_evaluate_mode},   {RunMode::pde, run_pde_any},
    {RunMode::particles, run_particles_mode}, {RunMode::compare, run_compare_any},
    {RunMode::study, run_study_any},          {RunMode::paper, run_paper_mode}};

const RunModeEntry &find_run_mode(const RunMode mode) {
  for (const RunModeEntry &entry : run_modes)
    if (entry.mode == mode)
      return entry;
  throw std::logic_error("no run mode " + to_string(mode) + " in the registry");
}
} // namespace

// PETSc options on the command line configure the linear solver of the implicit PDE step: a run
// without one would ignore them silently. The solver checks that each is used (a misspelling).
void check_petsc_command_line(const CommandLine &cl, Configuration &config) {
  if (cl.petsc_options.empty())
    return;
  const RunMode mode = config.run.run_mode;
  require((mode == RunMode::pde || mode == RunMode::compare || mode == RunMode::study) &&
              config.pde.implicit(),
          "command line: " + cl.petsc_options +
              ": PETSc options configure the solvers of Time stepping/Scheme = linearly implicit "
              "or implicit, which this run (Run mode = " +
              to_string(mode) + ", Scheme = " + (config.pde.implicit() ? "implicit" : "explicit") +
              ") does not use.");
  parse_petsc_options(cl.petsc_options, "the command line");
  config.pde.command_line_solver_options = cl.petsc_options;
}

int run_application(int argc, char **argv, MPI_Comm comm) {
  silence_petsc_option_warnings(); // ours name the entry; PETSc's would list our own options
  const bool root = dealii::Utilities::MPI::this_mpi_process(comm) == 0;
  dealii::ConditionalOStream pcout(std::cout, root);
  const InterruptHandler interrupts; // SIGINT, SIGTERM: the loops stop between two steps
  std::string output_directory;      // for the message of an interrupted run
  try {
    const CommandLine cl = parse_command_line(argc, argv);
    dealii::ParameterHandler prm;
    declare_all_parameters(prm);
    if (cl.help || cl.help_values) {
      pcout << usage << '\n' << visible_options() << '\n';
      if (root)
        prm.print_parameters(std::cout, cl.help ? dealii::ParameterHandler::PRM
                                                : dealii::ParameterHandler::Description);
      return 0;
    }
    require(!cl.parameter_file.empty(), std::string("No parameter file given.\n") + usage);

    // Everything that can be wrong with the input is found here, before any output.
    read_parameters(prm, cl.parameter_file, cl.overrides);
    Configuration config;
    config.parse_parameters(prm);
    check_petsc_command_line(cl, config);
    output_directory = config.run.output_directory;
    const std::unique_ptr<Problem> problem = create_problem(prm, comm);
    config.run.check_consistency(*problem);
    check_output_directory(config.run.output_directory, config.run.overwrite, comm);
    return find_run_mode(config.run.run_mode).run(prm, cl, config, *problem, comm, pcout);
  } catch (const InputError &e) {
    if (root)
      std::cerr << "meanfield: error: " << e.what() << std::endl;
    return 1;
  } catch (const RunError &e) {
    if (root)
      std::cerr << "meanfield: the run failed: " << e.what() << std::endl;
    return 2;
  } catch (const Interrupted &e) {
    if (root)
      std::cerr << "meanfield: interrupted at " << e.what() << " (signal " << e.signal
                << "); output in " << std::filesystem::absolute(output_directory).string()
                << " (complete up to there)" << std::endl;
    return 128 + e.signal;
  } catch (const std::bad_alloc &) {
    // the memory estimate (app/memory.h) refuses what cannot fit; this is what it missed
    std::cerr << "meanfield: the run failed: out of memory on rank "
              << dealii::Utilities::MPI::this_mpi_process(comm)
              << ". Lower the sizes of the run (particles, samples, cells) or use more ranks."
              << std::endl;
    return 2;
  } catch (const dealii::ExceptionBase &e) {
    if (root) {
      std::cerr << "meanfield: internal error:\n";
      e.print_info(std::cerr);
    }
    return 3;
  } catch (const std::exception &e) {
    if (root)
      std::cerr << "meanfield: internal error: " << e.what() << std::endl;
    return 3;
  } catch (...) {
    if (root)
      std::cerr << "meanfield: internal error: an exception of unknown type" << std::endl;
    return 3;
  }
}
} // namespace MeanField
