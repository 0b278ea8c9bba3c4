// Google Benchmark driver for the finite-volume solver of (M5): cell updates per second of a
// full SSP-RK2 step (kernel evaluations included) on the sparse-deconvolution problem at 64²,
// 128², 256² and the two-layer ReLU problem at 32³, and, on the same cloud {cell centres ×
// masses}, one kernel evaluation (f_μ, then F' and ∇F' at the cell centres) for comparison:
// the target is a step costing at most 1.5 × (stages) × one kernel evaluation. The face-table
// operator of refined meshes on the uniform 128² mesh and on a refined band, and one adaptation.
#include "../unit/pde_test_helpers.h"

#include <meanfield/app/parameters.h>
#include <meanfield/pde/finite_volume.h>
#include <meanfield/pde/parameters.h>
#include <meanfield/problems/initial_density.h>
#include <meanfield/problems/problem.h>

#include <deal.II/base/mpi.h>
#include <deal.II/base/parameter_handler.h>

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

using namespace MeanField;

namespace {
template <int dim>
using Setup = MeanField::testing::PdeSetup<dim>;

std::string deconvolution(const unsigned int cells) {
  return "set Dimension = 2\nset Run mode = pde\nsubsection Mesh\n set Subdivisions = " +
         std::to_string(cells) + "\n set Global refinements = 0\nend\n";
}

std::string relu(const unsigned int cells) {
  return "set Dimension = 3\nset Run mode = pde\nsubsection Problem\n set Type = two-layer "
         "network\n"
         " subsection Two-layer network\n  set Number of samples = 1000\n end\nend\n"
         "subsection Mesh\n set Subdivisions = " +
         std::to_string(cells) + "\n set Global refinements = 0\nend\n";
}

template <int dim>
void step(benchmark::State &state, const std::string &text) {
  Setup<dim> setup(text);
  for (auto _ : state)
    setup.solver->step(1e-12); // a fixed tiny dt: the cost does not depend on it
  const double stages = 2;     // ssp-rk2 (the first stage also computes the diagnostics)
  state.counters["cells"] = static_cast<double>(setup.solver->n_cells());
  state.counters["cell-updates/s"] = benchmark::Counter(
      stages * setup.solver->n_cells(), benchmark::Counter::kIsIterationInvariantRate);
}

template <int dim>
void kernel(benchmark::State &state, const std::string &text) {
  Setup<dim> setup(text);
  // the cell centres as the full tensor product the solver hands the kernel, masses reordered
  const WeightedCloud &cloud = setup.solver->cloud();
  const GridPointSet indexed = GridPointSet::from_points(cloud.points);
  const GridPointSet grid = GridPointSet::tensor_product(indexed.axes);
  std::vector<double> weights(grid.size(), 0.0);
  for (std::size_t q = 0; q < cloud.size(); ++q) {
    std::size_t slot = 0;
    for (unsigned int i = 0; i < dim; ++i)
      slot += indexed.index[q * dim + i] * grid.stride(i);
    weights[slot] = cloud.weights[q];
  }
  const Objective objective = setup.problem->objective().with_communicator(MPI_COMM_WORLD);
  std::vector<double> values(grid.size()), gradients(grid.size() * dim);
  for (auto _ : state) {
    const Objective::State s = objective.evaluate(grid, weights);
    objective.first_variation(s, grid, values.data(), gradients.data());
    benchmark::DoNotOptimize(gradients.data());
  }
  state.counters["cells"] = static_cast<double>(setup.solver->n_cells());
}
// One adaptation (indicator, buffer, refine/coarsen, transfer, rebuild of the tables) of an
// adaptive mesh after a few steps, the cells counted after it.
void adaptation_2d(benchmark::State &state, const std::string &text) {
  Setup<2> setup(text);
  for (int n = 0; n < 20; ++n)
    setup.solver->step(1.0);
  for (auto _ : state)
    setup.solver->adapt_mesh();
  state.counters["cells"] = static_cast<double>(setup.solver->n_cells());
}

std::string refinement(const std::string &lines) {
  return "subsection Mesh\n subsection Refinement\n" + lines + " end\nend\n";
}

// BENCHMARK_CAPTURE takes plain function names
void step_2d(benchmark::State &state, const std::string &text) {
  step<2>(state, text);
}
void step_3d(benchmark::State &state, const std::string &text) {
  step<3>(state, text);
}
void kernel_2d(benchmark::State &state, const std::string &text) {
  kernel<2>(state, text);
}
void kernel_3d(benchmark::State &state, const std::string &text) {
  kernel<3>(state, text);
}
} // namespace

BENCHMARK_CAPTURE(step_2d, deconvolution_64, deconvolution(64))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(kernel_2d, deconvolution_64, deconvolution(64))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(step_2d, deconvolution_128, deconvolution(128))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(kernel_2d, deconvolution_128, deconvolution(128))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// the scheme of the NumPy reference of issue 3: first order, SSP-RK2
BENCHMARK_CAPTURE(step_2d, deconvolution_128_first_order,
                  deconvolution(128) +
                      "subsection Discretization\n set Reconstruction = first order\nend\n")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// the face-table operator of refined meshes (doc/theory.md §4.1): on the uniform 128² mesh
// (against the lattice above), and on 64² with a band of two extra levels around r = 0
BENCHMARK_CAPTURE(step_2d, deconvolution_128_faces,
                  deconvolution(128) + refinement("  set Operator = faces\n"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(step_2d, deconvolution_64_band_2_levels,
                  deconvolution(64) + refinement("  set Box lower = 0, -0.5\n"
                                                 "  set Box upper = 1, 0.5\n  set Box levels = 2\n"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(adaptation_2d, deconvolution_64_adaptive_2_levels,
                  deconvolution(64) +
                      refinement("  set Adaptive = true\n  set Maximum level = 2\n"))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(step_2d, deconvolution_256, deconvolution(256))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(kernel_2d, deconvolution_256, deconvolution(256))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(step_3d, relu_32, relu(32))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step_3d, relu_32_discrete_gradient,
                  relu(32) +
                      "subsection Discretization\n set Face velocity = discrete gradient\nend\n")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(kernel_3d, relu_32, relu(32))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(step_3d, relu_64_discrete_gradient,
                  relu(64) +
                      "subsection Discretization\n set Face velocity = discrete gradient\nend\n")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(kernel_3d, relu_64, relu(64))->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char **argv) {
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
