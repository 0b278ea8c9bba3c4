// The F' kernel (doc/theory.md (M1)–(M4)) for every feature × loss × regularizer combination:
// ∇F' against finite differences of F', F' as the first variation of F, and the
// bookkeeping of F = R-part + V-part, mass and dissipation (M6).
#include "test_helpers.h"

#include <meanfield/objective/features.h>
#include <meanfield/objective/objective.h>

#include <memory>
#include <string>
#include <tuple>

using namespace MeanField;
using namespace MeanField::testing;

namespace {
using A = TwoLayerFeature::Activation;

const std::vector<std::string> feature_names{"relu_p2",         "relu_p6_blas", "sigmoid_p2",
                                             "sigmoid_p6_blas", "dirichlet",    "gaussian",
                                             "linear_d3"};
const std::vector<std::string> loss_names{"square", "logistic"};
const std::vector<std::string> regularizer_names{"none", "l1", "huber", "weight_decay"};

std::shared_ptr<Feature> make_feature(const std::string &name) {
  if (name == "relu_p2")
    return std::make_shared<TwoLayerFeature>(2, A::relu);
  if (name == "relu_p6_blas")
    return std::make_shared<TwoLayerFeature>(6, A::relu);
  if (name == "sigmoid_p2")
    return std::make_shared<TwoLayerFeature>(2, A::sigmoid);
  if (name == "sigmoid_p6_blas")
    return std::make_shared<TwoLayerFeature>(6, A::sigmoid);
  if (name == "dirichlet")
    return std::make_shared<FourierFilterFeature>(FourierFilterFeature::dirichlet(7));
  if (name == "gaussian")
    return std::make_shared<FourierFilterFeature>(FourierFilterFeature::gaussian(0.08));
  return std::make_shared<LinearFeature>(3);
}

std::shared_ptr<Regularizer> make_regularizer(const std::string &name, const unsigned int d) {
  if (name == "l1")
    return std::make_shared<L1Coordinate>(1, 0.3);
  if (name == "huber")
    return std::make_shared<L1Coordinate>(1, 0.3, 0.5);
  if (name == "weight_decay")
    return std::make_shared<QuadraticPotential>(QuadraticPotential::weight_decay(d, 0.4));
  return std::make_shared<NoRegularizer>();
}

Objective make_objective(const std::string &feature_name, const std::string &loss_name,
                         const std::string &regularizer_name) {
  auto feature = make_feature(feature_name);
  const bool binary = loss_name == "logistic";
  Dataset data = feature->input_dimension() == 1 && feature_name != "linear_d3"
                     ? random_torus_dataset(37, 12)
                     : random_dataset(feature->input_dimension(), 37, 12, false, binary);
  if (binary)
    for (double &y : data.targets)
      y = y >= 0 ? 1.0 : -1.0;
  return Objective(feature, create_loss(loss_name, 1.7),
                   make_regularizer(regularizer_name, feature->n_parameters()),
                   std::make_shared<Dataset>(std::move(data)));
}

using Combination = std::tuple<std::string, std::string, std::string>;

class ObjectiveTest : public ::testing::TestWithParam<Combination> {
protected:
  Objective objective() const {
    return make_objective(std::get<0>(GetParam()), std::get<1>(GetParam()),
                          std::get<2>(GetParam()));
  }
};

} // namespace

// ∇F'(μ)(θ) against centred finite differences of θ ↦ F'(μ)(θ) (M3–M4), at random θ.
TEST_P(ObjectiveTest, GradientOfFirstVariationMatchesFiniteDifferences) {
  const Objective objective = this->objective();
  const unsigned int d = objective.n_parameters();
  const WeightedCloud mu = random_cloud(d, 300, 1, 0.8);
  const Objective::State state = objective.evaluate(mu);
  const WeightedCloud queries = random_cloud(d, 6, 77, 0.9);
  std::vector<double> values(6), gradients(6 * d);
  objective.first_variation(state, queries.points, values.data(), gradients.data());
  const std::size_t n = objective.data().size();
  for (int q = 0; q < 6; ++q) {
    const std::vector<double> theta(queries.points[q], queries.points[q] + d);
    // Two code paths: the batch takes the value-and-gradient loop, the single query the
    // value-only one (another vectorization of the n = 37-term sum; for p > 4 a 6-row against a
    // 1-row dgemm for w·x). Each is within (n + d + 5) u S of the exact sum (n − 1 additions,
    // ≤ d roundings in w·x, ≤ 6 in σ, the products and + V), so they agree to 2 (n + d + 5) u S
    // ≈ 1e-14 S, S the terms' size (no cancellation credit): a wrong or missing term fails.
    EXPECT_NEAR(values[q], first_variation_at(objective, state, theta),
                2 * (n + d + 5) * unit_roundoff *
                    first_variation_term_size(objective, state, theta));
    const std::vector<double> g(gradients.begin() + q * d, gradients.begin() + (q + 1) * d);
    check_gradient(
        [&](const std::vector<double> &t) { return first_variation_at(objective, state, t); },
        theta, g, 1e-6);
  }
}

// F'(θ₁) − F'(θ₂) = d/dε F(μ + ε(δ_θ₁ − δ_θ₂)) at ε = 0 (the definition of the first variation).
TEST_P(ObjectiveTest, FirstVariationIsTheDirectionalDerivativeOfF) {
  const Objective objective = this->objective();
  const unsigned int d = objective.n_parameters();
  const WeightedCloud mu = random_cloud(d, 200, 2, 0.8);
  const Objective::State state = objective.evaluate(mu);
  for (std::uint64_t seed = 10; seed < 14; ++seed) {
    const WeightedCloud pair = random_cloud(d, 2, seed, 0.9);
    const std::vector<double> theta1(pair.points[0], pair.points[0] + d),
        theta2(pair.points[1], pair.points[1] + d);
    auto F = [&](const double epsilon) {
      WeightedCloud perturbed(mu);
      perturbed.push_back(theta1.data(), epsilon);
      perturbed.push_back(theta2.data(), -epsilon);
      return objective.evaluate(perturbed).value();
    };
    const double epsilon = 1e-4;
    const double derivative = (F(epsilon) - F(-epsilon)) / (2 * epsilon);
    const double difference =
        first_variation_at(objective, state, theta1) - first_variation_at(objective, state, theta2);
    EXPECT_NEAR(derivative, difference, 1e-6 * std::max(1.0, std::abs(difference)));
  }
}

// F = R + V-part; V-part = Σ w V; mass = Σ w; dissipation = Σ w |∇F'|²; velocity = −∇F'.
TEST_P(ObjectiveTest, StateBookkeeping) {
  const Objective objective = this->objective();
  const unsigned int d = objective.n_parameters();
  const WeightedCloud mu = random_cloud(d, 150, 3, 0.8, 0.7);
  const Objective::State state = objective.evaluate(mu);
  // m = 150 positive weights normalized to 0.7, then summed (vectorized): each sum within m u of
  // exact, so 2 (m + 1) u relative; the V-part (V ≥ 0) the same, with ≤ d + 4 roundings per term
  const std::size_t m = mu.size();
  EXPECT_NEAR(state.mass, 0.7, 2 * (m + 1) * unit_roundoff * 0.7);
  const double potential = objective.regularizer().integrate(mu);
  EXPECT_NEAR(state.potential, potential, 2 * (m + d + 4) * unit_roundoff * potential);
  EXPECT_EQ(state.value(), state.risk + state.potential); // the same addition: exact

  double risk = 0.0;
  for (std::size_t k = 0; k < objective.data().size(); ++k)
    risk += objective.data().weights[k] *
            objective.loss()->value(state.prediction[k], objective.data().targets[k]);
  // n = 37 non-negative terms: the square loss's vectorized risk (ρ ½κ r², products in another
  // order) against this loop, each within (n + 4) u of the exact sum: 2 (n + 5) u ≈ 1e-14 relative
  // (the logistic risk runs this very loop).
  const std::size_t n = objective.data().size();
  EXPECT_NEAR(state.risk, risk, 2 * (n + 5) * unit_roundoff * std::abs(risk));

  std::vector<double> values(mu.size()), gradients(mu.size() * d), velocity(mu.size() * d);
  objective.first_variation(state, mu.points, values.data(), gradients.data());
  objective.velocity(state, mu.points, velocity.data());
  double dissipation = 0.0;
  for (std::size_t j = 0; j < mu.size(); ++j)
    for (unsigned int i = 0; i < d; ++i) {
      dissipation += mu.weights[j] * gradients[j * d + i] * gradients[j * d + i];
      EXPECT_EQ(velocity[j * d + i], -gradients[j * d + i]); // the same call, negated: exact
    }
  // The same gradients summed in two groupings, Σ_j w_j (Σ_i g_ji²) against Σ_j Σ_i w_j g_ji²
  // (fused multiply-adds or not): positive terms, so each is within (m d + 1) u of the exact sum
  // and they agree to (m (d + 1) + d + 2) u relative (5e-14 for d = 2, 1.3e-13 for d = 7).
  EXPECT_NEAR(objective.dissipation(state, mu), dissipation,
              (m * (d + 1) + d + 2) * unit_roundoff * dissipation);
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, ObjectiveTest,
                         ::testing::Combine(::testing::ValuesIn(feature_names),
                                            ::testing::ValuesIn(loss_names),
                                            ::testing::ValuesIn(regularizer_names)),
                         [](const ::testing::TestParamInfo<Combination> &info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param) + "_" +
                                  std::get<2>(info.param);
                         });

// The pure-potential objective (no data): F = ∫V dμ, F' = V.
TEST(Objective, PurePotential) {
  const auto V = std::make_shared<QuadraticPotential>(std::vector<double>{1.0, 3.0},
                                                      std::vector<double>{0.5, -0.5});
  const Objective objective(2, V);
  const WeightedCloud mu = random_cloud(2, 40, 5);
  const Objective::State state = objective.evaluate(mu);
  EXPECT_EQ(state.risk, 0.0);
  // the batched pass against V's own value()/integrate(): the same formula, summed and fused
  // perhaps differently; V = ½ Σ K_i (θ_i − c_i)² ≥ 0 from ≤ 6 roundings per point, a sum of 40
  const double integral = V->integrate(mu);
  EXPECT_NEAR(state.value(), integral, 2 * (40 + 6) * unit_roundoff * integral);
  std::vector<double> values(40), gradients(80), g(2);
  objective.first_variation(state, mu.points, values.data(), gradients.data());
  for (int j = 0; j < 40; ++j) {
    const double value = V->value(mu.points[j], 2);
    EXPECT_NEAR(values[j], value, 2 * 6 * unit_roundoff * value);
    V->gradient(mu.points[j], 2, g.data());
    // K_i (θ_i − c_i): two roundings each way
    EXPECT_NEAR(gradients[2 * j], g[0], 4 * unit_roundoff * std::abs(g[0]));
    EXPECT_NEAR(gradients[2 * j + 1], g[1], 4 * unit_roundoff * std::abs(g[1]));
  }
}

// A cloud in the wrong dimension is refused with an explanation, not evaluated.
TEST(Objective, RejectsCloudOfWrongDimension) {
  const Objective objective = make_objective("relu_p2", "square", "none");
  EXPECT_ANY_THROW(objective.evaluate(random_cloud(2, 5, 1)));
}

// The Objective on a grid measure equals the Objective on the same points as a cloud
// (f, F and its parts, F' and ∇F', regularizers' grid paths included).
TEST_P(ObjectiveTest, GridMeasureEqualsCloud) {
  const Objective objective = this->objective();
  const unsigned int d = objective.n_parameters();
  const WeightedCloud mu = random_cloud(d, 120, 8, 0.8);
  // snap the cloud to a grid of 6 values per axis, so that points share coordinates
  PointSet snapped(mu.points);
  for (double &x : snapped.coordinates)
    x = std::round(x * 3.0) / 3.0;
  const GridPointSet grid = GridPointSet::from_points(snapped);
  WeightedCloud cloud;
  cloud.points = grid.expand();
  cloud.weights = mu.weights;
  const Objective::State s_cloud = objective.evaluate(cloud);
  const Objective::State s_grid = objective.evaluate(grid, mu.weights);
  // Two paths: the Fourier filter's and the regularizers' grid passes group the m = 120 points by
  // coordinate value before summing (the others expand the grid: the same arithmetic). Sums of
  // ≤ m terms, then ≤ 2 f_c + 1 = 15 Fourier terms: ≲ (m + 15) eps ≈ 3e-14 of the terms' size,
  // so 1e-12 of the largest entry (the values are O(1) and cancel by at most ~10 here); F and the
  // V-part (≲ 1) likewise.
  EXPECT_LT(relative_difference(s_grid.prediction, s_cloud.prediction), 1e-12);
  EXPECT_NEAR(s_grid.value(), s_cloud.value(), 1e-12 * std::abs(s_cloud.value()));
  EXPECT_NEAR(s_grid.potential, s_cloud.potential, 1e-13);
  std::vector<double> vg(cloud.size()), gg(cloud.size() * d), vc(cloud.size()),
      gc(cloud.size() * d);
  objective.first_variation(s_cloud, grid, vg.data(), gg.data());
  objective.first_variation(s_cloud, cloud.points, vc.data(), gc.data());
  EXPECT_LT(relative_difference(vg, vc), 1e-12);
  EXPECT_LT(relative_difference(gg, gc), 1e-12);
  // one gradient column at a time (finite-volume faces)
  for (unsigned int i = 0; i < d; ++i) {
    std::vector<double> column(cloud.size(), 1e300), expected(cloud.size());
    objective.partial_derivative(s_cloud, grid, i, column.data());
    for (std::size_t q = 0; q < cloud.size(); ++q)
      expected[q] = gc[q * d + i];
    EXPECT_LT(relative_difference(column, expected), 1e-12) << "direction " << i;
  }
}

// The same on a full tensor product: the regularizers' unit-stride paths (L1 on one coordinate,
// quadratic, the generic default) and the features' (Fourier filter) against the plain cloud.
TEST_P(ObjectiveTest, TensorGridMeasureEqualsCloud) {
  const Objective objective = this->objective();
  const unsigned int d = objective.n_parameters();
  RandomStream random(5);
  std::vector<std::vector<double>> axes(d);
  for (unsigned int i = 0; i < d; ++i)
    for (unsigned int v = 0; v < (d > 4 ? 2 : 4) + i % 2; ++v)
      axes[i].push_back(random.normal());
  const GridPointSet grid = GridPointSet::tensor_product(axes);
  WeightedCloud cloud;
  cloud.points = grid.expand();
  for (std::size_t q = 0; q < grid.size(); ++q)
    cloud.weights.push_back(random.uniform(0.0, 1.0) / grid.size());
  const Objective::State s_cloud = objective.evaluate(cloud);
  const Objective::State s_grid = objective.evaluate(grid, cloud.weights);
  // As above, with m ≤ 432 grid points: the unit-stride grid passes sum by runs of equal
  // coordinates (vectorized), the cloud point by point; ≲ (m + 15) eps ≈ 1e-13 of the terms' size.
  const std::size_t m = grid.size();
  EXPECT_LT(relative_difference(s_grid.prediction, s_cloud.prediction), 1e-12);
  EXPECT_NEAR(s_grid.value(), s_cloud.value(), 1e-12 * std::abs(s_cloud.value()));
  EXPECT_NEAR(s_grid.potential, s_cloud.potential, 1e-13);
  // the mass: m positive weights, a vectorized reduction against a sequential one
  EXPECT_NEAR(s_grid.mass, s_cloud.mass, 2 * m * unit_roundoff * s_cloud.mass);
  std::vector<double> vg(cloud.size()), gg(cloud.size() * d), vc(cloud.size()),
      gc(cloud.size() * d);
  objective.first_variation(s_cloud, grid, vg.data(), gg.data());
  objective.first_variation(s_cloud, cloud.points, vc.data(), gc.data());
  EXPECT_LT(relative_difference(vg, vc), 1e-12);
  EXPECT_LT(relative_difference(gg, gc), 1e-12);
  // one gradient column at a time (finite-volume faces)
  for (unsigned int i = 0; i < d; ++i) {
    std::vector<double> column(cloud.size(), 1e300), expected(cloud.size());
    objective.partial_derivative(s_cloud, grid, i, column.data());
    for (std::size_t q = 0; q < cloud.size(); ++q)
      expected[q] = gc[q * d + i];
    EXPECT_LT(relative_difference(column, expected), 1e-12) << "direction " << i;
  }
}
