#include "train/stop_signal.h"

#include <signal.h>

#include <csignal>

namespace zoo {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

// SIGHUP too: a closed terminal or a dropped ssh session should stop a run the way Ctrl-C does,
// with its checkpoint, not kill it between two.
constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  // async-signal-safe: the next signal takes the default action
  for (const int stop : kStopSignals) sigaction(stop, &dfl, nullptr);
}

}  // namespace

void install_stop_handlers() {
  g_stop_signal = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // a read or write in progress is not interrupted
  for (const int stop : kStopSignals) sigaction(stop, &sa, nullptr);
}

int stop_signal() { return g_stop_signal; }

void request_stop(int sig) { g_stop_signal = sig; }

}  // namespace zoo
