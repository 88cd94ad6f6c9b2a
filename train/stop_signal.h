#pragma once
// Graceful stop, as Lightning and the HF Trainer do it: the first SIGINT, SIGTERM or SIGHUP (a
// closed terminal) asks training
// to stop after the current step (the trainer then writes last.pt and returns); the handler
// restores the default action, so a second signal ends the process at once.
namespace zoo {

void install_stop_handlers();
// The signal received since install_stop_handlers(), or 0.
int stop_signal();
// For tests: as if `sig` had arrived (0 clears).
void request_stop(int sig);

}  // namespace zoo
