#include <meanfield/compare/decomposition.h>

#include <cmath>
#include <iomanip>
#include <limits>
#include <map>

namespace MeanField {
namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
} // namespace

LineFit least_squares_line(const std::vector<double> &x, const std::vector<double> &y,
                           const std::vector<double> &w) {
  // weighted centred sums: XᵀWX of the regressors (x, 1) has the inverse
  // [1/Sxx, −x̄/Sxx; −x̄/Sxx, 1/Σw + x̄²/Sxx]
  LineFit fit{nan, nan, nan, nan, static_cast<unsigned int>(x.size())};
  const auto weight = [&](const std::size_t i) {
    return w.empty() ? 1.0 : w[i];
  };
  double sw = 0.0, mx = 0.0, my = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sw += weight(i);
    mx += weight(i) * x[i];
    my += weight(i) * y[i];
  }
  mx /= sw;
  my /= sw;
  double sxx = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += weight(i) * (x[i] - mx) * (x[i] - mx);
    sxy += weight(i) * (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0))
    return fit;
  fit.a = sxy / sxx;
  fit.b = my - fit.a * mx;
  if (x.size() <= 2)
    return fit;
  double rss = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double r = y[i] - fit.a * x[i] - fit.b;
    rss += weight(i) * r * r;
  }
  const double sigma2 = rss / (x.size() - 2.0);
  fit.se_a = std::sqrt(sigma2 / sxx);
  fit.se_b = std::sqrt(sigma2 * (1.0 / sw + mx * mx / sxx));
  return fit;
}

double refinement_estimate(const double d1, const double order, const unsigned int refinements) {
  // ‖e_h‖ ≈ c h^p and e_h − e_ref ≈ (1 − 2^(−p r)) e_h as h → 0          (M11i)
  if (refinements == 0)
    return nan;
  return d1 / (1.0 - std::pow(2.0, -order * refinements));
}

namespace {
using RunsByM = std::map<unsigned int, std::vector<const StudyRecord *>>;

// (M11h) for one metric over the runs of one (initialization, time).
Decomposition decompose(const RunsByM &by_m, const StudyMetric metric, const FitWeights weights) {
  Decomposition d{};
  std::vector<double> inverse_m, squared, w;
  for (const auto &[m, runs] : by_m)
    for (const StudyRecord *r : runs) {
      const double value = metric_value(r->metrics, metric);
      inverse_m.push_back(1.0 / m);
      squared.push_back(value * value);
      w.push_back(weights == FitWeights::m_squared ? static_cast<double>(m) * m : 1.0);
    }
  d.fit = least_squares_line(inverse_m, squared, w);
  d.pde_error = std::sqrt(std::max(d.fit.b, 0.0)); // nan stays nan
  d.pde_error_se = d.pde_error > 0 ? d.fit.se_b / (2.0 * d.pde_error) : nan;
  // the residual mean d² − E_h² against m, where it is positive
  std::vector<double> log_m, log_residual;
  for (const auto &[m, runs] : by_m) {
    double mean = 0.0;
    for (const StudyRecord *r : runs)
      mean += std::pow(metric_value(r->metrics, metric), 2) / runs.size();
    if (const double residual = mean - d.fit.b; residual > 0) {
      log_m.push_back(std::log(m));
      log_residual.push_back(std::log(residual));
    }
  }
  d.n_residual = log_m.size();
  d.residual_slope = least_squares_line(log_m, log_residual).a;
  return d;
}
} // namespace

std::vector<Decomposition> decompose_errors(const std::vector<StudyRecord> &records,
                                            const ErrorFloor &reference,
                                            const StudyParameters &study) {
  // (initialization, time) → m → runs, the initializations in the order of their names (that of
  // fit_slopes() and the study_slopes table)
  using Key = std::pair<ParticleInitialization, double>;
  const auto by_name = [](const Key &a, const Key &b) {
    return std::make_pair(to_string(a.first), a.second) <
           std::make_pair(to_string(b.first), b.second);
  };
  std::map<Key, RunsByM, decltype(by_name)> groups(by_name);
  for (const StudyRecord &r : records)
    groups[{r.initialization, r.time}][r.m].push_back(&r);
  std::vector<Decomposition> decompositions;
  for (const auto &[key, by_m] : groups)
    for (const StudyMetric metric : hilbert_metrics) {
      Decomposition d = decompose(by_m, metric, study.fit_weights);
      d.initialization = key.first;
      d.time = key.second;
      d.metric = metric;
      d.reference_distance = nan;
      if (const auto t = reference.find(key.second); t != reference.end())
        if (const auto f = t->second.find(metric); f != t->second.end())
          d.reference_distance = f->second;
      d.refinement_estimate = refinement_estimate(d.reference_distance, study.assumed_pde_order,
                                                  study.reference_refinements);
      decompositions.push_back(d);
    }
  return decompositions;
}

StatisticsTable decomposition_table(const std::vector<Decomposition> &decompositions) {
  StatisticsTable table;
  table.add_column("initialization", "Particles/Initialization (the fit assumes i.i.d. samples)");
  table.add_column("time", "recorded time");
  table.add_column("metric", "prediction distance | MMD: d, a Hilbert norm (M11)");
  table.add_column("points", "runs (m, seed) in the least-squares fit of d^2 = C/m + b (M11h), "
                             "weighted by Study/Decomposition weights");
  table.add_column("C", "particle constant: the coefficient of 1/m in d^2");
  table.add_column("se C",
                   "standard error of C, from sigma^2 (X^T W X)^-1, sigma^2 = weighted RSS/(n - 2) "
                   "(nan with <= 2 runs)");
  table.add_column("b", "intercept, the estimate of E_h^2; may be negative (E_h^2 below what "
                        "the runs resolve): then E_h = 0");
  table.add_column("se b", "standard error of b, from the same covariance");
  table.add_column("E_h", "the PDE's error from the particle runs: sqrt(max(b, 0))");
  table.add_column("se E_h", "se(b) / (2 E_h), nan if E_h = 0");
  table.add_column("residual slope", "least-squares slope of log(mean over seeds of d^2 - b) "
                                     "against log m (expected -1)");
  table.add_column("residual fitted", "values of m with mean d^2 > b, used for that slope");
  table.add_column("distance slope", "residual slope / 2: the rate of d (expected -1/2)");
  table.add_column("d1", "d(mu_h, mu_ref) against the mesh refined Study/Reference refinements "
                         "= r times (study_pde_error; nan: no reference)");
  table.add_column("E_ref", "the PDE's error by refinement: d1 / (1 - 2^(-p r)), p = Study/"
                            "Assumed PDE order (M11i)");
  table.add_column("E_h / E_ref", "the two estimates of the PDE's error agree near 1");
  for (const Decomposition &d : decompositions)
    table.add_row({to_string(d.initialization), d.time, to_string(d.metric),
                   static_cast<long long>(d.fit.n), d.fit.a, d.fit.se_a, d.fit.b, d.fit.se_b,
                   d.pde_error, d.pde_error_se, d.residual_slope,
                   static_cast<long long>(d.n_residual), d.distance_slope(), d.reference_distance,
                   d.refinement_estimate, d.ratio()});
  return table;
}

void print_decompositions(const std::vector<Decomposition> &decompositions,
                          dealii::ConditionalOStream &pcout) {
  pcout << "\n  error decomposition d^2 = C/m + E_h^2 (M11; MMD, prediction distance):\n";
  for (const Decomposition &d : decompositions)
    pcout << "    " << std::setw(14) << to_string(d.initialization) << "  t = " << std::setw(6)
          << d.time << "  " << std::setw(20) << to_string(d.metric) << std::setprecision(3)
          << "  C = " << d.fit.a << "  E_h = " << d.pde_error << " +- " << d.pde_error_se
          << "  E_ref = " << d.refinement_estimate << "  E_h/E_ref = " << d.ratio()
          << "  slope of d " << d.distance_slope() << " (" << d.n_residual << " m)\n";
}
} // namespace MeanField
