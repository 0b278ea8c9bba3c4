#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/objective/objective.h>

#include <deal.II/base/mpi.h>

#include <algorithm>
#include <string>

namespace MeanField {
namespace {
// The dimension check of every evaluation: cheap, and the message is built only on failure.
inline void check_dimension(const unsigned int got, const unsigned int expected,
                            const char *where) {
  if (got != expected)
    throw InputError(std::string(where) + ": points of dimension " + std::to_string(got) +
                     " for an objective on R^" + std::to_string(expected) + ".");
}
} // namespace

Objective::Objective(std::shared_ptr<const Feature> feature, std::shared_ptr<const Loss> loss,
                     std::shared_ptr<const Regularizer> regularizer,
                     std::shared_ptr<const Dataset> data, MPI_Comm communicator)
    : dim(feature->n_parameters())
    , phi(std::move(feature))
    , ell(std::move(loss))
    , V(std::move(regularizer))
    , dataset(std::move(data))
    , comm(communicator) {
  require(ell != nullptr && V != nullptr && dataset != nullptr,
          "Objective: a feature needs a loss, a regularizer and a data set.");
  require(dataset->input_dim == phi->input_dimension(),
          "Objective: the data points have dimension " + std::to_string(dataset->input_dim) +
              " but the feature " + phi->name() + " expects " +
              std::to_string(phi->input_dimension()) + ".");
  dataset->check();
}

Objective::Objective(const unsigned int n_parameters,
                     std::shared_ptr<const Regularizer> regularizer, MPI_Comm communicator)
    : dim(n_parameters)
    , V(std::move(regularizer))
    , dataset(std::make_shared<Dataset>())
    , comm(communicator) {}

Objective Objective::with_communicator(MPI_Comm communicator) const {
  Objective copy(*this);
  copy.comm = communicator;
  return copy;
}

Objective Objective::with_data(std::shared_ptr<const Dataset> data) const {
  require(phi != nullptr, "Objective::with_data: a pure-potential objective has no data.");
  return Objective(phi, ell, V, std::move(data), comm);
}

Objective::State Objective::evaluate(const WeightedCloud &local_cloud) const {
  check_dimension(local_cloud.dim(), dim, "Objective::evaluate");
  const std::size_t n = dataset->size();

  // Local contributions: f (M1) on the data, then ∫V dμ and the mass, packed into
  // one buffer so that the whole measure costs a single MPI_Allreduce of n + 2 numbers.
  std::vector<double> buffer(n + 2, 0.0);
  if (phi != nullptr)
    phi->add_prediction(local_cloud, *dataset, buffer.data());
  buffer[n] = V->integrate(local_cloud);
  buffer[n + 1] = local_cloud.local_mass();
  return finish_evaluation(std::move(buffer));
}

Objective::State Objective::evaluate(const GridPointSet &points,
                                     const std::vector<double> &weights) const {
  check_dimension(points.dim(), dim, "Objective::evaluate");
  if (weights.size() != points.size())
    throw InputError("Objective::evaluate: one weight per grid point is needed.");
  const std::size_t n = dataset->size();
  std::vector<double> buffer(n + 2, 0.0);
  if (phi != nullptr)
    phi->add_prediction(points, weights.data(), *dataset, buffer.data());
  buffer[n] = V->integrate(points, weights.data());
  double mass = 0.0;
  const std::size_t m = points.size();
  const double *w = weights.data();
#pragma omp simd reduction(+ : mass)
  for (std::size_t q = 0; q < m; ++q)
    mass += w[q];
  buffer[n + 1] = mass;
  return finish_evaluation(std::move(buffer));
}

Objective::State Objective::finish_evaluation(std::vector<double> buffer) const {
  const std::size_t n = dataset->size();
  dealii::Utilities::MPI::sum(buffer, comm, buffer);

  State state;
  state.potential = buffer[n];
  state.mass = buffer[n + 1];
  buffer.resize(n);
  state.prediction = std::move(buffer);
  state.residual.assign(n, 0.0);
  state.weighted_residual.assign(n, 0.0);
  if (phi != nullptr) {
    // R(f) (M2) and g = ∂₁ℓ(f, y) (M3)
    state.risk = ell->risk(n, state.prediction.data(), dataset->targets.data(),
                           dataset->weights.data(), state.residual.data());
    for (std::size_t k = 0; k < n; ++k)
      state.weighted_residual[k] = dataset->weights[k] * state.residual[k];
  }
  return state;
}

template <typename Points>
void Objective::data_part(const State &state, const Points &queries, const std::size_t q,
                          double *values, double *gradients) const {
  // (M3), data part: Σ_k h_k φ(θ, x_k) and its gradient
  if (phi != nullptr && dataset->size() > 0)
    phi->contract(queries, *dataset, state.weighted_residual.data(), values, gradients);
  else {
    std::fill(values, values + q, 0.0);
    if (gradients != nullptr)
      std::fill(gradients, gradients + q * dim, 0.0);
  }
}

void Objective::first_variation(const State &state, const PointSet &queries, double *values,
                                double *gradients) const {
  check_dimension(queries.dim, dim, "Objective::first_variation");
  data_part(state, queries, queries.size(), values, gradients);
  V->add_to(queries, values, gradients); // ... plus V(θ) and ∇V(θ)
}

void Objective::first_variation(const State &state, const GridPointSet &queries, double *values,
                                double *gradients) const {
  check_dimension(queries.dim(), dim, "Objective::first_variation");
  data_part(state, queries, queries.size(), values, gradients);
  V->add_to(queries, values, gradients);
}

void Objective::data_first_variation(const State &state, const PointSet &queries, double *values,
                                     double *gradients) const {
  check_dimension(queries.dim, dim, "Objective::data_first_variation");
  data_part(state, queries, queries.size(), values, gradients);
}

void Objective::partial_derivative(const State &state, const GridPointSet &queries,
                                   const unsigned int i, double *out) const {
  check_dimension(queries.dim(), dim, "Objective::partial_derivative");
  if (i >= dim)
    throw InputError("Objective::partial_derivative: direction " + std::to_string(i) + " on R^" +
                     std::to_string(dim) + ".");
  if (phi != nullptr && dataset->size() > 0)
    phi->contract_partial(queries, *dataset, state.weighted_residual.data(), i, out);
  else
    std::fill(out, out + queries.size(), 0.0);
  V->add_partial(queries, i, out);
}

void Objective::velocity(const State &state, const PointSet &queries, double *velocities) const {
  std::vector<double> values(queries.size());
  first_variation(state, queries, values.data(), velocities);
  // (M4): v = −∇F'
  const std::size_t n = queries.size() * dim;
  for (std::size_t i = 0; i < n; ++i)
    velocities[i] = -velocities[i];
}

double Objective::dissipation(const State &state, const WeightedCloud &local_cloud) const {
  const std::size_t m = local_cloud.size();
  std::vector<double> values(m), gradients(m * dim);
  first_variation(state, local_cloud.points, values.data(), gradients.data());
  double local = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    double norm2 = 0.0;
    for (unsigned int i = 0; i < dim; ++i)
      norm2 += gradients[j * dim + i] * gradients[j * dim + i];
    local += local_cloud.weights[j] * norm2;
  }
  return dealii::Utilities::MPI::sum(local, comm);
}
} // namespace MeanField
