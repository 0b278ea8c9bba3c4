#pragma once
// A particle system built from .prm text, exactly as `meanfield` builds it, for the particle tests.

#include <meanfield/app/parameters.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <memory>
#include <string>

namespace MeanField::testing {
// A problem and a particle system built from .prm text, as `meanfield` builds them
// (serial unless given a communicator), its particles from Particles/Initialization.
struct ParticleSetup {
  dealii::ParameterHandler prm;
  RunParameters run;
  std::unique_ptr<Problem> problem;
  ParticleParameters parameters;
  std::unique_ptr<ParticleSystem> system;

  explicit ParticleSetup(const std::string &text, MPI_Comm comm = MPI_COMM_SELF) {
    declare_all_parameters(prm);
    prm.parse_input_from_string(text);
    run.parse_parameters(prm);
    problem = create_problem(prm, comm);
    parameters.parse_parameters(prm);
    parameters.check_consistency(*problem);
    system = std::make_unique<ParticleSystem>(*problem, parameters, comm);
    const auto [first, end] = ParticleSystem::local_range(
        parameters.n_particles, dealii::Utilities::MPI::this_mpi_process(comm),
        dealii::Utilities::MPI::n_mpi_processes(comm));
    system->set_positions(positions(first, end - first), first);
  }

  PointSet positions(const std::size_t first, const std::size_t count) {
    const unsigned int d = problem->dimension();
    const ParticleInitialization method = parameters.initialization;
    if (d > 3 || method == ParticleInitialization::evenly_spaced ||
        method == ParticleInitialization::sphere)
      return initial_particles(*problem, parameters, first, count);
    PdeParameters mesh;
    mesh.parse_parameters(prm);
    if (d == 1)
      return initial_particles<1>(
          *problem, parameters,
          InitialDensity<1>(*problem, run.initial_density, run.function_constants), mesh, first,
          count);
    if (d == 2)
      return initial_particles<2>(
          *problem, parameters,
          InitialDensity<2>(*problem, run.initial_density, run.function_constants), mesh, first,
          count);
    return initial_particles<3>(
        *problem, parameters,
        InitialDensity<3>(*problem, run.initial_density, run.function_constants), mesh, first,
        count);
  }

  /// Step control's steps (Particles/Step, advance()) up to @p end_time.
  void run_to(const double end_time) {
    double eta = parameters.step;
    while (system->time() < end_time - 1e-12) {
      system->prepare_step();
      system->advance(end_time - system->time(), eta);
    }
  }

  /// n steps of length dt; returns the diagnostics after the last one.
  ParticleSystem::Diagnostics run_steps(const unsigned int n, const double dt) {
    for (unsigned int k = 0; k < n; ++k) {
      system->prepare_step();
      system->complete_step(dt);
    }
    return system->prepare_step();
  }
};
} // namespace MeanField::testing
