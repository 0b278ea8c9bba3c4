#pragma once

#include <meanfield/base/random.h>
#include <meanfield/objective/objective.h>

#include <deal.II/base/parameter_handler.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace MeanField {
/// Problem/Type: the problems of doc/theory.md §3; to_string() gives the parameter file's spelling
/// (also Problem::name()).
enum class ProblemType {
  sparse_deconvolution,
  two_layer_network,
  linear_features,
  potential_drift
};
std::string to_string(ProblemType type);
/// The subsection of `Problem` that holds the entries of @p type ("Sparse deconvolution").
std::string subsection_name(ProblemType type);

/**
 * An affine map Φ(θ) = diag(scale) θ + shift. The flows of both exact solutions E1 and E2
 * (doc/theory.md §3.3) are of this form, so the exact density at time t is the push-forward
 * ρ_t(θ) = ρ_0(Φ_t^{-1}(θ)) / det Φ_t.
 */
struct AffineFlow {
  std::vector<double> scale;
  std::vector<double> shift;

  void apply(const double *theta0, double *theta) const;
  void apply_inverse(const double *theta, double *theta0) const;
  double determinant() const;

  /// ρ_t(θ) for an initial density ρ_0 (any normalisation).
  double density(const std::function<double(const double *)> &rho0, const double *theta) const;
};

/// The natural box of parameter space for a problem, with its periodic directions.
struct Domain {
  std::vector<double> lower;
  std::vector<double> upper;
  std::vector<bool> periodic;

  unsigned int dim() const { return lower.size(); }
  double volume() const;
};

/**
 * A problem of doc/theory.md §3: it owns the data and the Objective built on them, and
 * knows its parameter-space box, its default initial law μ0, and whatever is
 * known exactly about it (a ground-truth measure generating the data, the
 * optimal value F*).
 */
class Problem {
public:
  virtual ~Problem() = default;

  virtual ProblemType type() const = 0;
  /// Problem/Type's spelling of type(): "sparse deconvolution", for messages.
  std::string name() const { return to_string(type()); }

  /// d, the dimension of parameter space.
  unsigned int dimension() const { return objective_->n_parameters(); }

  const Objective &objective() const { return *objective_; }

  /// Names of the coordinates of θ, used as variables of the μ0 expression.
  virtual std::vector<std::string> coordinate_names() const = 0;

  virtual Domain domain() const = 0;

  /// The hyperplanes where V has a kink (from the regularizer): the mesh puts them on cell
  /// centres (doc/theory.md §4).
  std::vector<Kink> kinks() const { return objective_->regularizer().kinks(); }

  /**
   * Where the PDE needs room: the smallest box holding the ground-truth measure (bounds only in
   * the directions that are not periodic matter), if the problem has one. A mesh box that does
   * not contain it cannot represent the measure the flow should reach, and the PDE refuses it.
   */
  virtual std::optional<Domain> required_box() const { return std::nullopt; }
  /// The problem's entry that sets its box, for messages ("Problem/.../Weight bound").
  virtual std::string box_entry() const { return ""; }

  /**
   * The default μ0 as a function-parser expression in the coordinate names
   * (unnormalised; the caller normalises to mass 1). Empty for d > 3, where
   * no density is sampled on a grid.
   */
  virtual std::string default_initial_density() const = 0;

  /**
   * Draw θ from the problem's default μ0 without a density expression (any d), if the problem
   * has such a sampler (the two-layer network: a centred Gaussian). Returns false otherwise.
   */
  virtual bool sample_default_initial(RandomStream & /*random*/, double * /*theta*/) const {
    return false;
  }

  /**
   * @p count fresh data points from the problem's data distribution (the two-layer teacher on
   * new inputs), weights 1/count, for stochastic gradient descent; nullptr if the problem has
   * a fixed data set only.
   */
  virtual std::shared_ptr<Dataset> sample_data(RandomStream & /*random*/,
                                               std::size_t /*count*/) const {
    return nullptr;
  }

  /// A probability measure whose prediction generated the (noise-free) data, if there is one.
  virtual std::optional<WeightedCloud> ground_truth() const { return std::nullopt; }

  /// F* = min F, where it is known in closed form.
  virtual std::optional<double> optimal_value() const { return std::nullopt; }

  /**
   * The random-features baseline of Run mode = paper (§6): the atoms' positions drawn from μ0,
   * their coordinate `weight` set to 1, and the outer weights optimal — a LASSO with penalty
   * `lambda` (sparse deconvolution) or least squares (a two-layer network without weight decay).
   * `unavailable` says why a problem (or this instance of it) has none.
   */
  struct ConvexBaseline {
    enum class Kind { none, lasso, least_squares } kind = Kind::none;
    unsigned int weight = 0;
    double lambda = 0.0;
    std::string unavailable;
  };
  virtual ConvexBaseline convex_baseline() const {
    ConvexBaseline none;
    none.unavailable = "the random-features baseline is defined for sparse deconvolution and "
                       "the two-layer network, not " +
                       name() + ".";
    return none;
  }

  /**
   * For problems solved exactly (E1, E2): the flow map Φ_t of (M5) as an affine map, given the
   * mean of μ0 (E2's flow depends on it). The exact density is ρ_t = ρ0(Φ_t⁻¹θ)/det Φ_t.
   */
  virtual std::optional<AffineFlow> exact_flow(double /*t*/,
                                               const std::vector<double> & /*initial_mean*/) const {
    return std::nullopt;
  }

  /// A few lines describing the instance (for the screen and the log).
  virtual std::string summary() const = 0;

protected:
  std::shared_ptr<Objective> objective_;
};

/// The `Problem` subsection: the problem type and each problem's own parameters.
struct ProblemParameters {
  ProblemType type = ProblemType::sparse_deconvolution;

  static void declare_parameters(dealii::ParameterHandler &prm);
  void parse_parameters(dealii::ParameterHandler &prm);
};

/**
 * Build the problem selected in the `Problem` subsection of @p prm (which must
 * have been declared with ProblemParameters::declare_parameters and parsed).
 * Throws InputError with the entry's name for inconsistent values.
 */
std::unique_ptr<Problem> create_problem(dealii::ParameterHandler &prm, MPI_Comm communicator);

/// Helpers for list-valued entries: "0.1, 0.5" → {0.1, 0.5}; empty string → {}. Throws InputError
/// naming @p entry for an item that is not a finite number.
std::vector<double> parse_double_list(const std::string &text, const std::string &entry = "");
} // namespace MeanField
