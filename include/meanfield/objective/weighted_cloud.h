#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
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
 * Σ_j w_j δ_{θ_j} handed to the F' kernel (MATH §1). Particles carry w_j = 1/m,
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
 * Points of a tensor-product grid: point q has coordinates
 * (axes[0][index[q d]], ..., axes[d−1][index[q d + d − 1]]). Cell centres and face centres of a
 * Cartesian mesh are such sets, with far fewer distinct coordinates than points; features
 * whose structure separates in the coordinates (φ = r ψ(s − x)) evaluate them at the cost
 * of the distinct coordinates (see Feature::contract). Any point set can be written this way.
 */
struct GridPointSet {
  std::vector<std::vector<double>> axes;
  std::vector<std::uint32_t> index;

  unsigned int dim() const { return axes.size(); }
  std::size_t size() const { return axes.empty() ? 0 : index.size() / axes.size(); }
  double coordinate(const std::size_t q, const unsigned int i) const {
    return axes[i][index[q * axes.size() + i]];
  }

  /// The same points as a plain PointSet.
  PointSet expand() const {
    const unsigned int d = dim();
    PointSet points(d, size());
    for (std::size_t q = 0; q < size(); ++q)
      for (unsigned int i = 0; i < d; ++i)
        points[q][i] = coordinate(q, i);
    return points;
  }

  /**
   * The grid representation of @p points: per axis the sorted distinct coordinates (values
   * closer than @p tolerance times the axis' extent are merged), and every point's indices.
   */
  static GridPointSet from_points(const PointSet &points, double tolerance = 1e-12);
};
} // namespace MeanField
