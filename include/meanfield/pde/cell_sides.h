#pragma once

#include <array>
#include <cstddef>
#include <vector>

namespace MeanField {
template <int dim>
struct FaceTable;

/**
 * The faces of a face table seen from its owned cells (M9, doc/theory.md §4.1), so that the sums
 * over a cell's faces — the mass rate, the minmod neighbour means, the outgoing rate — are
 * gathers over the cells rather than scatters over the faces, and vectorize.
 *
 * Side k = 2i + s of a cell is its lower (s = 0) or upper (s = 1) side in direction i. A side has
 * one face, `face[k][c]` (on an upper side the table's slot of c, FaceTable::direction_begin),
 * unless the cell is coarser than its neighbours there: the further
 * 2^(dim−1) − 1 fine faces are then listed in `extra` (none on a uniform mesh; the cells at
 * level changes on a refined one). On a side of c the face's other cell is `neighbour[k][c]`
 * (the outside at a wall), and `weight[k][c]` its share |f|/Σ|f| of the side's area over the
 * faces that join two cells (0 at a wall); `inverse_distance[k][c]` is Σ|f| / Σ|f|δ_f, the
 * inverse of the area-weighted mean centre distance (0 at a wall): the minmod geometry (M9d).
 */
struct CellSides {
  struct Extra {
    unsigned int cell, side, face, neighbour;
    double weight;
  };
  std::vector<std::vector<unsigned int>> face, neighbour;
  std::vector<std::vector<double>> weight, inverse_distance;
  std::vector<Extra> extra;
};

/// The sides of the owned cells of @p table.
template <int dim>
CellSides build_cell_sides(const FaceTable<dim> &table);
} // namespace MeanField
