// Google Benchmark driver for the F' kernel (MeanField::Objective): one kernel
// evaluation is evaluate() (f_μ on the data, M1) followed by first_variation()
// (F' and ∇F' at the m particles, M3), as in every step of the particle method.
//
// Flop model behind the GFLOP/s counters (m particles, n data points, input dim p, L = f_c):
//   ReLU, direct loops (p ≤ 4), per (particle, data point) pair:
//     evaluate:        w·x (2p − 1) + relu (1) + weighted accumulate (2)  ≈ 2p + 2
//     first_variation: the same for F', plus h σ' and the p + 1 gradient sums ≈ 4p + 4
//   ReLU, BLAS path (p > 4): only the matrix products are counted, 2 m n p flops each:
//     evaluate 1 product (W Xᵀ), first_variation 2 (W Xᵀ, then D X for ∇_w F');
//     the elementwise σ/σ' passes (O(m n)) come on top, uncounted.
//   Deconvolution (separable Fourier sums, O((m + n) L) instead of O(m n)):
//     one complex multiply-add (8 flops) per (point, frequency), for the cloud and the data
//     in each pass: 8 (m + n)(L + 1) per pass; the sin/cos calls are not counted.
//   dgemm only: the 3 raw products of the p > 4 kernel, 3 × 2 m n p, for all m particles at
//     once and in the kernel's blocks of 512 particles (dgemm_only_block512).
#include <meanfield/base/random.h>
#include <meanfield/objective/features.h>
#include <meanfield/objective/objective.h>

#include <deal.II/base/mpi.h>
#include <deal.II/lac/lapack_templates.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

using namespace MeanField;

namespace {
constexpr std::size_t n_particles = 10000;

// A kernel ready to run: the objective, the cloud, and the flop counts of both passes.
struct KernelCase {
  std::shared_ptr<Objective> objective;
  WeightedCloud cloud;
  double evaluate_flops = 0.0;
  double first_variation_flops = 0.0;
};

// Two-layer ReLU network, θ = (a, w) i.i.d. normal, n inputs uniform on the sphere S^{p−1}
// (for p = 2 the circle), target y = x_0 (the target does not change the cost).
KernelCase relu_case(const unsigned int p, const std::size_t n) {
  RandomStream random(1000 + p);
  auto data = std::make_shared<Dataset>();
  data->input_dim = p;
  std::vector<double> x(p);
  for (std::size_t k = 0; k < n; ++k) {
    double norm2 = 0.0;
    for (double &xi : x) {
      xi = random.normal();
      norm2 += xi * xi;
    }
    for (double &xi : x)
      xi /= std::sqrt(norm2);
    data->push_back(x.data(), 0.0, x[0]);
  }
  data->set_uniform_weights();

  KernelCase c;
  c.cloud = WeightedCloud(p + 1);
  std::vector<double> theta(p + 1);
  for (std::size_t j = 0; j < n_particles; ++j) {
    for (double &t : theta)
      t = random.normal();
    c.cloud.push_back(theta.data(), 1.0 / n_particles);
  }
  const auto feature = std::make_shared<TwoLayerFeature>(p, TwoLayerFeature::Activation::relu);
  c.objective = std::make_shared<Objective>(feature, std::make_shared<SquareLoss>(1.0),
                                            std::make_shared<NoRegularizer>(), data, MPI_COMM_SELF);
  const double pairs = double(n_particles) * n;
  const bool direct = p <= TwoLayerFeature::max_direct_input_dimension;
  c.evaluate_flops = direct ? (2.0 * p + 2) * pairs : 2.0 * pairs * p;
  c.first_variation_flops = direct ? (4.0 * p + 4) * pairs : 2 * 2.0 * pairs * p;
  return c;
}

// Sparse deconvolution on the torus: Dirichlet filter f_c = 7, samples s_k = k/n,
// spikes θ = (x, r) with x uniform in [0, 1) and r normal.
KernelCase deconvolution_case(const unsigned int cutoff, const std::size_t n) {
  RandomStream random(7);
  auto data = std::make_shared<Dataset>();
  data->input_dim = 1;
  for (std::size_t k = 0; k < n; ++k) {
    const double s = double(k) / n;
    data->push_back(&s, 0.0, random.normal());
  }
  data->set_uniform_weights();

  KernelCase c;
  c.cloud = WeightedCloud(2);
  for (std::size_t j = 0; j < n_particles; ++j)
    c.cloud.push_back({random.uniform(), random.normal()}, 1.0 / n_particles);
  const auto feature =
      std::make_shared<FourierFilterFeature>(FourierFilterFeature::dirichlet(cutoff));
  c.objective = std::make_shared<Objective>(feature, std::make_shared<SquareLoss>(1.0),
                                            std::make_shared<NoRegularizer>(), data, MPI_COMM_SELF);
  c.evaluate_flops = c.first_variation_flops = 8.0 * (n_particles + n) * (cutoff + 1);
  return c;
}

void set_gflops(benchmark::State &state, const double flops) {
  // Counted per iteration and divided by the (real) time: GFLOP/s.
  state.counters["GFLOP/s"] =
      benchmark::Counter(1e-9 * flops, benchmark::Counter::kIsIterationInvariantRate);
}

enum class Pass { full, evaluate, first_variation };

void run_kernel(benchmark::State &state, const KernelCase &c, const Pass pass) {
  const Objective &objective = *c.objective;
  const std::size_t m = c.cloud.size();
  std::vector<double> values(m), gradients(m * c.cloud.dim());
  const Objective::State fixed = objective.evaluate(c.cloud); // for first_variation alone
  for (auto _ : state) {
    if (pass == Pass::first_variation)
      objective.first_variation(fixed, c.cloud.points, values.data(), gradients.data());
    else {
      const Objective::State s = objective.evaluate(c.cloud);
      benchmark::DoNotOptimize(s.risk);
      if (pass == Pass::full)
        objective.first_variation(s, c.cloud.points, values.data(), gradients.data());
    }
    benchmark::DoNotOptimize(values.data());
    benchmark::DoNotOptimize(gradients.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, (pass != Pass::first_variation ? c.evaluate_flops : 0.0) +
                        (pass != Pass::evaluate ? c.first_variation_flops : 0.0));
}

// Reference: the 3 raw products of the p > 4 kernel, without the σ passes, over the
// particles in column blocks of @p block (block = m: one product each; the kernel uses 512).
// Column-major BLAS: X (n × p row-major) is p × n, W = the w-parts of θ with stride d.
void run_dgemm_only(benchmark::State &state, const KernelCase &c, const int block) {
  const Dataset &data = c.objective->data();
  const int n = int(data.size()), p = int(data.input_dim), m = int(c.cloud.size()), d = p + 1;
  std::vector<double> Z(std::size_t(n) * block), G(std::size_t(p) * m);
  const double one = 1.0, zero = 0.0;
  for (auto _ : state)
    for (int j0 = 0; j0 < m; j0 += block) {
      const int cols = std::min(block, m - j0);
      const double *W = c.cloud.position(j0) + 1;
      // Z (n × cols) = Xᵀ W, twice (prediction, F'); then G (p × cols) = X Z (∇_w F')
      for (int product = 0; product < 2; ++product)
        dealii::gemm("T", "N", &n, &cols, &p, &one, data.inputs.data(), &p, W, &d, &zero, Z.data(),
                     &n);
      dealii::gemm("N", "N", &p, &cols, &n, &one, data.inputs.data(), &p, Z.data(), &n, &zero,
                   G.data() + std::size_t(j0) * p, &p);
      benchmark::DoNotOptimize(G.data());
      benchmark::ClobberMemory();
    }
  set_gflops(state, 3 * 2.0 * double(m) * n * p);
}
} // namespace

int main(int argc, char **argv) {
  // MPI (the kernel reduces over MPI_COMM_SELF) and the TBB thread limit.
  dealii::Utilities::MPI::MPI_InitFinalize mpi(argc, argv);

  // Static so that the lambdas below may refer to them while the benchmarks run.
  static const KernelCase relu_p2 = relu_case(2, 1000);
  static const KernelCase relu_p100 = relu_case(100, 1000);
  static const KernelCase deconvolution = deconvolution_case(7, 100);

  const std::pair<std::string, const KernelCase *> cases[] = {{"relu_p2_n1000", &relu_p2},
                                                              {"relu_p100_n1000", &relu_p100},
                                                              {"dirichlet7_n100", &deconvolution}};
  const std::pair<std::string, Pass> passes[] = {{"full", Pass::full},
                                                 {"evaluate", Pass::evaluate},
                                                 {"first_variation", Pass::first_variation}};
  // Wall-clock time: the kernel runs on TBB and OpenBLAS threads, not just the main thread.
  const auto configure = [](benchmark::internal::Benchmark *b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  for (const auto &[case_name, kernel] : cases) {
    for (const auto &[pass_name, pass] : passes)
      configure(benchmark::RegisterBenchmark(
          (case_name + "/" + pass_name).c_str(),
          [kernel = kernel, pass = pass](benchmark::State &s) { run_kernel(s, *kernel, pass); }));
    if (kernel == &relu_p100)
      for (const int block : {int(n_particles), 512})
        configure(benchmark::RegisterBenchmark(
            (case_name + (block == int(n_particles) ? "/dgemm_only" : "/dgemm_only_block512"))
                .c_str(),
            [block](benchmark::State &s) { run_dgemm_only(s, relu_p100, block); }));
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
