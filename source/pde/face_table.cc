// The face table of a locally refined Cartesian mesh (doc/theory.md §4.1): cells, faces, hanging
// faces split into the fine cells' faces, walls and periodic faces, and the kernel's point sets.
#include <meanfield/base/exceptions.h>
#include <meanfield/pde/face_table.h>

#include <deal.II/base/geometry_info.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace MeanField {
using namespace dealii;

namespace {
/// Coordinates on the dyadic grid of h_0 / 2^12: the same bits for a point however it was
/// computed (cell or face, this rank or another), and the kinks of V exactly.
template <int dim>
struct DyadicGrid {
  const std::vector<double> &lower, &upper;
  const std::array<double, dim> &coarse_h;
  const std::vector<Kink> &kinks;
  static constexpr double subdivision = 4096.0;

  double snap(const unsigned int i, const double x) const {
    const double n = std::round((upper[i] - lower[i]) / coarse_h[i]) * subdivision;
    const double q = std::round((x - lower[i]) / (upper[i] - lower[i]) * n);
    const double y = lower[i] + (upper[i] - lower[i]) * q / n;
    for (const Kink &kink : kinks)
      if (kink.coordinate == i && std::abs(y - kink.value) <= 1e-8 * coarse_h[i] / subdivision)
        return kink.value;
    return y;
  }
};

template <int dim>
class FaceTableBuilder {
public:
  using Cell = typename DoFHandler<dim>::active_cell_iterator;

  FaceTableBuilder(FaceTable<dim> &table, const std::map<types::global_dof_index, int> &local_of,
                   const std::vector<double> &lower, const std::vector<double> &upper,
                   const std::vector<BoundaryType> &boundary, const std::vector<Kink> &kinks,
                   const KinkTreatment treatment, const std::array<double, dim> &coarse_h,
                   const unsigned int base_level)
      : t(table)
      , local_of(local_of)
      , lower(lower)
      , upper(upper)
      , boundary(boundary)
      , kinks(kinks)
      , treatment(treatment)
      , grid{lower, upper, coarse_h, kinks}
      , base_level(base_level) {}

  void add_cell(const Cell &cell) {
    const unsigned int c = local(cell);
    for (unsigned int i = 0; i < dim; ++i) {
      t.centre[i][c] = grid.snap(i, cell->center()[i]);
      t.half_width[i][c] = 0.5 * cell->extent_in_direction(i);
    }
    double v = 1.0;
    for (unsigned int i = 0; i < dim; ++i)
      v *= 2.0 * t.half_width[i][c];
    t.volume[c] = v;
    t.level[c] = static_cast<unsigned char>(cell->level() - base_level);
    t.finest_level = std::max(t.finest_level, t.level[c]);
  }

  void add_faces(const Cell &cell) {
    for (unsigned int f = 0; f < GeometryInfo<dim>::faces_per_cell; ++f) {
      const unsigned int i = f / 2;
      const bool up = f % 2 == 1;
      const bool periodic = cell->has_periodic_neighbor(f);
      if (cell->at_boundary(f) && !periodic) {
        add_wall(cell, i, up);
        continue;
      }
      const auto neighbor = cell->neighbor_or_periodic_neighbor(f);
      if (!neighbor->has_children()) {
        add_pair(cell, neighbor, i, up, periodic && cell->at_boundary(f));
        continue;
      }
      for (unsigned int sf = 0; sf < GeometryInfo<dim>::max_children_per_face; ++sf) {
        const auto child = periodic && cell->at_boundary(f)
                               ? cell->periodic_neighbor_child_on_subface(f, sf)
                               : cell->neighbor_child_on_subface(f, sf);
        add_pair(cell, child, i, up, periodic && cell->at_boundary(f));
      }
    }
  }

private:
  FaceTable<dim> &t;
  const std::map<types::global_dof_index, int> &local_of;
  const std::vector<double> &lower, &upper;
  const std::vector<BoundaryType> &boundary;
  const std::vector<Kink> &kinks;
  const KinkTreatment treatment;
  const DyadicGrid<dim> grid;
  const unsigned int base_level;
  std::vector<types::global_dof_index> index = std::vector<types::global_dof_index>(1);

  template <typename Iterator>
  unsigned int local(const Iterator &cell) {
    cell->get_dof_indices(index);
    const auto found = local_of.find(index[0]);
    AssertThrow(found != local_of.end(), ExcMessage("face neighbour outside the ghost layer"));
    return static_cast<unsigned int>(found->second);
  }

  double face_area(const unsigned int c, const unsigned int i) const {
    double a = 1.0;
    for (unsigned int j = 0; j < dim; ++j)
      if (j != i)
        a *= 2.0 * t.half_width[j][c];
    return a;
  }

  /// The centre of the face of cell @p c normal to e_i at coordinate @p position; tangential
  /// coordinates on a kink of V where the face touches it (Kink treatment = trapped velocity).
  std::array<double, dim> face_point(const unsigned int c, const unsigned int i,
                                     const double position) const {
    std::array<double, dim> p;
    for (unsigned int j = 0; j < dim; ++j)
      p[j] = j == i ? position : t.centre[j][c];
    if (treatment == KinkTreatment::trapped_velocity)
      for (const Kink &kink : kinks)
        if (kink.coordinate != i && std::abs(p[kink.coordinate] - kink.value) <=
                                        t.half_width[kink.coordinate][c] * (1.0 + 1e-8))
          p[kink.coordinate] = kink.value;
    return p;
  }

  void push_face(const unsigned int a, const unsigned int b, const unsigned int i,
                 const double area, const double distance, const bool counted,
                 const std::array<double, dim> &point, const BoundaryType wall_type,
                 const bool wall) {
    faces_of_direction[i].push_back(static_cast<unsigned int>(t.lower.size()));
    t.lower.push_back(a);
    t.upper.push_back(b);
    t.direction.push_back(i);
    t.area.push_back(area);
    t.distance.push_back(distance);
    t.counted.push_back(counted);
    t.outflow.push_back(wall && wall_type == BoundaryType::outflow);
    t.no_flux.push_back(wall && wall_type != BoundaryType::outflow);
    points[i].push_back(point.data());
  }

  void add_wall(const Cell &cell, const unsigned int i, const bool up) {
    const unsigned int c = local(cell);
    t.wall[i][c] = 1;
    push_face(up ? c : t.outside(), up ? t.outside() : c, i, face_area(c, i),
              2.0 * t.half_width[i][c], true, face_point(c, i, up ? upper[i] : lower[i]),
              boundary[i], true);
  }

  template <typename Neighbor>
  void add_pair(const Cell &cell, const Neighbor &neighbor, const unsigned int i, const bool up,
                const bool periodic) {
    const unsigned int k = local(cell), n = local(neighbor);
    const bool neighbor_owned = n < t.n_owned;
    if (neighbor_owned && !up)
      return; // the neighbour's upper face: recorded from its side
    const unsigned int a = up ? k : n, b = up ? n : k;
    // the face is the smaller cell's (a fine face of a hanging one)
    const unsigned int s = neighbor->level() > cell->level() ? n : k;
    const double position =
        periodic ? lower[i]
                 : grid.snap(i, t.centre[i][s] + (s == a ? 1.0 : -1.0) * t.half_width[i][s]);
    double distance = t.centre[i][b] - t.centre[i][a];
    if (periodic)
      distance += upper[i] - lower[i];
    push_face(a, b, i, face_area(s, i), distance, a < t.n_owned, face_point(s, i, position),
              boundary[i], false);
  }

public:
  /// Per direction the faces normal to it and their centres, in the order of push_face().
  std::array<std::vector<unsigned int>, dim> faces_of_direction;
  std::array<PointSet, dim> points{[] {
    std::array<PointSet, dim> p;
    for (auto &set : p)
      set = PointSet(dim);
    return p;
  }()};
};
/// Per direction the slots first (the first upper face of each owned cell, in cell order: the
/// stepping loops read the cell's own values at the same index), then the other faces.
template <int dim>
void order_by_slots(FaceTable<dim> &t,
                    const std::array<std::vector<unsigned int>, dim> &faces_of_direction,
                    std::array<PointSet, dim> &points) {
  constexpr unsigned int none = std::numeric_limits<unsigned int>::max();
  std::vector<unsigned int> order;
  for (unsigned int i = 0; i < dim; ++i) {
    const std::vector<unsigned int> &list = faces_of_direction[i];
    std::vector<unsigned int> slot(t.n_owned, none);
    std::vector<unsigned char> is_slot(list.size(), 0);
    for (std::size_t q = 0; q < list.size(); ++q)
      if (const unsigned int a = t.lower[list[q]]; a < t.n_owned && slot[a] == none)
        slot[a] = static_cast<unsigned int>(q), is_slot[q] = 1;
    std::vector<unsigned int> rank; // positions within list, in the new order
    for (unsigned int c = 0; c < t.n_owned; ++c) {
      AssertThrow(slot[c] != none, ExcMessage("a cell without an upper face"));
      rank.push_back(slot[c]);
    }
    for (std::size_t q = 0; q < list.size(); ++q)
      if (!is_slot[q])
        rank.push_back(static_cast<unsigned int>(q));
    PointSet reordered(dim, rank.size());
    for (std::size_t k = 0; k < rank.size(); ++k) {
      order.push_back(list[rank[k]]);
      for (unsigned int j = 0; j < dim; ++j)
        reordered[k][j] = points[i][rank[k]][j];
    }
    points[i] = std::move(reordered);
    t.direction_begin[i + 1] = order.size();
  }
  auto permute = [&](auto &v) {
    auto copy = v;
    for (std::size_t k = 0; k < order.size(); ++k)
      v[k] = copy[order[k]];
  };
  permute(t.lower), permute(t.upper), permute(t.direction), permute(t.area);
  permute(t.distance), permute(t.counted), permute(t.outflow), permute(t.no_flux);
  for (std::size_t f = 0; f < t.n_faces(); ++f)
    if (t.is_wall(f))
      t.walls.push_back(static_cast<unsigned int>(f));
}
} // namespace

template <int dim>
FaceTable<dim>
build_face_table(const DoFHandler<dim> &dof_handler,
                 const std::map<types::global_dof_index, int> &local_of, const unsigned int n_owned,
                 const std::vector<double> &lower, const std::vector<double> &upper,
                 const std::vector<BoundaryType> &boundary, const std::vector<Kink> &kinks,
                 const KinkTreatment kink_treatment, const std::array<double, dim> &coarse_h,
                 const unsigned int base_level) {
  FaceTable<dim> t;
  t.n_owned = n_owned;
  t.n_local = static_cast<unsigned int>(local_of.size());
  const unsigned int n = t.n_local + 1; // and the outside
  t.volume.assign(n, 1.0);
  t.level.assign(n, 0);
  for (unsigned int i = 0; i < dim; ++i) {
    t.centre[i].assign(n, 0.0);
    t.half_width[i].assign(n, 0.0);
    t.wall[i].assign(n, 0);
  }
  FaceTableBuilder<dim> builder(t, local_of, lower, upper, boundary, kinks, kink_treatment,
                                coarse_h, base_level);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned() || cell->is_ghost())
      builder.add_cell(cell);
  for (const auto &cell : dof_handler.active_cell_iterators())
    if (cell->is_locally_owned())
      builder.add_faces(cell);
  order_by_slots<dim>(t, builder.faces_of_direction, builder.points);
  for (unsigned int i = 0; i < dim; ++i)
    t.face_points[i] = GridPointSet::from_points(builder.points[i]);
  PointSet owned_points(dim, n_owned), local_points(dim, t.n_local);
  for (unsigned int c = 0; c < t.n_local; ++c)
    for (unsigned int i = 0; i < dim; ++i) {
      local_points[c][i] = t.centre[i][c];
      if (c < n_owned)
        owned_points[c][i] = t.centre[i][c];
    }
  t.owned_centres = GridPointSet::from_points(owned_points);
  t.local_centres = GridPointSet::from_points(local_points);
  t.sides = build_cell_sides(t);
  return t;
}

#define MEANFIELD_INSTANTIATE(dim)                                                                 \
  template FaceTable<dim> build_face_table<dim>(                                                   \
      const DoFHandler<dim> &, const std::map<types::global_dof_index, int> &, unsigned int,       \
      const std::vector<double> &, const std::vector<double> &, const std::vector<BoundaryType> &, \
      const std::vector<Kink> &, KinkTreatment, const std::array<double, dim> &, unsigned int);
MEANFIELD_INSTANTIATE(1)
MEANFIELD_INSTANTIATE(2)
MEANFIELD_INSTANTIATE(3)
#undef MEANFIELD_INSTANTIATE
} // namespace MeanField
