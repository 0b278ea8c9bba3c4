#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/objective/features.h>

#include <deal.II/lac/lapack_templates.h>

#include <cmath>
#include <string>
#include <vector>

namespace MeanField {
namespace {
using Activation = TwoLayerFeature::Activation;

// σ and σ' (doc/theory.md §3.2), written so that the compiler vectorizes the ReLU branch-free.
template <Activation A>
inline double activation_value(const double z) {
  if constexpr (A == Activation::relu)
    return z > 0.0 ? z : 0.0;
  else
    return 1.0 / (1.0 + std::exp(-z));
}

template <Activation A>
inline double activation_derivative(const double z) {
  if constexpr (A == Activation::relu)
    return z > 0.0 ? 1.0 : 0.0;
  else {
    const double s = 1.0 / (1.0 + std::exp(-z));
    return s * (1.0 - s);
  }
}

// h σ(z) and h σ'(z) for the gradient pass of (M3). For the ReLU one select, h σ'(z) = h·1[z > 0],
// and h σ(z) = h σ'(z) z (σ is 1-homogeneous; the same for finite z). Two selects on the same
// condition (σ and σ' apart) are merged by GCC into one branch around the sums, which it
// if-converts only with AVX-512 masked arithmetic: with AVX2 the loop stayed scalar, with a
// mispredicted branch per data point (the d_in = 2 particle step 10x slower, measured).
template <Activation A>
inline void weighted_activation(const double h, const double z, double &hs, double &hds) {
  if constexpr (A == Activation::relu) {
    hds = z > 0.0 ? h : 0.0;
    hs = hds * z;
  } else {
    const double s = activation_value<A>(z);
    hs = h * s;
    hds = h * (s * (1.0 - s));
  }
}

// Data points as P contiguous coordinate arrays (structure of arrays) for the direct loops.
std::vector<double> transpose_inputs(const Dataset &data) {
  const std::size_t n = data.size();
  const unsigned int p = data.input_dim;
  std::vector<double> xt(p * n);
  for (std::size_t k = 0; k < n; ++k)
    for (unsigned int i = 0; i < p; ++i)
      xt[i * n + k] = data.inputs[k * p + i];
  return xt;
}

// Z (rows × n, row-major) = W Xᵀ for `rows` weight vectors w stored with stride ldw,
// X the n × p row-major data: one BLAS dgemm (column-major Zᵀ = X Wᵀ).
void preactivations(const double *W, const int ldw, const int rows, const Dataset &data,
                    double *Z) {
  const int n = static_cast<int>(data.size());
  const int p = static_cast<int>(data.input_dim);
  const double one = 1.0, zero = 0.0;
  dealii::gemm("T", "N", &n, &rows, &p, &one, data.inputs.data(), &p, W, &ldw, &zero, Z, &n);
}

constexpr std::size_t data_block = 256; // data points per task in (M1)
constexpr std::size_t query_block = 64; // query points per task in (M3)
constexpr std::size_t blas_block = 512; // particles per matrix product
} // namespace

TwoLayerFeature::TwoLayerFeature(const unsigned int input_dimension, const Activation activation)
    : p(input_dimension)
    , sigma(activation) {
  require(input_dimension >= 1, "A two-layer network needs at least one input coordinate.");
}

std::string TwoLayerFeature::name() const {
  return std::string(sigma == Activation::relu ? "relu" : "sigmoid") + " neuron";
}

// φ = a σ(w·x), ∇_a φ = σ(w·x), ∇_w φ = a σ'(w·x) x  (doc/theory.md §3.2).
void TwoLayerFeature::evaluate(const double *theta, const Dataset &data, double *values,
                               double *gradients) const {
  const double a = theta[0];
  const double *w = theta + 1;
  const unsigned int d = p + 1;
  for (std::size_t k = 0; k < data.size(); ++k) {
    const double *x = data.input(k);
    double z = 0.0;
    for (unsigned int i = 0; i < p; ++i)
      z += w[i] * x[i];
    const double s = sigma == Activation::relu ? activation_value<Activation::relu>(z)
                                               : activation_value<Activation::sigmoid>(z);
    values[k] = a * s;
    if (gradients != nullptr) {
      const double ds = sigma == Activation::relu ? activation_derivative<Activation::relu>(z)
                                                  : activation_derivative<Activation::sigmoid>(z);
      gradients[k * d] = s;
      for (unsigned int i = 0; i < p; ++i)
        gradients[k * d + 1 + i] = a * ds * x[i];
    }
  }
}

// ----------------------------------------------------------------------------- direct loops
//
// Written for any SIMD width (AVX2 and AVX-512 alike): unit-stride loads only, the ReLU as
// selects, and several independent sums per sweep over the data.

namespace {
// w·x_k for data point k of the transposed inputs x[i][k].
template <int P>
inline double preactivation(const double *w, const double *const *x, const std::size_t k) {
  double z = w[0] * x[0][k];
  for (int i = 1; i < P; ++i)
    z += w[i] * x[i][k];
  return z;
}

// Adds data point k to one query's sums of (M3): s0 += h_k σ(w·x_k), and with the gradient
// s_{1+i} += h_k σ'(w·x_k) x_ik.
template <int P, Activation A, bool Gradient>
inline void add_data_point(const double *w, const double *const *x, const std::size_t k,
                           const double h, double &s0, double &s1, double &s2, double &s3,
                           double &s4) {
  const double z = preactivation<P>(w, x, k);
  if constexpr (!Gradient) {
    s0 += h * activation_value<A>(z);
  } else {
    double hs, dh; // h_k σ(w·x_k), h_k σ'(w·x_k)
    weighted_activation<A>(h, z, hs, dh);
    s0 += hs;
    s1 += dh * x[0][k];
    if constexpr (P > 1)
      s2 += dh * x[1][k];
    if constexpr (P > 2)
      s3 += dh * x[2][k];
    if constexpr (P > 3)
      s4 += dh * x[3][k];
  }
}

// The data sums of (M3) for two queries w_a, w_b in one sweep over the n data points:
//   S[0] = Σ_k h_k σ(w·x_k),  S[1+i] = Σ_k h_k σ'(w·x_k) x_ik (with the gradient).
// Two queries give independent chains of additions (one chain is bound by the add latency)
// and share the loads of x and h. Each query's sums are the same as if computed alone.
template <int P, Activation A, bool Gradient>
void data_sums(const double *const *xs, const double *h, const std::size_t n, const double *wa,
               const double *wb, double *Sa, double *Sb) {
  // local copies of the pointers: loop invariant for the compiler, contiguous vector loads
  const double *x[4] = {xs[0], xs[1], xs[2], xs[3]};
  const double *hk = h;
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0;
#pragma omp simd reduction(+ : a0, a1, a2, a3, a4, b0, b1, b2, b3, b4)
  for (std::size_t k = 0; k < n; ++k) {
    add_data_point<P, A, Gradient>(wa, x, k, hk[k], a0, a1, a2, a3, a4);
    add_data_point<P, A, Gradient>(wb, x, k, hk[k], b0, b1, b2, b3, b4);
  }
  const double sa[5] = {a0, a1, a2, a3, a4}, sb[5] = {b0, b1, b2, b3, b4};
  for (int i = 0; i < (Gradient ? P + 1 : 1); ++i) {
    Sa[i] = sa[i];
    Sb[i] = sb[i];
  }
}

constexpr int particle_group = 4; // particles per sweep over a block of data in (M1)
} // namespace

// (M1): f_k += Σ_j w_j a_j σ(w_j·x_k), threaded over blocks of data points, vectorized over k.
// Groups of particle_group particles per sweep keep f_k in a register (1 load and store of f
// per group instead of per particle); the terms are still added one particle at a time, in order.
template <int P, Activation A>
void TwoLayerFeature::add_prediction_direct(const WeightedCloud &cloud, const Dataset &data,
                                            double *f) const {
  const std::size_t n = data.size(), m = cloud.size();
  const std::vector<double> xt = transpose_inputs(data);
  for_each_block(n, data_block, [&](const std::size_t begin, const std::size_t end, std::size_t) {
    const std::size_t len = end - begin;
    const double *x[P];
    for (int i = 0; i < P; ++i)
      x[i] = xt.data() + i * n + begin;
    double *fb = f + begin;
    for (std::size_t j0 = 0; j0 < m; j0 += particle_group) {
      // c = w_j a_j and w_j of the group; zero past the last particle (adds exactly 0)
      double c[particle_group] = {}, w[particle_group][P] = {};
      for (std::size_t g = 0; g < particle_group && j0 + g < m; ++g) {
        const double *theta = cloud.position(j0 + g);
        c[g] = cloud.weights[j0 + g] * theta[0];
        for (int i = 0; i < P; ++i)
          w[g][i] = theta[1 + i];
      }
#pragma omp simd
      for (std::size_t k = 0; k < len; ++k) {
        double fk = fb[k];
        for (int g = 0; g < particle_group; ++g)
          fk += c[g] * activation_value<A>(preactivation<P>(w[g], x, k));
        fb[k] = fk;
      }
    }
  });
}

// Data part of (M3)–(M4) at each query θ = (a, w):
//   S0 = Σ_k h_k σ(w·x_k),  S_i = Σ_k h_k σ'(w·x_k) x_ik,
//   F'_R = a S0,  ∂_a F'_R = S0,  ∂_{w_i} F'_R = a S_i.
// Threaded over blocks of queries, two queries per sweep over the data (data_sums).
template <int P, Activation A>
void TwoLayerFeature::contract_direct(const PointSet &queries, const Dataset &data, const double *h,
                                      double *values, double *gradients) const {
  const std::size_t n = data.size();
  const std::vector<double> xt = transpose_inputs(data);
  const double *x[4] = {xt.data(), xt.data() + (P > 1 ? n : 0), xt.data() + (P > 2 ? 2 * n : 0),
                        xt.data() + (P > 3 ? 3 * n : 0)};
  for_each_block(queries.size(), query_block, [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t q = begin; q < end; q += 2) {
      const std::size_t qb = q + 1 < end ? q + 1 : q; // an odd last query is paired with itself
      double w[2][4] = {};
      for (int i = 0; i < P; ++i) {
        w[0][i] = queries[q][1 + i];
        w[1][i] = queries[qb][1 + i];
      }
      double S[2][P + 1];
      if (gradients == nullptr)
        data_sums<P, A, false>(x, h, n, w[0], w[1], S[0], S[1]);
      else
        data_sums<P, A, true>(x, h, n, w[0], w[1], S[0], S[1]);
      for (int r = 0; r < (qb > q ? 2 : 1); ++r) {
        const double a = queries[q + r][0];
        values[q + r] = a * S[r][0];
        if (gradients == nullptr)
          continue;
        double *g = gradients + (q + r) * (P + 1);
        g[0] = S[r][0];
        for (int i = 0; i < P; ++i)
          g[1 + i] = a * S[r][1 + i];
      }
    }
  });
}

// ----------------------------------------------------------------------------- BLAS path

template <Activation A>
void TwoLayerFeature::add_prediction_blas(const WeightedCloud &cloud, const Dataset &data,
                                          double *f) const {
  const std::size_t n = data.size(), m = cloud.size();
  const int d = static_cast<int>(p + 1);
  std::vector<double> Z(std::min(m, blas_block) * n);
  for (std::size_t j0 = 0; j0 < m; j0 += blas_block) {
    const std::size_t rows = std::min(blas_block, m - j0);
    // Z = W Xᵀ for this block of particles (the pre-activations, 2 rows n p flops)
    preactivations(cloud.position(j0) + 1, d, static_cast<int>(rows), data, Z.data());
    // f_k += Σ_j w_j a_j σ(Z_jk)
    for_each_block(n, data_block, [&](std::size_t begin, std::size_t end, std::size_t) {
      for (std::size_t r = 0; r < rows; ++r) {
        const double c = cloud.weights[j0 + r] * cloud.position(j0 + r)[0];
        const double *z = Z.data() + r * n;
#pragma omp simd
        for (std::size_t k = begin; k < end; ++k)
          f[k] += c * activation_value<A>(z[k]);
      }
    });
  }
}

template <Activation A>
void TwoLayerFeature::contract_blas(const PointSet &queries, const Dataset &data, const double *h,
                                    double *values, double *gradients) const {
  const std::size_t n = data.size(), m = queries.size();
  const int d = static_cast<int>(p + 1), pi = static_cast<int>(p), ni = static_cast<int>(n);
  std::vector<double> Z(std::min(m, blas_block) * n), G(std::min(m, blas_block) * p);
  for (std::size_t q0 = 0; q0 < m; q0 += blas_block) {
    const std::size_t rows = std::min(blas_block, m - q0);
    preactivations(queries[q0] + 1, d, static_cast<int>(rows), data, Z.data());
    // S0_q = Σ_k h_k σ(Z_qk); Z_qk ← h_k σ'(Z_qk) for the second product
    for_each_block(rows, query_block, [&](std::size_t begin, std::size_t end, std::size_t) {
      for (std::size_t r = begin; r < end; ++r) {
        double *z = Z.data() + r * n;
        double s0 = 0.0;
#pragma omp simd reduction(+ : s0)
        for (std::size_t k = 0; k < n; ++k) {
          s0 += h[k] * activation_value<A>(z[k]);
          z[k] = h[k] * activation_derivative<A>(z[k]);
        }
        const double a = queries[q0 + r][0];
        values[q0 + r] = a * s0;
        if (gradients != nullptr)
          gradients[(q0 + r) * d] = s0;
      }
    });
    if (gradients == nullptr)
      continue;
    // G (rows × p) = D X: Σ_k h_k σ'(w·x_k) x_k for every query of the block
    const int rows_i = static_cast<int>(rows);
    const double one = 1.0, zero = 0.0;
    dealii::gemm("N", "N", &pi, &rows_i, &ni, &one, data.inputs.data(), &pi, Z.data(), &ni, &zero,
                 G.data(), &pi);
    for (std::size_t r = 0; r < rows; ++r) {
      const double a = queries[q0 + r][0];
      double *g = gradients + (q0 + r) * d + 1;
      for (unsigned int i = 0; i < p; ++i)
        g[i] = a * G[r * p + i];
    }
  }
}

// ----------------------------------------------------------------------------- dispatch

// The direct loops are instantiated for p = 1..4 below: keep in step with the constant.
static_assert(TwoLayerFeature::max_direct_input_dimension == 4);

void TwoLayerFeature::add_prediction(const WeightedCloud &cloud, const Dataset &data,
                                     double *f) const {
  const bool relu = sigma == Activation::relu;
  switch (p) {
  case 1:
    return relu ? add_prediction_direct<1, Activation::relu>(cloud, data, f)
                : add_prediction_direct<1, Activation::sigmoid>(cloud, data, f);
  case 2:
    return relu ? add_prediction_direct<2, Activation::relu>(cloud, data, f)
                : add_prediction_direct<2, Activation::sigmoid>(cloud, data, f);
  case 3:
    return relu ? add_prediction_direct<3, Activation::relu>(cloud, data, f)
                : add_prediction_direct<3, Activation::sigmoid>(cloud, data, f);
  case 4:
    return relu ? add_prediction_direct<4, Activation::relu>(cloud, data, f)
                : add_prediction_direct<4, Activation::sigmoid>(cloud, data, f);
  default:
    return relu ? add_prediction_blas<Activation::relu>(cloud, data, f)
                : add_prediction_blas<Activation::sigmoid>(cloud, data, f);
  }
}

void TwoLayerFeature::contract(const PointSet &queries, const Dataset &data, const double *h,
                               double *values, double *gradients) const {
  const bool relu = sigma == Activation::relu;
  switch (p) {
  case 1:
    return relu ? contract_direct<1, Activation::relu>(queries, data, h, values, gradients)
                : contract_direct<1, Activation::sigmoid>(queries, data, h, values, gradients);
  case 2:
    return relu ? contract_direct<2, Activation::relu>(queries, data, h, values, gradients)
                : contract_direct<2, Activation::sigmoid>(queries, data, h, values, gradients);
  case 3:
    return relu ? contract_direct<3, Activation::relu>(queries, data, h, values, gradients)
                : contract_direct<3, Activation::sigmoid>(queries, data, h, values, gradients);
  case 4:
    return relu ? contract_direct<4, Activation::relu>(queries, data, h, values, gradients)
                : contract_direct<4, Activation::sigmoid>(queries, data, h, values, gradients);
  default:
    return relu ? contract_blas<Activation::relu>(queries, data, h, values, gradients)
                : contract_blas<Activation::sigmoid>(queries, data, h, values, gradients);
  }
}
} // namespace MeanField
