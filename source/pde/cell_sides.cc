// The faces of a face table by owned cell and side (doc/theory.md §4.1): the first face of each
// side, the further fine faces of coarse cells, and the minmod geometry of the side (M9d).
#include <meanfield/base/exceptions.h>
#include <meanfield/pde/cell_sides.h>
#include <meanfield/pde/face_table.h>

#include <limits>

namespace MeanField {
using namespace dealii;

template <int dim>
CellSides build_cell_sides(const FaceTable<dim> &t) {
  constexpr unsigned int none = std::numeric_limits<unsigned int>::max();
  const unsigned int n = t.n_owned;
  CellSides s;
  s.face.assign(2 * dim, std::vector<unsigned int>(n, none));
  s.neighbour.assign(2 * dim, std::vector<unsigned int>(n, t.outside()));
  s.weight.assign(2 * dim, std::vector<double>(n, 0.0));
  s.inverse_distance.assign(2 * dim, std::vector<double>(n, 0.0));
  std::vector<std::vector<double>> area(2 * dim, std::vector<double>(n, 0.0)), moment = area;
  const auto add = [&](const unsigned int c, const unsigned int k, const unsigned int f,
                       const unsigned int other) {
    if (c >= n)
      return; // a ghost or the outside: its sums are its owner's
    if (s.face[k][c] == none)
      s.face[k][c] = f, s.neighbour[k][c] = other;
    else
      s.extra.push_back({c, k, static_cast<unsigned int>(f), other, 0.0});
    if (!t.is_wall(f)) {
      area[k][c] += t.area[f];
      moment[k][c] += t.area[f] * t.distance[f];
    }
  };
  for (std::size_t f = 0; f < t.n_faces(); ++f) {
    const unsigned int i = t.direction[f], face = static_cast<unsigned int>(f);
    add(t.lower[f], 2 * i + 1, face, t.upper[f]);
    add(t.upper[f], 2 * i, face, t.lower[f]);
  }
  for (unsigned int k = 0; k < 2 * dim; ++k)
    for (unsigned int c = 0; c < n; ++c) {
      AssertThrow(s.face[k][c] != none, ExcMessage("a cell side without a face"));
      Assert(k % 2 == 0 || s.face[k][c] == t.direction_begin[k / 2] + c,
             ExcMessage("the first upper face of a cell is its slot"));
      if (area[k][c] > 0) {
        s.inverse_distance[k][c] = area[k][c] / moment[k][c];
        s.weight[k][c] = !t.is_wall(s.face[k][c]) ? t.area[s.face[k][c]] / area[k][c] : 0.0;
      }
    }
  for (CellSides::Extra &e : s.extra)
    e.weight = !t.is_wall(e.face) ? t.area[e.face] / area[e.side][e.cell] : 0.0;
  return s;
}

template CellSides build_cell_sides<1>(const FaceTable<1> &);
template CellSides build_cell_sides<2>(const FaceTable<2> &);
template CellSides build_cell_sides<3>(const FaceTable<3> &);
} // namespace MeanField
