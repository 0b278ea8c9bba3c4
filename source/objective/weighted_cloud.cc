#include <meanfield/objective/weighted_cloud.h>

#include <algorithm>
#include <cmath>

namespace MeanField {
GridPointSet GridPointSet::from_points(const PointSet &points, const double tolerance) {
  const unsigned int d = points.dim;
  const std::size_t n = points.size();
  GridPointSet grid;
  grid.axes.resize(d);
  grid.index.resize(n * d);
  for (unsigned int i = 0; i < d; ++i) {
    std::vector<double> values(n);
    for (std::size_t q = 0; q < n; ++q)
      values[q] = points[q][i];
    std::sort(values.begin(), values.end());
    const double merge = n > 0 ? tolerance * std::max(1.0, values.back() - values.front()) : 0.0;
    std::vector<double> &axis = grid.axes[i];
    for (const double v : values)
      if (axis.empty() || v - axis.back() > merge)
        axis.push_back(v);
    for (std::size_t q = 0; q < n; ++q) {
      // the axis value within `merge` of the coordinate
      const double v = points[q][i];
      auto it = std::lower_bound(axis.begin(), axis.end(), v - merge);
      grid.index[q * d + i] = static_cast<std::uint32_t>(it - axis.begin());
    }
  }
  return grid;
}
} // namespace MeanField
