#include <meanfield/base/interrupt.h>

#include <csignal>
#include <sstream>

namespace MeanField {
namespace {
volatile std::sig_atomic_t received = 0;
struct sigaction previous_int, previous_term;

extern "C" void record_signal(const int signal) {
  received = signal;
}
} // namespace

InterruptHandler::InterruptHandler() {
  struct sigaction action {};
  action.sa_handler = record_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART; // interrupted system calls (writes) are resumed, not failed
  sigaction(SIGINT, &action, &previous_int);
  sigaction(SIGTERM, &action, &previous_term);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int interrupt_signal(MPI_Comm comm) {
  int local = received, any = 0;
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, comm);
  return any;
}

Interrupted Interrupted::at(const int signal, const unsigned long step, const double time) {
  std::ostringstream where;
  where << "step " << step << ", t = " << time;
  return Interrupted(signal, where.str());
}

void check_interrupt(MPI_Comm comm, const unsigned long step, const double time) {
  if (const int signal = interrupt_signal(comm))
    throw Interrupted::at(signal, step, time);
}
} // namespace MeanField
