#include <meanfield/app/configuration.h>

namespace MeanField {
void Configuration::parse_parameters(dealii::ParameterHandler &prm) {
  run.parse_parameters(prm);
  pde.parse_parameters(prm);
  particles.parse_parameters(prm);
  comparison.parse_parameters(prm);
  study.parse_parameters(prm);
  paper.parse_parameters(prm);
}
} // namespace MeanField
