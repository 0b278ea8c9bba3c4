// Google Benchmark driver for the particle method (M7): one full-batch gradient step (the
// state f_μ, then F' and ∇F' at all particles, then the Euler update) for m = 10⁴ particles:
// sparse deconvolution (n = 100, f_c = 7) and two-layer ReLU networks (n = 10³, d_in = 2 and
// 100). postprocess/torch_particle_step.py times the same step written in PyTorch.
#include <meanfield/app/parameters.h>
#include <meanfield/base/random.h>
#include <meanfield/compare/metrics.h>
#include <meanfield/particles/initialization.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/particles/particle_system.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

using namespace MeanField;

namespace {
std::string relu(const unsigned int input_dimension) {
  return "set Dimension = " + std::to_string(input_dimension + 1) +
         "\nsubsection Problem\n set Type = two-layer network\n"
         " subsection Two-layer network\n  set Input dimension = " +
         std::to_string(input_dimension) +
         "\n  set Number of samples = 1000\n end\nend\n"
         "subsection Particles\n set Initialization = sphere\n set Sphere radius = 1\nend\n";
}
const std::string deconvolution =
    "set Dimension = 2\nsubsection Particles\n set Initialization = evenly spaced\nend\n";

void gradient_step(benchmark::State &state, const std::string &text, const double flops) {
  dealii::ParameterHandler prm;
  declare_all_parameters(prm);
  prm.parse_input_from_string(text + "subsection Particles\n set Number of particles = 10000\n"
                                     " set Integrator = euler\nend\n");
  const std::unique_ptr<Problem> problem = create_problem(prm, MPI_COMM_WORLD);
  ParticleParameters parameters;
  parameters.parse_parameters(prm);
  ParticleSystem system(*problem, parameters, MPI_COMM_WORLD);
  const auto range =
      ParticleSystem::local_range(10000, dealii::Utilities::MPI::this_mpi_process(MPI_COMM_WORLD),
                                  dealii::Utilities::MPI::n_mpi_processes(MPI_COMM_WORLD));
  system.set_positions(
      initial_particles(*problem, parameters, range.first, range.second - range.first),
      range.first);
  for (auto _ : state) {
    system.prepare_step();
    system.complete_step(1e-9); // a tiny step: the cost does not depend on it
  }
  if (flops > 0)
    state.counters["GFLOP/s"] =
        benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// Flop model of one step of a two-layer network: the products W X (2 m n p) in the prediction
// and again in F', then the gradient contraction (2 m n p): 6 m n p.
void relu_d2(benchmark::State &state) {
  gradient_step(state, relu(2), 6.0 * 1e4 * 1e3 * 2);
}
void relu_d100(benchmark::State &state) {
  gradient_step(state, relu(100), 6.0 * 1e4 * 1e3 * 100);
}
void deconvolution_fc7(benchmark::State &state) {
  gradient_step(state, deconvolution, 0.0);
}
// The distances of a study at its largest size: m = 10^5 particles against N = 128² cells in
// d = 2 (issue 5: they must not dominate a study).
WeightedCloud random_cloud(const std::size_t n, const std::uint64_t seed) {
  RandomStream random(seed);
  WeightedCloud cloud(2);
  for (std::size_t j = 0; j < n; ++j) {
    const double theta[2] = {random.uniform(), random.normal()};
    cloud.push_back(theta, 1.0 / n);
  }
  return cloud;
}
void mmd_features_500(benchmark::State &state) {
  const WeightedCloud mu = random_cloud(100000, 1), nu = random_cloud(128 * 128, 2);
  for (auto _ : state)
    benchmark::DoNotOptimize(mmd_random_features(mu, nu, 0.1, 500, 1, MPI_COMM_WORLD));
}
void sliced_w2_50_directions(benchmark::State &state) {
  const WeightedCloud mu = random_cloud(100000, 1), nu = random_cloud(128 * 128, 2);
  for (auto _ : state)
    benchmark::DoNotOptimize(sliced_wasserstein2(mu, nu, 50, 1, MPI_COMM_WORLD));
}
} // namespace

BENCHMARK(mmd_features_500)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(sliced_w2_50_directions)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(deconvolution_fc7)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(relu_d2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(relu_d100)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char **argv) {
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
