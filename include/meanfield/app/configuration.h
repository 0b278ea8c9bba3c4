#pragma once

#include <meanfield/app/parameters.h>
#include <meanfield/compare/comparison.h>
#include <meanfield/compare/study.h>
#include <meanfield/paper/experiment.h>
#include <meanfield/particles/parameters.h>
#include <meanfield/pde/parameters.h>

#include <deal.II/base/parameter_handler.h>

namespace MeanField {
/**
 * Every typed parameter struct of a run, parsed once from the read and checked parameter file:
 * the run modes take what they need from here, never from the ParameterHandler again.
 */
struct Configuration {
  RunParameters run;
  PdeParameters pde;
  ParticleParameters particles;
  ComparisonParameters comparison;
  StudyParameters study;
  PaperParameters paper;

  void parse_parameters(dealii::ParameterHandler &prm);
};
} // namespace MeanField
