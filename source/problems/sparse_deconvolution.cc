#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/objective/features.h>
#include <meanfield/paper/blasso.h>
#include <meanfield/problems/sparse_deconvolution.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace MeanField {
using dealii::Patterns::Bool;
using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::List;
using dealii::Patterns::Selection;

namespace {
using Filter = SparseDeconvolution::Filter;
const EnumName<Filter> filter_names[] = {{Filter::dirichlet, "Dirichlet"},
                                         {Filter::gaussian, "Gaussian"}};
} // namespace

void SparseDeconvolution::Parameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.declare_entry(
      "Filter", "Dirichlet", Selection(enum_selection(filter_names)),
      "The filter psi: the Dirichlet kernel sin((2 f_c + 1) pi u) / sin(pi u) of cutoff "
      "f_c (doc/theory.md (M8)), or the periodic Gaussian sum_p exp(-(u - p)^2 / (2 s^2)).");
  prm.declare_entry("Cutoff frequency", "7", Integer(0, 1000),
                    "f_c of the Dirichlet filter: frequencies |l| <= f_c are observed. "
                    "psi(0) = 2 f_c + 1.");
  prm.declare_entry("Gaussian width", "0.05", Double(1e-3, 0.5),
                    "Standard deviation s of the periodic Gaussian filter, in units of the torus "
                    "length 1.");
  prm.declare_entry("Number of samples", "100", Integer(1, 1000000),
                    "n: observations at s_k = k/n, k = 0..n-1, each with weight rho_k = 1/n.");
  prm.declare_entry("Number of spikes", "5", Integer(1, 10000),
                    "m0: number of spikes of the random ground truth (ignored when Spike positions "
                    "is given).");
  prm.declare_entry(
      "Spike positions", "", List(Double(0, 1)),
      "Explicit ground-truth positions x*_j in [0, 1), comma separated. Empty: draw m0 "
      "positions uniformly from Seed, at least Minimum separation apart on the torus (uniformly "
      "among all such configurations).");
  prm.declare_entry("Spike weights", "", List(Double()),
                    "Explicit ground-truth weights r*_j, one per entry of Spike positions. Empty: "
                    "random signs times a magnitude uniform in [Minimum weight, Maximum weight].");
  prm.declare_entry("Minimum separation", "0.1", Double(0, 0.5),
                    "Minimum distance on the torus between two random spikes.");
  prm.declare_entry("Minimum weight", "0.5", Double(0),
                    "Lower bound of the magnitude |r*_j| of random spike weights.");
  prm.declare_entry("Maximum weight", "1.5", Double(0),
                    "Upper bound of the magnitude |r*_j| of random spike weights.");
  prm.declare_entry(
      "Noise level", "0", Double(0),
      "sigma: standard deviation of the Gaussian noise added to each observation y_k.");
  prm.declare_entry("Regularization", "0.2", Double(0),
                    "lambda of the sparsity penalty V(x, r) = lambda |r|.");
  prm.declare_entry(
      "Huber width", "0", Double(0),
      "delta > 0 replaces |r| by its Huber smoothing (r^2 / (2 delta) for |r| <= delta), "
      "which makes the PDE velocity continuous at r = 0. 0: the exact |r|.");
  prm.declare_entry("Loss scale", "1", Double(1e-300),
                    "kappa in the loss l(f, y) = (kappa / 2) (f - y)^2 (kappa = 1 / lambda_R of "
                    "doc/theory.md §3.1). Scales the data term, hence the speed of the flow.");
  prm.declare_entry("Weight bound", "2", Double(1e-300),
                    "R: the parameter-space box is x in [0, 1) (periodic) times r in [-R, R].");
  prm.declare_entry(
      "Seed", "1", Integer(0),
      "Seed of the random ground truth and of the noise (same data on every MPI rank).");
}

void SparseDeconvolution::Parameters::parse_parameters(dealii::ParameterHandler &prm) {
  filter = parse_enum("Problem/Sparse deconvolution/Filter", prm.get("Filter"), filter_names);
  cutoff_frequency = prm.get_integer("Cutoff frequency");
  gaussian_width = prm.get_double("Gaussian width");
  n_samples = prm.get_integer("Number of samples");
  n_spikes = prm.get_integer("Number of spikes");
  spike_positions = parse_double_list(prm.get("Spike positions"), "Spike positions");
  spike_weights = parse_double_list(prm.get("Spike weights"), "Spike weights");
  min_separation = prm.get_double("Minimum separation");
  min_weight = prm.get_double("Minimum weight");
  max_weight = prm.get_double("Maximum weight");
  noise = prm.get_double("Noise level");
  lambda = prm.get_double("Regularization");
  huber_width = prm.get_double("Huber width");
  loss_scale = prm.get_double("Loss scale");
  weight_bound = prm.get_double("Weight bound");
  seed = prm.get_integer("Seed");
}

double SparseDeconvolution::Parameters::data_bytes() const {
  // per sample: s_k, y_k, rho_k and the kernel state (f, residual, weighted residual, reduction)
  return 8.0 * 7 * n_samples;
}

SparseDeconvolution::SparseDeconvolution(const Parameters &parameters, MPI_Comm communicator)
    : prm(parameters) {
  RandomStream random(prm.seed);

  // Ground truth: explicit, or m0 random spikes with a minimum separation.
  if (!prm.spike_positions.empty()) {
    require(prm.spike_weights.size() == prm.spike_positions.size(),
            "Spike weights must list one weight per entry of Spike positions (" +
                std::to_string(prm.spike_positions.size()) + " positions, " +
                std::to_string(prm.spike_weights.size()) + " weights).");
    for (std::size_t j = 0; j < prm.spike_positions.size(); ++j) {
      const double x = prm.spike_positions[j];
      require(0 <= x && x < 1, "Spike positions: " + std::to_string(x) +
                                   " lies outside the torus [0, 1) (1 is the point 0).");
      for (std::size_t i = 0; i < j; ++i)
        require(prm.spike_positions[i] != x,
                "Spike positions: two spikes at " + std::to_string(x) + ": give each once.");
    }
    positions = prm.spike_positions;
    weights = prm.spike_weights;
  } else {
    require(prm.spike_weights.empty(), "Spike weights is set but Spike positions is empty.");
    require(prm.min_weight <= prm.max_weight, "Minimum weight must not exceed Maximum weight.");
    require(prm.n_spikes * prm.min_separation <= 1.0,
            std::to_string(prm.n_spikes) + " spikes at separation " +
                std::to_string(prm.min_separation) +
                " do not fit on the torus (Number of spikes x Minimum separation must be <= 1): "
                "lower one of them.");
    // Uniform among all configurations with gaps >= s: m0 uniform points on a circle of
    // length 1 − m0 s, sorted, the i-th shifted by i s, then all rotated at random.
    const double s = prm.min_separation, free_length = 1.0 - prm.n_spikes * s;
    std::vector<double> u(prm.n_spikes);
    for (double &ui : u)
      ui = free_length * random.uniform();
    std::sort(u.begin(), u.end());
    const double rotation = random.uniform();
    for (unsigned int i = 0; i < prm.n_spikes; ++i) {
      const double x = u[i] + i * s + rotation;
      positions.push_back(x - std::floor(x));
    }
    for (unsigned int j = 0; j < prm.n_spikes; ++j)
      weights.push_back(random.sign() * random.uniform(prm.min_weight, prm.max_weight));
  }

  auto feature = std::make_shared<FourierFilterFeature>(
      prm.filter == Filter::dirichlet ? FourierFilterFeature::dirichlet(prm.cutoff_frequency)
                                      : FourierFilterFeature::gaussian(prm.gaussian_width));

  // Observations y_k = Σ_j r*_j ψ(s_k − x*_j) + σ ε_k on the grid s_k = k/n.
  auto data = std::make_shared<Dataset>();
  data->input_dim = 1;
  for (unsigned int k = 0; k < prm.n_samples; ++k) {
    const double s = static_cast<double>(k) / prm.n_samples;
    double y = 0.0;
    for (std::size_t j = 0; j < positions.size(); ++j)
      y += weights[j] * feature->filter(s - positions[j]);
    y += prm.noise > 0 ? prm.noise * random.normal() : 0.0;
    data->push_back(&s, 0.0, y);
  }
  data->set_uniform_weights();

  objective_ = std::make_shared<Objective>(
      feature, std::make_shared<SquareLoss>(prm.loss_scale),
      std::make_shared<L1Coordinate>(1, prm.lambda, prm.huber_width), data, communicator);
}

Domain SparseDeconvolution::domain() const {
  return Domain{{0.0, -prm.weight_bound}, {1.0, prm.weight_bound}, {true, false}};
}

std::string SparseDeconvolution::default_initial_density() const {
  // Uniform in position, concentrated near r = 0: a smooth stand-in for the paper's
  // initialization r = 0 with evenly spaced positions (which satisfies the support condition).
  return "exp(-r^2 / (2 * 0.1^2))";
}

bool SparseDeconvolution::sample_default_initial(RandomStream &random, double *theta) const {
  theta[0] = random.uniform();
  theta[1] = 0.1 * random.normal();
  return true;
}

std::optional<WeightedCloud> SparseDeconvolution::ground_truth() const {
  // Σ_j r*_j δ_{x*_j} as a probability measure: mass 1/m0 at (x*_j, m0 r*_j).
  const std::size_t m0 = positions.size();
  WeightedCloud truth(2);
  for (std::size_t j = 0; j < m0; ++j)
    truth.push_back({positions[j], m0 * weights[j]}, 1.0 / m0);
  return truth;
}

std::optional<Domain> SparseDeconvolution::required_box() const {
  const double m0 = static_cast<double>(positions.size());
  double r_min = 0.0, r_max = 0.0;
  for (const double r : weights) {
    r_min = std::min(r_min, m0 * r);
    r_max = std::max(r_max, m0 * r);
  }
  return Domain{{0.0, r_min}, {1.0, r_max}, {true, false}};
}

std::optional<double> SparseDeconvolution::optimal_value() const {
  if (prm.huber_width > 0.0 || prm.lambda == 0.0)
    return std::nullopt;
  if (!optimum) // the data are the same on every rank: each solves the small problem itself
    optimum = blasso_optimum(objective().with_communicator(MPI_COMM_SELF), prm.lambda, 1e-10).value;
  return optimum;
}

std::string SparseDeconvolution::summary() const {
  std::ostringstream out;
  out << "sparse deconvolution on the torus: " << objective().feature()->name()
      << ", n = " << prm.n_samples << " samples, noise " << prm.noise << ", lambda = " << prm.lambda
      << ", loss scale " << prm.loss_scale << "\n  ground truth (x*, r*):";
  for (std::size_t j = 0; j < positions.size(); ++j)
    out << " (" << positions[j] << ", " << weights[j] << ")";
  return out.str();
}
Problem::ConvexBaseline SparseDeconvolution::convex_baseline() const {
  ConvexBaseline baseline;
  if (prm.huber_width != 0.0 || !(prm.lambda > 0.0)) {
    baseline.unavailable = "the random-features baseline of sparse deconvolution is the LASSO: it "
                           "needs the exact l1 penalty (Huber width = 0, Regularization > 0).";
    return baseline;
  }
  baseline.kind = ConvexBaseline::Kind::lasso;
  baseline.weight = 1; // unit atoms ψ(· − x_j)
  baseline.lambda = prm.lambda;
  return baseline;
}
} // namespace MeanField
