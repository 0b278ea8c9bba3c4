#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/objective/features.h>
#include <meanfield/problems/exact_solutions.h>

#include <cmath>
#include <limits>
#include <sstream>

namespace MeanField {
using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::List;

// ----------------------------------------------------------------------------- AffineFlow

void AffineFlow::apply(const double *theta0, double *theta) const {
  for (std::size_t i = 0; i < scale.size(); ++i)
    theta[i] = scale[i] * theta0[i] + shift[i];
}

void AffineFlow::apply_inverse(const double *theta, double *theta0) const {
  for (std::size_t i = 0; i < scale.size(); ++i)
    theta0[i] = (theta[i] - shift[i]) / scale[i];
}

double AffineFlow::determinant() const {
  double det = 1.0;
  for (const double s : scale)
    det *= s;
  return det;
}

double AffineFlow::density(const std::function<double(const double *)> &rho0,
                           const double *theta) const {
  std::vector<double> theta0(scale.size());
  apply_inverse(theta, theta0.data());
  return rho0(theta0.data()) / std::abs(determinant());
}

namespace {
// x, y, z for d <= 3 (the names deal.II's function parser uses), theta1, ... beyond.
std::vector<std::string> xyz_names(const unsigned int d) {
  const std::vector<std::string> xyz{"x", "y", "z"};
  if (d <= 3)
    return std::vector<std::string>(xyz.begin(), xyz.begin() + d);
  std::vector<std::string> names;
  for (unsigned int i = 1; i <= d; ++i)
    names.push_back("theta" + std::to_string(i));
  return names;
}

// exp(−|θ − center|² / (2 s²)) in the given coordinate names.
std::string gaussian_expression(const std::vector<std::string> &names,
                                const std::vector<double> &center, const double s) {
  std::ostringstream sum;
  for (std::size_t i = 0; i < names.size(); ++i)
    sum << (i ? " + " : "") << "(" << names[i] << " - (" << center[i] << "))^2";
  std::ostringstream out;
  out << "exp(-(" << sum.str() << ") / (2 * " << s << "^2))";
  return out.str();
}

Domain centered_box(const std::vector<double> &center, const double half_width) {
  Domain box;
  for (const double c : center) {
    box.lower.push_back(c - half_width);
    box.upper.push_back(c + half_width);
    box.periodic.push_back(false);
  }
  return box;
}
} // namespace

// ----------------------------------------------------------------------------- E1

void PotentialDrift::Parameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.declare_entry(
      "Stiffness", "1, 2", List(Double(0), 1, 1000),
      "Diagonal of K > 0 in V(theta) = 1/2 (theta - c)^T K (theta - c); its length is "
      "the dimension d. Rates of the exact flow theta(t) = c + exp(-K t)(theta_0 - c).");
  prm.declare_entry("Center", "0, 0", List(Double(), 1, 1000),
                    "c, the minimizer of V (same length as Stiffness).");
  prm.declare_entry("Box half-width", "2", Double(1e-300),
                    "The parameter-space box is c + [-B, B]^d.");
}

void PotentialDrift::Parameters::parse_parameters(dealii::ParameterHandler &prm) {
  stiffness = parse_double_list(prm.get("Stiffness"), "Stiffness");
  center = parse_double_list(prm.get("Center"), "Center");
  box_half_width = prm.get_double("Box half-width");
}

PotentialDrift::PotentialDrift(const Parameters &parameters, MPI_Comm communicator)
    : prm(parameters) {
  require(prm.center.size() == prm.stiffness.size(),
          "Center has " + std::to_string(prm.center.size()) + " entries but Stiffness has " +
              std::to_string(prm.stiffness.size()) + ": give one per coordinate.");
  for (const double k : prm.stiffness)
    require(k > 0, "Stiffness values must be positive.");
  objective_ = std::make_shared<Objective>(
      prm.stiffness.size(), std::make_shared<QuadraticPotential>(prm.stiffness, prm.center),
      communicator);
}

std::vector<std::string> PotentialDrift::coordinate_names() const {
  return xyz_names(dimension());
}

Domain PotentialDrift::domain() const {
  return centered_box(prm.center, prm.box_half_width);
}

std::string PotentialDrift::default_initial_density() const {
  if (dimension() > 3)
    return "";
  // A Gaussian of width 0.1 B, off the centre by 0.3 B in every coordinate: it drifts inwards.
  // Seven widths from the boundary, it has no mass (1e-11) outside the box.
  std::vector<double> start(prm.center);
  for (double &s : start)
    s += 0.3 * prm.box_half_width;
  return gaussian_expression(coordinate_names(), start, 0.1 * prm.box_half_width);
}

AffineFlow PotentialDrift::flow(const double t) const {
  // θ(t) = c + e^{−Kt}(θ_0 − c)   (doc/theory.md §3.3, E1)
  AffineFlow phi;
  for (std::size_t i = 0; i < prm.stiffness.size(); ++i) {
    const double decay = std::exp(-prm.stiffness[i] * t);
    phi.scale.push_back(decay);
    phi.shift.push_back((1.0 - decay) * prm.center[i]);
  }
  return phi;
}

std::string PotentialDrift::summary() const {
  std::ostringstream out;
  out << "potential drift (E1): d = " << dimension() << ", K = diag(";
  for (std::size_t i = 0; i < prm.stiffness.size(); ++i)
    out << (i ? ", " : "") << prm.stiffness[i];
  out << ")";
  return out.str();
}

// ----------------------------------------------------------------------------- E2

void LinearFeatures::Parameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.declare_entry(
      "Target", "0.5, -0.5", List(Double(), 1, 1000),
      "theta*, the parameters generating the targets y_k = theta* . x_k; its length is "
      "the dimension d.");
  prm.declare_entry(
      "Weight decay", "0.5", Double(0),
      "lambda of V(theta) = (lambda / 2) |theta|^2: deviations from the mean contract "
      "as exp(-lambda t).");
  prm.declare_entry("Number of samples", "20", Integer(1, 100000000),
                    "n: inputs x_k ~ N(0, I_d), each with weight 1/n.");
  prm.declare_entry("Box half-width", "2", Double(1e-300), "The parameter-space box is [-B, B]^d.");
  prm.declare_entry("Seed", "1", Integer(0), "Seed of the inputs x_k.");
}

void LinearFeatures::Parameters::parse_parameters(dealii::ParameterHandler &prm) {
  target = parse_double_list(prm.get("Target"), "Target");
  weight_decay = prm.get_double("Weight decay");
  n_samples = prm.get_integer("Number of samples");
  box_half_width = prm.get_double("Box half-width");
  seed = prm.get_integer("Seed");
}

double LinearFeatures::Parameters::data_bytes() const {
  return 8.0 * double(n_samples) * (target.size() + 6);
}

LinearFeatures::LinearFeatures(const Parameters &parameters, MPI_Comm communicator)
    : prm(parameters) {
  const unsigned int d = prm.target.size();
  RandomStream random(prm.seed);
  auto data = std::make_shared<Dataset>();
  data->input_dim = d;
  std::vector<double> x(d);
  for (unsigned int k = 0; k < prm.n_samples; ++k) {
    double y = 0.0;
    for (unsigned int i = 0; i < d; ++i) {
      x[i] = random.normal();
      y += prm.target[i] * x[i];
    }
    data->push_back(x.data(), 0.0, y);
  }
  data->set_uniform_weights();

  // A = Σ_k ρ_k x_k x_kᵀ and the spectral decomposition of A + λI.
  A.assign(d * d, 0.0);
  for (unsigned int k = 0; k < prm.n_samples; ++k)
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int l = 0; l < d; ++l)
        A[i * d + l] += data->weights[k] * data->input(k)[i] * data->input(k)[l];
  std::vector<double> shifted(A);
  for (unsigned int i = 0; i < d; ++i)
    shifted[i * d + i] += prm.weight_decay;
  symmetric_eigen(shifted, d, eigenvalues, eigenvectors);
  for (const double e : eigenvalues)
    require(e > 1e-12, "A + lambda I is singular: raise Weight decay or Number of samples.");

  objective_ = std::make_shared<Objective>(
      std::make_shared<LinearFeature>(d), std::make_shared<SquareLoss>(1.0),
      std::make_shared<QuadraticPotential>(QuadraticPotential::weight_decay(d, prm.weight_decay)),
      data, communicator);
}

std::vector<std::string> LinearFeatures::coordinate_names() const {
  return xyz_names(dimension());
}

Domain LinearFeatures::domain() const {
  return centered_box(std::vector<double>(dimension(), 0.0), prm.box_half_width);
}

std::string LinearFeatures::default_initial_density() const {
  if (dimension() > 3)
    return "";
  std::vector<double> start(dimension());
  for (unsigned int i = 0; i < dimension(); ++i)
    start[i] = (i % 2 == 0 ? -0.4 : 0.4) * prm.box_half_width;
  // six widths from the boundary: no mass (1e-8) outside the box
  return gaussian_expression(coordinate_names(), start, 0.1 * prm.box_half_width);
}

void LinearFeatures::exact_velocity(const std::vector<double> &mean, const double *theta,
                                    double *v) const {
  // v(θ) = −A(θ̄ − θ*) − λθ   (doc/theory.md §3.3, E2)
  const unsigned int d = dimension();
  for (unsigned int i = 0; i < d; ++i) {
    v[i] = -prm.weight_decay * theta[i];
    for (unsigned int l = 0; l < d; ++l)
      v[i] -= A[i * d + l] * (mean[l] - prm.target[l]);
  }
}

std::vector<double> LinearFeatures::mean(const double t,
                                         const std::vector<double> &initial_mean) const {
  const unsigned int d = dimension();
  // θ̄_∞ = (A + λI)^{-1} A θ* = Q Λ^{-1} Qᵀ (A θ*)
  std::vector<double> b(d, 0.0), limit(d, 0.0), delta(d), result(d);
  for (unsigned int i = 0; i < d; ++i)
    for (unsigned int l = 0; l < d; ++l)
      b[i] += A[i * d + l] * prm.target[l];
  auto apply_spectral = [&](const std::vector<double> &v, auto &&f, std::vector<double> &out) {
    for (unsigned int i = 0; i < d; ++i)
      out[i] = 0.0;
    for (unsigned int e = 0; e < d; ++e) {
      double projection = 0.0;
      for (unsigned int i = 0; i < d; ++i)
        projection += eigenvectors[i * d + e] * v[i];
      for (unsigned int i = 0; i < d; ++i)
        out[i] += f(eigenvalues[e]) * projection * eigenvectors[i * d + e];
    }
  };
  apply_spectral(
      b, [](double lambda) { return 1.0 / lambda; }, limit);
  for (unsigned int i = 0; i < d; ++i)
    delta[i] = initial_mean[i] - limit[i];
  // θ̄(t) = θ̄_∞ + e^{−(A+λI)t}(θ̄_0 − θ̄_∞)
  apply_spectral(
      delta, [t](double lambda) { return std::exp(-lambda * t); }, result);
  for (unsigned int i = 0; i < d; ++i)
    result[i] += limit[i];
  return result;
}

std::optional<double> LinearFeatures::optimal_value() const {
  const unsigned int d = dimension();
  const std::vector<double> limit = mean(std::numeric_limits<double>::infinity(), prm.target);
  double value = 0.0;
  for (unsigned int i = 0; i < d; ++i) {
    value += 0.5 * prm.weight_decay * limit[i] * limit[i];
    for (unsigned int l = 0; l < d; ++l)
      value += 0.5 * (limit[i] - prm.target[i]) * A[i * d + l] * (limit[l] - prm.target[l]);
  }
  return value;
}

AffineFlow LinearFeatures::flow(const double t, const std::vector<double> &initial_mean) const {
  // Φ_t(θ_0) = θ̄(t) + e^{−λt}(θ_0 − θ̄_0)
  const std::vector<double> mean_t = mean(t, initial_mean);
  const double decay = std::exp(-prm.weight_decay * t);
  AffineFlow phi;
  for (unsigned int i = 0; i < dimension(); ++i) {
    phi.scale.push_back(decay);
    phi.shift.push_back(mean_t[i] - decay * initial_mean[i]);
  }
  return phi;
}

std::string LinearFeatures::summary() const {
  std::ostringstream out;
  out << "linear features (E2): d = " << dimension() << ", n = " << prm.n_samples
      << ", weight decay " << prm.weight_decay << ", theta* = (";
  for (std::size_t i = 0; i < prm.target.size(); ++i)
    out << (i ? ", " : "") << prm.target[i];
  out << ")";
  return out.str();
}

// ----------------------------------------------------------------------------- Jacobi

void symmetric_eigen(std::vector<double> S, const unsigned int d, std::vector<double> &values,
                     std::vector<double> &vectors) {
  vectors.assign(d * d, 0.0);
  for (unsigned int i = 0; i < d; ++i)
    vectors[i * d + i] = 1.0;
  for (unsigned int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, total = 0.0;
    for (unsigned int i = 0; i < d; ++i)
      for (unsigned int j = 0; j < d; ++j) {
        total += S[i * d + j] * S[i * d + j];
        if (i != j)
          off += S[i * d + j] * S[i * d + j];
      }
    if (off <= 1e-30 * total || off == 0.0)
      break;
    for (unsigned int p = 0; p < d; ++p)
      for (unsigned int q = p + 1; q < d; ++q) {
        if (S[p * d + q] == 0.0)
          continue;
        // rotation that annihilates S_pq
        const double tau = (S[q * d + q] - S[p * d + p]) / (2 * S[p * d + q]);
        const double t = std::copysign(1.0, tau) / (std::abs(tau) + std::sqrt(1 + tau * tau));
        const double c = 1 / std::sqrt(1 + t * t), s = t * c;
        for (unsigned int k = 0; k < d; ++k) {
          const double skp = S[k * d + p], skq = S[k * d + q];
          S[k * d + p] = c * skp - s * skq;
          S[k * d + q] = s * skp + c * skq;
        }
        for (unsigned int k = 0; k < d; ++k) {
          const double spk = S[p * d + k], sqk = S[q * d + k];
          S[p * d + k] = c * spk - s * sqk;
          S[q * d + k] = s * spk + c * sqk;
        }
        for (unsigned int k = 0; k < d; ++k) {
          const double vkp = vectors[k * d + p], vkq = vectors[k * d + q];
          vectors[k * d + p] = c * vkp - s * vkq;
          vectors[k * d + q] = s * vkp + c * vkq;
        }
      }
  }
  values.resize(d);
  for (unsigned int i = 0; i < d; ++i)
    values[i] = S[i * d + i];
}
} // namespace MeanField
