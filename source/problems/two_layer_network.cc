#include <meanfield/base/enum_names.h>
#include <meanfield/base/exceptions.h>
#include <meanfield/base/random.h>
#include <meanfield/problems/two_layer_network.h>

#include <cmath>
#include <sstream>

namespace MeanField {
using dealii::Patterns::Bool;
using dealii::Patterns::Double;
using dealii::Patterns::Integer;
using dealii::Patterns::Selection;

namespace {
using Activation = TwoLayerFeature::Activation;
using OutputWeights = TwoLayerNetwork::OutputWeights;
using InputDistribution = TwoLayerNetwork::InputDistribution;
const EnumName<Activation> activation_names[] = {{Activation::relu, "relu"},
                                                 {Activation::sigmoid, "sigmoid"}};
const EnumName<OutputWeights> output_weight_names[] = {{OutputWeights::random_sign, "signed"},
                                                       {OutputWeights::positive, "positive"}};
const EnumName<InputDistribution> input_distribution_names[] = {
    {InputDistribution::sphere, "sphere"}, {InputDistribution::gaussian, "gaussian"}};
} // namespace

void TwoLayerNetwork::Parameters::declare_parameters(dealii::ParameterHandler &prm) {
  prm.declare_entry(
      "Activation", "relu", Selection(enum_selection(activation_names)),
      "sigma in phi((a, w), x) = a sigma(w . x): relu = max(z, 0) (phi is 2-homogeneous "
      "in theta) or sigmoid = 1 / (1 + exp(-z)) (1-homogeneous in a only).");
  prm.declare_entry(
      "Bias", "false", Bool(),
      "Append a constant input 1, so that w carries a bias b as its last coordinate.");
  prm.declare_entry("Input dimension", "2", Integer(1, 100000),
                    "d_in, the dimension of the inputs x. Parameter space has dimension "
                    "d = 1 + d_in (+1 with Bias); the PDE needs d <= 3, particles take any d.");
  prm.declare_entry("Loss", "square", Selection(enum_selection(loss_type_names)),
                    "l(f, y) = (kappa / 2)(f - y)^2, or kappa log(1 + exp(-y f)) with labels "
                    "y = sign(teacher output).");
  prm.declare_entry("Loss scale", "1", Double(1e-300), "kappa, the scale of the loss.");
  prm.declare_entry("Weight decay", "0", Double(0),
                    "lambda of V(theta) = (lambda / 2) |theta|^2. With 0 and the square loss the "
                    "teacher is a global minimizer and F* = 0.");
  prm.declare_entry("Number of teacher neurons", "5", Integer(1, 1000000),
                    "m0: the teacher is (1/m0) sum_j a*_j sigma(w*_j . x) with w*_j uniform on the "
                    "unit sphere.");
  prm.declare_entry("Teacher output weights", "signed",
                    Selection(enum_selection(output_weight_names)),
                    "a*_j = +1 or -1 with probability 1/2 (signed), or a*_j = 1 (positive).");
  prm.declare_entry(
      "Input distribution", "sphere", Selection(enum_selection(input_distribution_names)),
      "Law of the inputs x: uniform on the unit sphere of R^d_in, or standard Gaussian.");
  prm.declare_entry("Number of samples", "1000", Integer(1, 100000000),
                    "n: number of input samples x_k, each with weight rho_k = 1/n.");
  prm.declare_entry("Parameter bound", "2", Double(1e-300),
                    "B: the parameter-space box is [-B, B]^d (used by the PDE).");
  prm.declare_entry("Seed", "1", Integer(0),
                    "Seed of the teacher and of the inputs (same data on every MPI rank).");
}

void TwoLayerNetwork::Parameters::parse_parameters(dealii::ParameterHandler &prm) {
  const std::string prefix = "Problem/Two-layer network/"; // for messages
  activation = parse_enum(prefix + "Activation", prm.get("Activation"), activation_names);
  bias = prm.get_bool("Bias");
  input_dimension = prm.get_integer("Input dimension");
  loss = parse_enum(prefix + "Loss", prm.get("Loss"), loss_type_names);
  loss_scale = prm.get_double("Loss scale");
  weight_decay = prm.get_double("Weight decay");
  n_teacher_neurons = prm.get_integer("Number of teacher neurons");
  teacher_output_weights = parse_enum(prefix + "Teacher output weights",
                                      prm.get("Teacher output weights"), output_weight_names);
  input_distribution = parse_enum(prefix + "Input distribution", prm.get("Input distribution"),
                                  input_distribution_names);
  n_samples = prm.get_integer("Number of samples");
  parameter_bound = prm.get_double("Parameter bound");
  seed = prm.get_integer("Seed");
}

namespace {
// A standard Gaussian vector of length p, normalised to the unit sphere if asked.
void draw(RandomStream &random, const unsigned int p, const bool on_sphere, double *x) {
  double norm2 = 0.0;
  do {
    norm2 = 0.0;
    for (unsigned int i = 0; i < p; ++i) {
      x[i] = random.normal();
      norm2 += x[i] * x[i];
    }
  } while (norm2 == 0.0);
  if (on_sphere)
    for (unsigned int i = 0; i < p; ++i)
      x[i] /= std::sqrt(norm2);
}
} // namespace

double TwoLayerNetwork::Parameters::data_bytes() const {
  const double p = input_dimension + (bias ? 1 : 0), n = n_samples;
  // the inputs, y, rho and the kernel state; for p > 4 the pre-activations and σ' of a block of
  // 512 particles against all data (two matrices of 512 n)
  return 8.0 * n * (p + 6) + (p > 4 ? 8.0 * 2 * 512 * n : 0.0);
}

TwoLayerNetwork::TwoLayerNetwork(const Parameters &parameters, MPI_Comm communicator)
    : prm(parameters) {
  const unsigned int p = prm.input_dimension + (prm.bias ? 1 : 0);
  const unsigned int d = p + 1;
  feature = std::make_shared<TwoLayerFeature>(p, prm.activation);
  RandomStream random(prm.seed);

  // Teacher μ* = (1/m0) Σ_j δ_{(a*_j, w*_j)}, w*_j uniform on the unit sphere of R^p.
  const unsigned int m0 = prm.n_teacher_neurons;
  teacher = WeightedCloud(d);
  std::vector<double> theta(d);
  for (unsigned int j = 0; j < m0; ++j) {
    theta[0] = prm.teacher_output_weights == OutputWeights::random_sign ? random.sign() : 1.0;
    draw(random, p, true, theta.data() + 1);
    teacher.push_back(theta.data(), 1.0 / m0);
  }

  // Inputs (with the constant 1 for a bias) and the teacher's outputs as targets.
  auto data = std::make_shared<Dataset>();
  data->input_dim = p;
  std::vector<double> x(p, 1.0);
  for (unsigned int k = 0; k < prm.n_samples; ++k) {
    draw(random, prm.input_dimension, prm.input_distribution == InputDistribution::sphere,
         x.data());
    data->push_back(x.data(), 0.0, 0.0);
  }
  data->set_uniform_weights();
  std::vector<double> f(prm.n_samples, 0.0);
  feature->add_prediction(teacher, *data, f.data());
  for (unsigned int k = 0; k < prm.n_samples; ++k)
    data->targets[k] = prm.loss == LossType::square ? f[k] : (f[k] >= 0 ? 1.0 : -1.0);

  std::shared_ptr<const Regularizer> V;
  if (prm.weight_decay > 0)
    V = std::make_shared<QuadraticPotential>(QuadraticPotential::weight_decay(d, prm.weight_decay));
  else
    V = std::make_shared<NoRegularizer>();
  objective_ = std::make_shared<Objective>(feature, create_loss(prm.loss, prm.loss_scale), V, data,
                                           communicator);
}

bool TwoLayerNetwork::sample_default_initial(RandomStream &random, double *theta) const {
  // the default μ0: N(0, 0.5²) in every coordinate (default_initial_density() for d ≤ 3)
  for (unsigned int i = 0; i < dimension(); ++i)
    theta[i] = 0.5 * random.normal();
  return true;
}

std::shared_ptr<Dataset> TwoLayerNetwork::sample_data(RandomStream &random,
                                                      const std::size_t count) const {
  // new inputs from the input distribution, labelled by the teacher like the fixed data
  const unsigned int p = prm.input_dimension + (prm.bias ? 1 : 0);
  auto data = std::make_shared<Dataset>();
  data->input_dim = p;
  std::vector<double> x(p, 1.0);
  for (std::size_t k = 0; k < count; ++k) {
    draw(random, prm.input_dimension, prm.input_distribution == InputDistribution::sphere,
         x.data());
    data->push_back(x.data(), 0.0, 0.0);
  }
  data->set_uniform_weights();
  std::vector<double> f(count, 0.0);
  feature->add_prediction(teacher, *data, f.data());
  for (std::size_t k = 0; k < count; ++k)
    data->targets[k] = prm.loss == LossType::square ? f[k] : (f[k] >= 0 ? 1.0 : -1.0);
  return data;
}

std::vector<std::string> TwoLayerNetwork::coordinate_names() const {
  std::vector<std::string> names{"a"};
  for (unsigned int i = 1; i <= prm.input_dimension; ++i)
    names.push_back("w" + std::to_string(i));
  if (prm.bias)
    names.push_back("b");
  return names;
}

Domain TwoLayerNetwork::domain() const {
  const unsigned int d = dimension();
  return Domain{std::vector<double>(d, -prm.parameter_bound),
                std::vector<double>(d, prm.parameter_bound), std::vector<bool>(d, false)};
}

std::string TwoLayerNetwork::default_initial_density() const {
  if (dimension() > 3)
    return "";
  // A centred Gaussian of standard deviation 0.5 in every coordinate.
  std::string sum;
  for (const std::string &name : coordinate_names())
    sum += (sum.empty() ? "" : " + ") + name + "^2";
  return "exp(-(" + sum + ") / (2 * 0.5^2))";
}

std::optional<double> TwoLayerNetwork::optimal_value() const {
  if (prm.loss == LossType::square && prm.weight_decay == 0.0)
    return 0.0;
  return std::nullopt;
}

std::string TwoLayerNetwork::summary() const {
  std::ostringstream out;
  out << "two-layer " << enum_name(activation_names, prm.activation)
      << " network, d_in = " << prm.input_dimension << (prm.bias ? " + bias" : "")
      << ", teacher of " << prm.n_teacher_neurons << " neurons, n = " << prm.n_samples
      << " inputs (" << enum_name(input_distribution_names, prm.input_distribution) << "), "
      << to_string(prm.loss) << " loss, weight decay " << prm.weight_decay;
  return out.str();
}
Problem::ConvexBaseline TwoLayerNetwork::convex_baseline() const {
  ConvexBaseline baseline;
  if (prm.weight_decay != 0.0 || prm.loss != LossType::square) {
    baseline.unavailable = "the random-features baseline of a two-layer network is least squares "
                           "in the output weights: it needs the square loss and Weight decay = 0.";
    return baseline;
  }
  baseline.kind = ConvexBaseline::Kind::least_squares;
  baseline.weight = 0; // unit output weight a = 1: φ = σ(w_j · x)
  return baseline;
}
} // namespace MeanField
