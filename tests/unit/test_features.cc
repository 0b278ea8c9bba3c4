// Features φ(θ, x): gradients against finite differences, the fast cloud-level passes
// against the generic ones, filters against closed forms, homogeneity (doc/theory.md §3).
#include "test_helpers.h"

#include <meanfield/base/random.h>
#include <meanfield/base/turn.h>
#include <meanfield/objective/features.h>

#include <algorithm>
#include <complex>
#include <iostream>
#include <limits>
#include <memory>
#include <string>

using namespace MeanField;
using namespace MeanField::testing;

namespace {
struct FeatureCase {
  std::string label;
  std::function<std::shared_ptr<Feature>()> make;
  std::function<Dataset()> data;
  double theta_scale = 1.0;
};

std::vector<FeatureCase> feature_cases() {
  using A = TwoLayerFeature::Activation;
  std::vector<FeatureCase> cases;
  for (const unsigned int p : {1u, 2u, 3u, 4u, 7u})
    for (const A a : {A::relu, A::sigmoid})
      cases.push_back({std::string(a == A::relu ? "relu" : "sigmoid") + "_p" + std::to_string(p),
                       [p, a] { return std::make_shared<TwoLayerFeature>(p, a); },
                       [p] {
                         return random_dataset(p, 53, 11 + p, p > 1);
                       }});
  cases.push_back(
      {"dirichlet_fc7",
       [] { return std::make_shared<FourierFilterFeature>(FourierFilterFeature::dirichlet(7)); },
       [] {
         return random_torus_dataset(41, 5);
       }});
  cases.push_back(
      {"gaussian_s0.07",
       [] { return std::make_shared<FourierFilterFeature>(FourierFilterFeature::gaussian(0.07)); },
       [] {
         return random_torus_dataset(41, 6);
       }});
  cases.push_back({"linear_d3", [] { return std::make_shared<LinearFeature>(3); },
                   [] {
                     return random_dataset(3, 30, 7);
                   }});
  return cases;
}

class FeatureTest : public ::testing::TestWithParam<FeatureCase> {};

void PrintTo(const FeatureCase &c, std::ostream *out) {
  *out << c.label;
}

std::string case_name(const ::testing::TestParamInfo<FeatureCase> &info) {
  std::string name = info.param.label;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}
} // namespace

// ∇_θ φ(θ, x_k) for every data point against centred finite differences of φ.
TEST_P(FeatureTest, GradientMatchesFiniteDifferences) {
  const auto feature = GetParam().make();
  const Dataset data = GetParam().data();
  const unsigned int d = feature->n_parameters();
  const std::size_t n = data.size();
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const WeightedCloud point = random_cloud(d, 1, 100 + seed);
    const std::vector<double> theta(point.points.coordinates);
    std::vector<double> values(n), gradients(n * d);
    feature->evaluate(theta.data(), data, values.data(), gradients.data());
    // errors relative to the gradient's size over the batch: a filter's tail values are
    // accurate to round-off relative to ψ(0), not relative to themselves
    double scale = 1e-8; // a dead ReLU neuron has a zero gradient on the whole batch
    for (const double g : gradients)
      scale = std::max(scale, std::abs(g));
    for (std::size_t k = 0; k < n; ++k) {
      std::vector<double> g(gradients.begin() + k * d, gradients.begin() + (k + 1) * d);
      auto phi_k = [&](const std::vector<double> &t) {
        std::vector<double> v(n);
        feature->evaluate(t.data(), data, v.data(), nullptr);
        return v[k];
      };
      check_gradient(phi_k, theta, g, 1e-6, 1e-6, scale);
    }
  }
}

// The overridden passes (M1) and data part of (M3) agree with the generic implementation
// built on evaluate(): for a cloud larger than one thread block, and for odd sizes that leave a
// remainder after the vectorized sweeps (the ReLU kernel takes 4 particles and 2 queries at a
// time, SIMD lanes take 4 or 8).
TEST_P(FeatureTest, FastPassesMatchGenericPasses) {
  const auto feature = GetParam().make();
  const Dataset data = GetParam().data();
  const unsigned int d = feature->n_parameters();
  const std::size_t n = data.size();
  for (const std::size_t m :
       {std::size_t(1500), std::size_t(1), std::size_t(7), std::size_t(1503)}) {
    SCOPED_TRACE("m = " + std::to_string(m));
    const WeightedCloud cloud = random_cloud(d, m, 42 + m);

    std::vector<double> f_fast(n, 0.5), f_generic(n, 0.5); // both add to what is there
    feature->add_prediction(cloud, data, f_fast.data());
    feature->Feature::add_prediction(cloud, data, f_generic.data());
    // Two paths, two summation orders (and dgemm, Fourier moments or fused multiply-adds against
    // evaluate()): f_k sums m ≤ 1503 terms, so they agree to ≲ m eps cond ≈ 3e-13 cond, cond =
    // Σ_j |w_j φ_j| / max_k |f_k| ≤ 4 for these clouds; 1e-12 of the largest entry (measured
    // ≤ 6e-15 without FMA).
    EXPECT_LT(relative_difference(f_fast, f_generic), 1e-12);

    std::vector<double> h(n);
    RandomStream random(3);
    for (double &hk : h)
      hk = random.normal() / n;
    std::vector<double> v_fast(m), g_fast(m * d), v_gen(m), g_gen(m * d), v_only(m);
    feature->contract(cloud.points, data, h.data(), v_fast.data(), g_fast.data());
    feature->Feature::contract(cloud.points, data, h.data(), v_gen.data(), g_gen.data());
    feature->contract(cloud.points, data, h.data(), v_only.data(), nullptr);
    // sums of n ≤ 53 data terms (the Fourier filter: 2 f_c + 1 = 15 frequencies of n-term
    // moments), cond ≤ 30 with the random signs of h: ≲ n eps cond ≈ 4e-13
    EXPECT_LT(relative_difference(v_fast, v_gen), 1e-12);
    EXPECT_LT(relative_difference(g_fast, g_gen), 1e-12);
    EXPECT_LT(relative_difference(v_only, v_gen), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFeatures, FeatureTest, ::testing::ValuesIn(feature_cases()), case_name);

// (M8): the Fourier sum equals sin((2f_c+1)πu)/sin(πu), with ψ(0) = 2f_c + 1.
TEST(FourierFilter, DirichletKernelClosedForm) {
  for (const unsigned int fc : {0u, 1u, 7u, 20u}) {
    const FourierFilterFeature psi = FourierFilterFeature::dirichlet(fc);
    EXPECT_NEAR(psi.filter(0.0), 2.0 * fc + 1, 1e-12);
    EXPECT_NEAR(psi.filter(3.0), 2.0 * fc + 1, 1e-11); // 1-periodic
    for (double u = 0.013; u < 1.0; u += 0.0371) {
      const double exact = std::sin((2 * fc + 1) * M_PI * u) / std::sin(M_PI * u);
      EXPECT_NEAR(psi.filter(u), exact, 1e-12 * (2 * fc + 1)) << "u = " << u;
      EXPECT_NEAR(psi.filter(u - 2.0), exact, 1e-11 * (2 * fc + 1));
    }
  }
}

// The periodic Gaussian's truncated Fourier series equals its image sum to round-off.
TEST(FourierFilter, PeriodicGaussianImageSum) {
  for (const double s : {0.02, 0.05, 0.2}) {
    const FourierFilterFeature psi = FourierFilterFeature::gaussian(s);
    for (double u = -0.5; u <= 0.5; u += 0.0173) {
      double images = 0.0;
      for (int p = -6; p <= 6; ++p)
        images += std::exp(-(u - p) * (u - p) / (2 * s * s));
      EXPECT_NEAR(psi.filter(u), images, 1e-14) << "s = " << s << ", u = " << u;
    }
  }
}

TEST(FourierFilter, DerivativeMatchesFiniteDifferences) {
  const FourierFilterFeature psi = FourierFilterFeature::dirichlet(7);
  for (double u = -0.9; u < 1.0; u += 0.137) {
    auto f = [&](const std::vector<double> &x) {
      return psi.filter(x[0]);
    };
    check_gradient(f, {u}, {psi.filter_derivative(u)}, 1e-7);
  }
}

// Homogeneity (doc/theory.md §3; Chizat & Bach 2018): ReLU φ(λθ) = λ²φ(θ); deconvolution φ((x, λr))
// = λφ((x, r)); sigmoid φ((λa, w)) = λφ((a, w)) but φ is not homogeneous in w.
TEST(Homogeneity, ReluIsTwoHomogeneous) {
  const TwoLayerFeature relu(3, TwoLayerFeature::Activation::relu);
  const Dataset data = random_dataset(3, 40, 9);
  std::vector<double> theta{0.7, -0.3, 1.1, 0.4}, scaled(4), v(40), vs(40);
  for (const double lambda : {0.1, 2.5, 7.0}) {
    for (int i = 0; i < 4; ++i)
      scaled[i] = lambda * theta[i];
    relu.evaluate(theta.data(), data, v.data(), nullptr);
    relu.evaluate(scaled.data(), data, vs.data(), nullptr);
    for (int k = 0; k < 40; ++k)
      EXPECT_NEAR(vs[k], lambda * lambda * v[k], 1e-13 * (1 + std::abs(vs[k])));
  }
}

TEST(Homogeneity, DeconvolutionIsOneHomogeneousInTheWeight) {
  const FourierFilterFeature psi = FourierFilterFeature::dirichlet(7);
  const Dataset data = random_torus_dataset(30, 2);
  std::vector<double> theta{0.31, 0.8}, scaled{0.31, 0.8 * 3.7}, v(30), vs(30);
  psi.evaluate(theta.data(), data, v.data(), nullptr);
  psi.evaluate(scaled.data(), data, vs.data(), nullptr);
  for (int k = 0; k < 30; ++k)
    EXPECT_NEAR(vs[k], 3.7 * v[k], 1e-12 * (1 + std::abs(vs[k])));
}

TEST(Homogeneity, SigmoidIsHomogeneousInTheOutputWeightOnly) {
  const TwoLayerFeature sigmoid(2, TwoLayerFeature::Activation::sigmoid);
  const Dataset data = random_dataset(2, 30, 4);
  std::vector<double> theta{0.7, -0.3, 1.1}, in_a{2.0 * 0.7, -0.3, 1.1}, all{1.4, -0.6, 2.2};
  std::vector<double> v(30), va(30), vall(30);
  sigmoid.evaluate(theta.data(), data, v.data(), nullptr);
  sigmoid.evaluate(in_a.data(), data, va.data(), nullptr);
  sigmoid.evaluate(all.data(), data, vall.data(), nullptr);
  double departure = 0.0;
  for (int k = 0; k < 30; ++k) {
    EXPECT_NEAR(va[k], 2.0 * v[k], 1e-14);
    departure = std::max(departure, std::abs(vall[k] - 2.0 * v[k]));
  }
  EXPECT_GT(departure, 1e-2); // scaling w as well changes more than the magnitude
}

// The BLAS path (p > 4) is exercised by the p = 7 cases above; check also a block boundary:
// more particles than one matrix-product block, fewer data points than one thread block.
TEST(TwoLayerFeature, BlasPathAcrossBlocks) {
  const TwoLayerFeature relu(9, TwoLayerFeature::Activation::relu);
  const Dataset data = random_dataset(9, 17, 21, true);
  const WeightedCloud cloud = random_cloud(10, 1100, 8);
  std::vector<double> f(17, 0.0), f_ref(17, 0.0);
  relu.add_prediction(cloud, data, f.data());
  relu.Feature::add_prediction(cloud, data, f_ref.data());
  // dgemm blocks against evaluate(): m = 1100 terms, ≲ m eps cond ≈ 2.4e-13 cond
  EXPECT_LT(relative_difference(f, f_ref), 1e-12);
}

// Grid point sets (cell/face centres of a Cartesian mesh): every feature's grid passes equal the
// passes on the expanded points, whether overridden (Fourier filter) or the default.
TEST_P(FeatureTest, GridPassesMatchPointPasses) {
  const auto feature = GetParam().make();
  const Dataset data = GetParam().data();
  const unsigned int d = feature->n_parameters();
  const std::size_t n = data.size();
  RandomStream random(17);
  GridPointSet grid;
  grid.axes.resize(d);
  for (unsigned int i = 0; i < d; ++i)
    for (int v = 0; v < 7; ++v)
      grid.axes[i].push_back(random.normal());
  const std::size_t m = 300;
  for (std::size_t q = 0; q < m; ++q)
    for (unsigned int i = 0; i < d; ++i)
      grid.index.push_back(static_cast<std::uint32_t>(random.index(7)));
  std::vector<double> weights(m);
  for (double &w : weights)
    w = random.uniform(0.1, 1.0);
  WeightedCloud cloud;
  cloud.points = grid.expand();
  cloud.weights = weights;

  std::vector<double> f_grid(n, 0.0), f_points(n, 0.0);
  feature->add_prediction(grid, weights.data(), data, f_grid.data());
  feature->add_prediction(cloud, data, f_points.data());
  // the Fourier filter groups the m = 300 points by position first (the other features expand
  // the grid: the same arithmetic): ≲ m eps cond ≈ 7e-14 cond
  EXPECT_LT(relative_difference(f_grid, f_points), 1e-12);

  std::vector<double> h(n);
  for (double &hk : h)
    hk = random.normal() / n;
  std::vector<double> v_grid(m), g_grid(m * d), v_points(m), g_points(m * d);
  feature->contract(grid, data, h.data(), v_grid.data(), g_grid.data());
  feature->contract(cloud.points, data, h.data(), v_points.data(), g_points.data());
  EXPECT_LT(relative_difference(v_grid, v_points), 1e-12);
  EXPECT_LT(relative_difference(g_grid, g_points), 1e-12);
}

// The same on a full tensor product (unit-stride fast paths), the weights zero on some points.
TEST_P(FeatureTest, TensorGridPassesMatchPointPasses) {
  const auto feature = GetParam().make();
  const Dataset data = GetParam().data();
  const unsigned int d = feature->n_parameters();
  const std::size_t n = data.size();
  RandomStream random(23);
  std::vector<std::vector<double>> axes(d);
  for (unsigned int i = 0; i < d; ++i)
    for (unsigned int v = 0; v < (d > 4 ? 2 : 3) + i % 2; ++v) // unequal axis lengths
      axes[i].push_back(random.normal());
  const GridPointSet grid = GridPointSet::tensor_product(axes);
  const std::size_t m = grid.size();
  std::vector<double> weights(m);
  for (double &w : weights)
    w = random.uniform(0.0, 1.0) < 0.3 ? 0.0 : random.uniform(0.1, 1.0);
  WeightedCloud cloud;
  cloud.points = grid.expand();
  cloud.weights = weights;
  ASSERT_EQ(cloud.points.size(), m);

  std::vector<double> f_grid(n, 0.0), f_points(n, 0.0);
  feature->add_prediction(grid, weights.data(), data, f_grid.data());
  feature->add_prediction(cloud, data, f_points.data());
  // as above, m ≤ 1296 points (p = 7) summed by unit-stride runs: ≲ m eps cond ≈ 3e-13 cond
  EXPECT_LT(relative_difference(f_grid, f_points), 1e-12);

  std::vector<double> h(n);
  for (double &hk : h)
    hk = random.normal() / n;
  std::vector<double> v_grid(m), g_grid(m * d), v_points(m), g_points(m * d);
  feature->contract(grid, data, h.data(), v_grid.data(), g_grid.data());
  feature->contract(cloud.points, data, h.data(), v_points.data(), g_points.data());
  EXPECT_LT(relative_difference(v_grid, v_points), 1e-12);
  EXPECT_LT(relative_difference(g_grid, g_points), 1e-12);
}

TEST(GridPointSet, TensorProductOrderAxisZeroFastest) {
  const GridPointSet grid = GridPointSet::tensor_product({{1, 2, 3}, {10, 20}});
  ASSERT_EQ(grid.size(), 6u);
  EXPECT_EQ(grid.stride(1), 3u);
  EXPECT_EQ(grid.expand().coordinates,
            (std::vector<double>{1, 10, 2, 10, 3, 10, 1, 20, 2, 20, 3, 20}));
  EXPECT_EQ(grid.coordinate(4, 0), 2.0);
  EXPECT_EQ(grid.coordinate(4, 1), 20.0);
}

TEST(GridPointSet, FromPointsRoundTrip) {
  PointSet points(2);
  for (const double x : {0.25, 0.75, 0.5})
    for (const double r : {-1.0, 0.0, 1.0, 2.0})
      points.push_back({x, r});
  const GridPointSet grid = GridPointSet::from_points(points);
  EXPECT_EQ(grid.axes[0], (std::vector<double>{0.25, 0.5, 0.75}));
  EXPECT_EQ(grid.axes[1].size(), 4u);
  EXPECT_EQ(grid.expand().coordinates, points.coordinates);
}

// e^{2iπx} by table and Taylor series against long-double cos and sin: within 4 ulp of 1 for
// x in [−3, 3] (particles, queries and data points, periodic or not), and exactly periodic.
TEST(FourierFilter, TableExponentialIsAccurate) {
  RandomStream random(7);
  double worst = 0.0;
  for (int k = 0; k < 200000; ++k) {
    const double x = random.uniform(-3.0, 3.0);
    const long double angle = 2 * 3.14159265358979323846264338327950288L * x;
    const std::complex<double> z = exp_2i_pi(x);
    worst = std::max({worst, static_cast<double>(std::abs(z.real() - std::cos(angle))),
                      static_cast<double>(std::abs(z.imag() - std::sin(angle)))});
  }
  // The bound, from the arithmetic (eps = 2^-52), for any compiler contraction: the table angle
  // fl(2·M_PI·j)/1024 is off by ≤ 2 eps (half an ulp of 2πj ≥ 4096) + 1.1 eps (M_PI's own error)
  // and moves the component ⟂ to e^{2iπj/N}; the libm value (≤ 1 ulp), c, the two products and
  // the sum (fused or not) add ≤ 1.25 eps along it: √(3.1² + 1.25²) ≈ 3.4 eps < 4 eps (measured
  // 3.1 eps; without the θ⁴ term of the cosine series the error would be θ⁴/24 ≈ 4e-12).
  EXPECT_LT(worst, 4 * std::numeric_limits<double>::epsilon());
  EXPECT_EQ(exp_2i_pi(0.0), std::complex<double>(1.0, 0.0));
  EXPECT_EQ(exp_2i_pi(0.25).real(), exp_2i_pi(1.25).real()); // period 1, exactly
  std::cout << "max error of exp_2i_pi: " << worst / std::numeric_limits<double>::epsilon()
            << " eps\n";
}
