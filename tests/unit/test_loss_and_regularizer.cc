// Losses ℓ(f, y) and regularizers V(θ): derivatives against finite differences, the batched
// risk against the pointwise functions, overflow safety, and prox maps against their definition.
#include "test_helpers.h"

#include <meanfield/base/exceptions.h>
#include <meanfield/objective/loss.h>
#include <meanfield/objective/regularizer.h>

using namespace MeanField;
using namespace MeanField::testing;

TEST(Loss, DerivativesMatchFiniteDifferences) {
  const SquareLoss square(2.5);
  const LogisticLoss logistic(0.7);
  for (const Loss *loss :
       {static_cast<const Loss *>(&square), static_cast<const Loss *>(&logistic)})
    for (const double y : {-1.0, 1.0, 0.3})
      for (double f = -6; f <= 6; f += 0.77) {
        auto value = [&](const std::vector<double> &x) {
          return loss->value(x[0], y);
        };
        check_gradient(value, {f}, {loss->derivative(f, y)}, 1e-7);
      }
}

TEST(Loss, SquareLossValues) {
  const SquareLoss square(4.0);
  EXPECT_DOUBLE_EQ(square.value(3.0, 1.0), 0.5 * 4.0 * 4.0);
  EXPECT_DOUBLE_EQ(square.derivative(3.0, 1.0), 8.0);
}

// log(1 + e^{−yf}) must neither overflow nor lose its asymptotics far from the decision boundary.
TEST(Loss, LogisticIsStableForLargeMargins) {
  const LogisticLoss logistic(1.0);
  EXPECT_NEAR(logistic.value(-800.0, 1.0), 800.0, 1e-12);
  EXPECT_NEAR(logistic.value(800.0, 1.0), 0.0, 1e-300);
  EXPECT_NEAR(logistic.value(40.0, 1.0), std::exp(-40.0), 1e-30);
  EXPECT_NEAR(logistic.derivative(-800.0, 1.0), -1.0, 1e-15);
  EXPECT_NEAR(logistic.derivative(800.0, -1.0), 1.0, 1e-15);
  EXPECT_TRUE(std::isfinite(logistic.derivative(1e308, 1.0)));
  EXPECT_NEAR(logistic.value(0.0, 1.0), std::log(2.0), 1e-15);
}

TEST(Loss, BatchedRiskEqualsPointwiseSum) {
  const Dataset data = random_dataset(1, 37, 3, false, true);
  std::vector<double> f(37), g(37);
  RandomStream random(5);
  for (double &fk : f)
    fk = 3 * random.normal();
  for (const std::string name : {"square", "logistic"}) {
    const auto loss = create_loss(name, 1.3);
    const double R = loss->risk(37, f.data(), data.targets.data(), data.weights.data(), g.data());
    double expected = 0.0;
    for (int k = 0; k < 37; ++k) {
      expected += data.weights[k] * loss->value(f[k], data.targets[k]);
      // the same arithmetic, exactly: κ (f − y) in both (nothing to fuse), derivative() itself
      // in the logistic risk
      EXPECT_EQ(g[k], loss->derivative(f[k], data.targets[k]));
    }
    // n = 37 non-negative terms: the square loss's vectorized reduction of ρ ½κ r² (other lanes,
    // products in another order) against this loop; each is within (n + 4) u of the exact sum,
    // so they agree to 2 (n + 4) u ≈ 9e-15 relative (the logistic risk runs this very loop).
    EXPECT_NEAR(R, expected, 1e-14 * std::abs(expected));
  }
  EXPECT_THROW(create_loss("hinge"), InputError);
}

namespace {
// prox_{ηV}(v) must minimise u ↦ ½|u − v|² + ηV(u): compare with a dense 1D search in
// the coordinate that V acts on, refined by golden section.
double brute_force_prox_1d(const Regularizer &V, std::vector<double> theta, const unsigned int c,
                           const double eta) {
  const unsigned int d = theta.size();
  const double v = theta[c];
  auto objective = [&](const double u) {
    std::vector<double> t(theta);
    t[c] = u;
    return 0.5 * (u - v) * (u - v) + eta * V.value(t.data(), d);
  };
  double best = v, best_value = objective(v);
  for (double u = v - 5; u <= v + 5; u += 1e-4)
    if (objective(u) < best_value)
      best_value = objective(best = u);
  double a = best - 2e-4, b = best + 2e-4;
  const double r = (std::sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 200; ++it) {
    const double c1 = b - r * (b - a), c2 = a + r * (b - a);
    (objective(c1) < objective(c2) ? b : a) = objective(c1) < objective(c2) ? c2 : c1;
  }
  return 0.5 * (a + b);
}
} // namespace

TEST(Regularizer, L1AndHuberGradientsAndProx) {
  const L1Coordinate l1(1, 0.3), huber(1, 0.3, 0.2);
  for (const Regularizer *V :
       {static_cast<const Regularizer *>(&l1), static_cast<const Regularizer *>(&huber)})
    for (const double r : {-1.3, -0.15, -0.05, 0.07, 0.5, 2.0}) {
      const std::vector<double> theta{0.4, r};
      std::vector<double> g(2);
      V->gradient(theta.data(), 2, g.data());
      auto value = [&](const std::vector<double> &t) {
        return V->value(t.data(), 2);
      };
      check_gradient(value, theta, g, 1e-7);
      for (const double eta : {0.1, 0.5, 2.0}) {
        std::vector<double> p(theta);
        V->prox(p.data(), 2, eta);
        EXPECT_EQ(p[0], theta[0]); // other coordinates untouched
        EXPECT_NEAR(p[1], brute_force_prox_1d(*V, theta, 1, eta), 1e-7)
            << V->name() << " r = " << r << " eta = " << eta;
      }
    }
  // soft-thresholding: |v| ≤ ηλ goes to exactly 0
  std::vector<double> small{0.0, 0.05};
  l1.prox(small.data(), 2, 0.5);
  EXPECT_EQ(small[1], 0.0);
  // the sign(0) = 0 subgradient
  std::vector<double> zero{0.3, 0.0}, g(2);
  l1.gradient(zero.data(), 2, g.data());
  EXPECT_EQ(g[1], 0.0);
}

TEST(Regularizer, QuadraticPotentialGradientProxAndBatch) {
  const QuadraticPotential V({1.0, 2.0, 0.5}, {0.1, -0.2, 0.3});
  const std::vector<double> theta{0.7, 0.4, -1.2};
  std::vector<double> g(3);
  V.gradient(theta.data(), 3, g.data());
  check_gradient([&](const std::vector<double> &t) { return V.value(t.data(), 3); }, theta, g,
                 1e-8);
  for (unsigned int c = 0; c < 3; ++c) {
    std::vector<double> p(theta);
    V.prox(p.data(), 3, 0.8);
    EXPECT_NEAR(p[c], brute_force_prox_1d(V, theta, c, 0.8), 1e-7);
  }
  // the batched add_to equals the pointwise functions
  const WeightedCloud cloud = random_cloud(3, 20, 4);
  std::vector<double> values(20, 1.0), gradients(60, 2.0);
  V.add_to(cloud.points, values.data(), gradients.data());
  // the same formula in add_to() and value()/gradient(); at most the contraction of the 3-term
  // sums into fused multiply-adds can differ: a few roundings of O(1) values (≲ 1e-15), so 1e-14
  for (int q = 0; q < 20; ++q) {
    EXPECT_NEAR(values[q], 1.0 + V.value(cloud.points[q], 3), 1e-14);
    V.gradient(cloud.points[q], 3, g.data());
    for (int i = 0; i < 3; ++i)
      EXPECT_NEAR(gradients[q * 3 + i], 2.0 + g[i], 1e-14);
  }
  // weight decay is the special case K = λ, c = 0
  const QuadraticPotential decay = QuadraticPotential::weight_decay(3, 0.4);
  EXPECT_NEAR(decay.value(theta.data(), 3), 0.2 * (0.49 + 0.16 + 1.44), 1e-15);
}

TEST(Regularizer, IntegrateIsTheWeightedSum) {
  const L1Coordinate V(0, 2.0);
  WeightedCloud cloud(2);
  cloud.push_back({-1.0, 5.0}, 0.25);
  cloud.push_back({0.5, 5.0}, 0.75);
  EXPECT_DOUBLE_EQ(V.integrate(cloud), 0.25 * 2.0 + 0.75 * 1.0);
}
