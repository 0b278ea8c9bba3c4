#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

namespace MeanField {
/**
 * A set of points θ_j in parameter space R^d, stored row-major:
 * coordinates[j * dim + i] is the i-th coordinate of θ_j.
 *
 * The dimension is a run-time number on purpose: the PDE uses d = 1, 2, 3
 * (and converts its deal.II Point<dim> to this layout), while particles of a
 * two-layer network live in d = 1 + d_in with d_in up to a few hundred.
 */
struct PointSet {
  unsigned int dim = 0;
  std::vector<double> coordinates;

  PointSet() = default;
  explicit PointSet(const unsigned int dim, const std::size_t n = 0)
      : dim(dim)
      , coordinates(n * dim, 0.0) {}

  std::size_t size() const { return dim == 0 ? 0 : coordinates.size() / dim; }
  const double *operator[](const std::size_t j) const { return coordinates.data() + j * dim; }
  double *operator[](const std::size_t j) { return coordinates.data() + j * dim; }

  void push_back(const double *theta) { coordinates.insert(coordinates.end(), theta, theta + dim); }
  void push_back(std::initializer_list<double> theta) {
    coordinates.insert(coordinates.end(), theta.begin(), theta.end());
  }
};

/**
 * A weighted point cloud {(θ_j, w_j)}: the discrete (signed) measure
 * Σ_j w_j δ_{θ_j} handed to the F' kernel (doc/theory.md §1). Particles carry w_j = 1/m,
 * the PDE hands over cell centres (or quadrature points) with their masses.
 * Under MPI each rank holds its own part of the cloud.
 */
struct WeightedCloud {
  PointSet points;
  std::vector<double> weights;

  WeightedCloud() = default;
  explicit WeightedCloud(const unsigned int dim)
      : points(dim) {}

  unsigned int dim() const { return points.dim; }
  std::size_t size() const { return weights.size(); }
  const double *position(const std::size_t j) const { return points[j]; }
  double *position(const std::size_t j) { return points[j]; }

  void push_back(const double *theta, const double w) {
    points.push_back(theta);
    weights.push_back(w);
  }
  void push_back(std::initializer_list<double> theta, const double w) {
    points.push_back(theta);
    weights.push_back(w);
  }

  /// Σ_j w_j over the local part.
  double local_mass() const {
    double mass = 0.0;
    for (const double w : weights)
      mass += w;
    return mass;
  }
};
/**
 * Points of a tensor-product grid, in one of two forms:
 * - indexed: point q has coordinates (axes[0][index[q d]], ..., axes[d−1][index[q d + d − 1]]);
 *   any point set can be written this way (from_points());
 * - full tensor product (tensor_product()): every combination of the axis values, axis 0
 *   fastest, point q = Σ_i k_i stride(i); no index is stored.
 * Cell centres and face centres of a Cartesian mesh are such sets, with far fewer distinct
 * coordinates than points; features whose structure separates in the coordinates
 * (φ = r ψ(s − x)) evaluate them at the cost of the distinct coordinates (see
 * Feature::contract), and on a full tensor product with unit-stride loops.
 */
struct GridPointSet {
  std::vector<std::vector<double>> axes;
  std::vector<std::uint32_t> index; ///< d per point (indexed form), empty for a full tensor
  bool full_tensor = false;

  unsigned int dim() const { return axes.size(); }
  std::size_t size() const {
    if (!full_tensor)
      return axes.empty() ? 0 : index.size() / axes.size();
    std::size_t n = axes.empty() ? 0 : 1;
    for (const auto &axis : axes)
      n *= axis.size();
    return n;
  }
  /// Distance between consecutive values of axis i in a full tensor product.
  std::size_t stride(const unsigned int i) const {
    std::size_t s = 1;
    for (unsigned int j = 0; j < i; ++j)
      s *= axes[j].size();
    return s;
  }
  /// Index into axes[i] of point q (slow for a full tensor: for generic code paths).
  std::uint32_t axis_index(const std::size_t q, const unsigned int i) const {
    if (full_tensor)
      return static_cast<std::uint32_t>((q / stride(i)) % axes[i].size());
    return index[q * axes.size() + i];
  }
  double coordinate(const std::size_t q, const unsigned int i) const {
    return axes[i][axis_index(q, i)];
  }

  /// Calls f(q, k) for every point in order, k its d axis indices.
  template <typename Function>
  void for_each_point(const Function &f) const {
    const unsigned int d = dim();
    const std::size_t n = size();
    if (!full_tensor) {
      for (std::size_t q = 0; q < n; ++q)
        f(q, index.data() + q * d);
      return;
    }
    std::vector<std::uint32_t> k(d, 0);
    for (std::size_t q = 0; q < n; ++q) {
      f(q, k.data());
      for (unsigned int i = 0; i < d && ++k[i] == axes[i].size(); ++i)
        k[i] = 0; // odometer: axis 0 fastest
    }
  }

  /// The same points as a plain PointSet.
  PointSet expand() const {
    const unsigned int d = dim();
    PointSet points(d, size());
    for_each_point([&](const std::size_t q, const std::uint32_t *k) {
      for (unsigned int i = 0; i < d; ++i)
        points[q][i] = axes[i][k[i]];
    });
    return points;
  }

  /**
   * The grid representation of @p points: per axis the sorted distinct coordinates (values
   * closer than @p tolerance times the axis' extent are merged), and every point's indices.
   */
  static GridPointSet from_points(const PointSet &points, double tolerance = 1e-12);

  /// All combinations of the values of @p axes, axis 0 fastest.
  static GridPointSet tensor_product(std::vector<std::vector<double>> axes) {
    GridPointSet grid;
    grid.axes = std::move(axes);
    grid.full_tensor = true;
    return grid;
  }
};
} // namespace MeanField
