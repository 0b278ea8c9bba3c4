#include <meanfield/base/exceptions.h>
#include <meanfield/base/parallel.h>
#include <meanfield/base/turn.h>
#include <meanfield/objective/features.h>

#include <cmath>
#include <complex>
#include <string>
#include <vector>

namespace MeanField {
namespace {
using Complex = std::complex<double>;

inline Complex turn(const double x) {
  return exp_2i_pi(x);
}

// B_l = Σ_k h_k e^{2iπ l s_k}, l = 0..L: the data side of (M3).
std::vector<Complex> data_moments(const std::size_t L, const Dataset &data, const double *h) {
  std::vector<Complex> B(L + 1, 0.0);
  for (std::size_t k = 0; k < data.size(); ++k) {
    const Complex e = turn(data.inputs[k]);
    Complex z = h[k];
    for (std::size_t l = 0; l <= L; ++l, z *= e)
      B[l] += z;
  }
  return B;
}

// G(x) = c_0 Re B_0 + 2 Σ c_l Re z_l and G'(x) = 4π Σ l c_l Im z_l with z_l = e^{−2iπlx} B_l.
inline void filter_sum(const std::vector<double> &c, const std::vector<Complex> &B, const double x,
                       double &G, double &dG) {
  const Complex e = turn(-x);
  Complex el = e;
  G = c[0] * B[0].real();
  dG = 0.0;
  for (std::size_t l = 1; l < c.size(); ++l, el *= e) {
    const Complex z = el * B[l];
    G += 2 * c[l] * z.real();
    dG += 4 * M_PI * l * c[l] * z.imag();
  }
}

// f_k += c_0 Re A_0 + 2 Σ_{l≥1} c_l Re(e^{2iπls_k} A_l): the data side of (M1).
void add_synthesis(const std::vector<double> &c, const std::vector<Complex> &A, const Dataset &data,
                   double *f) {
  for (std::size_t k = 0; k < data.size(); ++k) {
    const Complex e = turn(data.inputs[k]);
    Complex z = e;
    double fk = c[0] * A[0].real();
    for (std::size_t l = 1; l < c.size(); ++l, z *= e)
      fk += 2 * c[l] * (z.real() * A[l].real() - z.imag() * A[l].imag());
    f[k] += fk;
  }
}
} // namespace

FourierFilterFeature::FourierFilterFeature(std::vector<double> coefficients, std::string name)
    : c(std::move(coefficients))
    , filter_name(std::move(name)) {
  require(!c.empty(), "A Fourier filter needs at least the coefficient c_0.");
}

FourierFilterFeature FourierFilterFeature::dirichlet(const unsigned int cutoff_frequency) {
  // (M8): ψ(u) = Σ_{|l| ≤ f_c} e^{2iπlu}
  return FourierFilterFeature(std::vector<double>(cutoff_frequency + 1, 1.0),
                              "Dirichlet kernel f_c=" + std::to_string(cutoff_frequency));
}

FourierFilterFeature FourierFilterFeature::gaussian(const double width) {
  require(width > 0 && width <= 0.5, "The Gaussian filter width must lie in (0, 0.5].");
  // Fourier coefficients of Σ_p exp(−(u − p)²/(2s²)): √(2π) s exp(−2π²s²l²), kept while
  // above 1e-17 c_0 (the truncation error is then below round-off).
  std::vector<double> coefficients;
  const double c0 = std::sqrt(2 * M_PI) * width;
  for (unsigned int l = 0;; ++l) {
    const double cl = c0 * std::exp(-2 * M_PI * M_PI * width * width * l * l);
    if (l > 0 && cl < 1e-17 * c0)
      break;
    coefficients.push_back(cl);
  }
  return FourierFilterFeature(std::move(coefficients),
                              "periodic Gaussian s=" + std::to_string(width));
}

double FourierFilterFeature::filter(const double u) const {
  double psi = c[0];
  for (std::size_t l = 1; l < c.size(); ++l)
    psi += 2 * c[l] * std::cos(2 * M_PI * l * u);
  return psi;
}

double FourierFilterFeature::filter_derivative(const double u) const {
  double dpsi = 0.0;
  for (std::size_t l = 1; l < c.size(); ++l)
    dpsi -= 4 * M_PI * l * c[l] * std::sin(2 * M_PI * l * u);
  return dpsi;
}

// φ = r ψ(s − x), ∂_x φ = −r ψ'(s − x), ∂_r φ = ψ(s − x)   (doc/theory.md §3.1)
void FourierFilterFeature::evaluate(const double *theta, const Dataset &data, double *values,
                                    double *gradients) const {
  const double x = theta[0], r = theta[1];
  for (std::size_t k = 0; k < data.size(); ++k) {
    const double u = data.inputs[k] - x;
    const double psi = filter(u);
    values[k] = r * psi;
    if (gradients != nullptr) {
      gradients[2 * k] = -r * filter_derivative(u);
      gradients[2 * k + 1] = psi;
    }
  }
}

// (M1) through the moments A_l = Σ_j w_j r_j e^{−2iπlx_j}:
//   f_k += c_0 Re A_0 + 2 Σ_{l≥1} c_l Re(e^{2iπls_k} A_l).
void FourierFilterFeature::add_prediction(const WeightedCloud &cloud, const Dataset &data,
                                          double *f) const {
  const std::size_t L = c.size() - 1;
  std::vector<double> moments(2 * (L + 1), 0.0); // (Re A_l, Im A_l)
  reduce_over_blocks(cloud.size(), 1024, moments.size(), moments.data(),
                     [&](std::size_t begin, std::size_t end, double *A) {
                       for (std::size_t j = begin; j < end; ++j) {
                         const double *theta = cloud.position(j);
                         const Complex e = turn(-theta[0]);
                         Complex z = cloud.weights[j] * theta[1];
                         for (std::size_t l = 0; l <= L; ++l, z *= e) {
                           A[2 * l] += z.real();
                           A[2 * l + 1] += z.imag();
                         }
                       }
                     });
  std::vector<Complex> A(L + 1);
  for (std::size_t l = 0; l <= L; ++l)
    A[l] = Complex(moments[2 * l], moments[2 * l + 1]);
  add_synthesis(c, A, data, f);
}

// Data part of (M3) through B_l = Σ_k h_k e^{2iπls_k}: with z_l = e^{−2iπlx} B_l,
//   G(x) = Σ_k h_k ψ(s_k − x) = c_0 Re B_0 + 2 Σ c_l Re z_l,  G'(x) = 4π Σ l c_l Im z_l,
//   F'_R = r G(x),  ∂_x F'_R = r G'(x),  ∂_r F'_R = G(x).
void FourierFilterFeature::contract(const PointSet &queries, const Dataset &data, const double *h,
                                    double *values, double *gradients) const {
  const std::vector<Complex> B = data_moments(c.size() - 1, data, h);
  for_each_block(queries.size(), 1024, [&](std::size_t begin, std::size_t end, std::size_t) {
    for (std::size_t q = begin; q < end; ++q) {
      const double r = queries[q][1];
      double G, dG;
      filter_sum(c, B, queries[q][0], G, dG);
      values[q] = r * G;
      if (gradients != nullptr) {
        gradients[2 * q] = r * dG;
        gradients[2 * q + 1] = G;
      }
    }
  });
}

// (M1) on a grid of (x_i, r_j): A_l = Σ_i e^{−2iπlx_i} S_i with S_i = Σ_{q at x_i} w_q r_q, so
// one complex exponential per distinct position instead of one per point.
void FourierFilterFeature::add_prediction(const GridPointSet &points, const double *weights,
                                          const Dataset &data, double *f) const {
  const std::vector<double> &xs = points.axes[0];
  std::vector<double> S(xs.size(), 0.0);
  const double *rs = points.axes[1].data();
  if (points.full_tensor) { // point (i, j) = i + j n_x: unit-stride rows
    const std::size_t nx = xs.size(), nr = points.axes[1].size();
    for (std::size_t j = 0; j < nr; ++j) {
      const double r = rs[j];
      const double *w = weights + j * nx;
      for (std::size_t i = 0; i < nx; ++i)
        S[i] += w[i] * r;
    }
  } else {
    const std::uint32_t *index = points.index.data();
    for (std::size_t q = 0; q < points.size(); ++q)
      S[index[2 * q]] += weights[q] * rs[index[2 * q + 1]];
  }
  const std::size_t L = c.size() - 1;
  std::vector<Complex> A(L + 1, 0.0);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Complex e = turn(-xs[i]);
    Complex z = S[i];
    for (std::size_t l = 0; l <= L; ++l, z *= e)
      A[l] += z;
  }
  add_synthesis(c, A, data, f);
}

// Data part of (M3) on a grid: G and G' once per distinct position, then r G, (r G', G) per point.
void FourierFilterFeature::contract(const GridPointSet &queries, const Dataset &data,
                                    const double *h, double *values, double *gradients) const {
  const std::vector<Complex> B = data_moments(c.size() - 1, data, h);
  const std::vector<double> &xs = queries.axes[0];
  std::vector<double> G(xs.size()), dG(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i)
    filter_sum(c, B, xs[i], G[i], dG[i]);
  const double *rs = queries.axes[1].data();
  if (queries.full_tensor) { // point (i, j) = i + j n_x: unit-stride rows
    const std::size_t nx = xs.size(), nr = queries.axes[1].size();
    for (std::size_t j = 0; j < nr; ++j) {
      const double r = rs[j];
      double *v = values + j * nx;
      for (std::size_t i = 0; i < nx; ++i)
        v[i] = r * G[i];
      if (gradients != nullptr) {
        double *g = gradients + 2 * j * nx;
        for (std::size_t i = 0; i < nx; ++i) {
          g[2 * i] = r * dG[i];
          g[2 * i + 1] = G[i];
        }
      }
    }
    return;
  }
  const std::uint32_t *index = queries.index.data();
  const std::size_t n = queries.size();
  if (gradients == nullptr)
    for (std::size_t q = 0; q < n; ++q)
      values[q] = rs[index[2 * q + 1]] * G[index[2 * q]];
  else
    for (std::size_t q = 0; q < n; ++q) {
      const double r = rs[index[2 * q + 1]];
      const std::uint32_t i = index[2 * q];
      values[q] = r * G[i];
      gradients[2 * q] = r * dG[i];
      gradients[2 * q + 1] = G[i];
    }
}

// One column on a grid: ∂_x F'_R = r G'(x), ∂_r F'_R = G(x).
void FourierFilterFeature::contract_partial(const GridPointSet &queries, const Dataset &data,
                                            const double *h, const unsigned int i,
                                            double *out) const {
  const std::vector<Complex> B = data_moments(c.size() - 1, data, h);
  const std::vector<double> &xs = queries.axes[0];
  std::vector<double> G(xs.size()), dG(xs.size());
  for (std::size_t a = 0; a < xs.size(); ++a)
    filter_sum(c, B, xs[a], G[a], dG[a]);
  const double *rs = queries.axes[1].data();
  if (queries.full_tensor) { // point (a, j) = a + j n_x: unit-stride rows
    const std::size_t nx = xs.size(), nr = queries.axes[1].size();
    for (std::size_t j = 0; j < nr; ++j) {
      double *o = out + j * nx;
      if (i == 0)
        for (std::size_t a = 0; a < nx; ++a)
          o[a] = rs[j] * dG[a];
      else
        std::copy(G.begin(), G.end(), o);
    }
    return;
  }
  const std::uint32_t *index = queries.index.data();
  const std::size_t n = queries.size();
  for (std::size_t q = 0; q < n; ++q)
    out[q] = i == 0 ? rs[index[2 * q + 1]] * dG[index[2 * q]] : G[index[2 * q]];
}
} // namespace MeanField
